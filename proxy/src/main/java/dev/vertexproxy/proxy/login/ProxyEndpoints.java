package dev.vertexproxy.proxy.login;

import dev.vertexproxy.proxy.login.page.PersonPageEndpoint;
import dev.vertexproxy.proxy.login.page.StaticAssets;
import dev.vertexproxy.proxy.reserved.ReservedRoutes;
import io.netty.handler.codec.http.HttpMethod;
import java.nio.file.Path;

/**
 * Every route the proxy answers itself, in one list: the issuer metadata, the login and the page for people, the CLI's
 * and the device flow's OAuth endpoints, and the STS-shaped token exchange. Without {@code sessions} there are none
 * (every reserved path is then a 404). Read top-down, this is the proxy's own API surface.
 */
public final class ProxyEndpoints {
  private ProxyEndpoints() {
  }

  /** The routes for {@code ctx}; {@link ReservedRoutes#none()} when the proxy is no issuer. */
  public static ReservedRoutes routes(LoginContext ctx) {
    if (ctx == null || ctx.issuer() == null) {
      return ReservedRoutes.none();
    }
    SessionIssuer issuer = ctx.issuer();
    ReservedRoutes.Builder b = ReservedRoutes.builder()
        // the proxy as an issuer
        .add(HttpMethod.GET, IssuerMetadata.DISCOVERY_PATH, IssuerMetadata.discovery(issuer))
        .add(HttpMethod.GET, IssuerMetadata.JWKS_PATH, IssuerMetadata.jwks(issuer));
    // browser login and the page for people
    BrowserLogin login = BrowserLogin.create(ctx);
    b.add(HttpMethod.GET, BrowserLogin.LOGIN_PATH, login)
        .add(HttpMethod.GET, BrowserLogin.CALLBACK_PATH, login.callback())
        .add(HttpMethod.POST, BrowserLogin.LOGOUT_PATH, new BrowserLogout(issuer, ctx.verifier(), ctx.blocking()))
        .add(HttpMethod.GET, BrowserLogin.HOME, new PersonPageEndpoint(issuer, ctx.verifier(), ctx.policy(), ctx.recent()))
        .add(HttpMethod.GET, StaticAssets.CSS_PATH, StaticAssets.css())
        .add(HttpMethod.GET, StaticAssets.JS_PATH, StaticAssets.js())
        // SDKs with no code change: Google STS's wire shape, for external_account credentials (vertex-proxy adc)
        .add(HttpMethod.POST, TokenExchange.PATH, new TokenExchange(ctx));
    // the CLI's login: loopback redirect with PKCE (RFC 8252) and the device flow (RFC 8628), one token endpoint
    // pending grants and codes live where replicas share the signing keys; with one fixed key file, in this replica
    Path shared = issuer.config().signingKeysDir();
    DeviceGrants devices = shared != null ? new DeviceGrantsInDirectory(shared) : new DeviceGrantsInMemory();
    CliAuthorizeCodes codes = shared != null ? new CliAuthorizeCodes(shared) : new CliAuthorizeCodes();
    DevicePageEndpoint device = new DevicePageEndpoint(issuer, ctx.verifier(), devices, ctx.blocking());
    CliAuthorizeEndpoint cli = new CliAuthorizeEndpoint(issuer, ctx.verifier(), codes, ctx.blocking());
    b.add(HttpMethod.POST, IssuerMetadata.DEVICE_AUTHORIZATION_PATH, new DeviceCodeEndpoint(issuer, devices,
            ctx.blocking()))
        .add(HttpMethod.GET, DeviceCodeEndpoint.PAGE_PATH, device.form())
        .add(HttpMethod.POST, DeviceCodeEndpoint.PAGE_PATH, device.lookup())
        .add(HttpMethod.POST, DevicePageEndpoint.CONFIRM_PATH, device.decide())
        .add(HttpMethod.GET, IssuerMetadata.AUTHORIZATION_PATH, cli.ask())
        .add(HttpMethod.POST, IssuerMetadata.AUTHORIZATION_PATH, cli.answer())
        .add(HttpMethod.POST, IssuerMetadata.TOKEN_PATH, new OAuthTokenEndpoint(issuer, devices, codes, ctx.blocking()))
        .add(HttpMethod.POST, IssuerMetadata.REVOCATION_PATH, new OAuthTokenRevokeEndpoint(issuer, ctx.verifier(),
            ctx.blocking()));
    return b.build();
  }
}

package dev.vertexproxy.proxy.login;

import dev.vertexproxy.proxy.identity.TokenVerifier;
import dev.vertexproxy.proxy.reason.Reason;
import dev.vertexproxy.proxy.reserved.ReservedEndpoint;
import dev.vertexproxy.proxy.reserved.ReservedRequest;
import dev.vertexproxy.proxy.reserved.ReservedResponse;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;

/**
 * {@code POST /_proxy/oauth/revoke}: RFC 7009 token revocation for the proxy's own tokens, so
 * {@code vertex-proxy logout} ends a session at the proxy (on every replica within the revocation list's refresh) and
 * not only on the laptop. The browser's {@code POST /_proxy/logout} needs the cookie; this needs only the token.
 *
 * <p>The CLI is a public client, so possession of the token is the authorization to revoke it: the {@code token} form
 * field is verified like any bearer, and a proxy session or access token that passes is revoked by its id until it
 * would have expired. As RFC 7009 §2.2 says, a token that is already invalid — expired, revoked, garbled — answers 200
 * as well: there is nothing left to revoke, and the answer tells a prober nothing. A valid token of another issuer is
 * {@code unsupported_token_type}: the proxy cannot revoke the IdP's tokens.
 */
public final class OAuthTokenRevokeEndpoint implements ReservedEndpoint {
  static final String AUDIT_METHOD = "proxy.oauth.revoke";

  private final SessionIssuer issuer;
  private final TokenVerifier verifier;
  private final Executor blocking;

  public OAuthTokenRevokeEndpoint(SessionIssuer issuer, TokenVerifier verifier, Executor blocking) {
    this.issuer = issuer;
    this.verifier = verifier;
    this.blocking = blocking;
  }

  @Override
  public CompletionStage<ReservedResponse> handle(ReservedRequest request) {
    String token;
    try {
      Map<String, List<String>> form = request.form();
      token = ReservedRequest.single(form, "token").orElse("");
      ReservedRequest.single(form, "token_type_hint");
    } catch (IllegalArgumentException e) {
      return done(error(400, "invalid_request", e.getMessage()));
    }
    if (token.isEmpty()) {
      return done(error(400, "invalid_request", "token is required"));
    }
    return verifier.verifyToken(token).handle((v, err) -> v).thenCompose(v -> {
      if (v == null) {
        return done(revoked());
      }
      if (!v.proxyIssued()) {
        return done(error(400, "unsupported_token_type", "only the proxy's own tokens can be revoked here")
            .caller(v.caller()));
      }
      Object session = v.caller().claims().get(TokenVerifier.PROXY_SESSION);
      Object id = session instanceof Map<?, ?> m ? m.get("id") : null;
      if (!(id instanceof String sessionId)) {
        return done(revoked().caller(v.caller()));
      }
      return CompletableFuture.supplyAsync(() -> {
        try {
          issuer.revocations().revokeSession(sessionId, v.expiresAt());
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
        return revoked().caller(v.caller());
      }, blocking);
    });
  }

  private static ReservedResponse revoked() {
    return ReservedResponse.status(200).json("{}").auditMethod(AUDIT_METHOD);
  }

  private static ReservedResponse error(int status, String code, String description) {
    return OAuthTokenEndpoint.error(status, code, description, Reason.GRANT_INVALID).auditMethod(AUDIT_METHOD);
  }

  private static CompletionStage<ReservedResponse> done(ReservedResponse r) {
    return CompletableFuture.completedFuture(r);
  }
}

package dev.vertexproxy.proxy.identity;

import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.util.JSONObjectUtils;
import com.nimbusds.jose.util.Resource;
import com.nimbusds.jose.util.ResourceRetriever;
import dev.vertexproxy.proxy.config.IssuerConfig;
import dev.vertexproxy.proxy.identity.IdentityException.Reason;
import java.io.IOException;
import java.net.URI;
import java.net.URL;
import java.text.ParseException;
import java.util.Map;

/**
 * Fetches one issuer's public JWK set over HTTP, blocking: from the configured {@code jwks_uri}, or from the one its
 * {@code /.well-known/openid-configuration} names. Call it only from a blocking executor.
 *
 * <p>Thread-safe: the discovered JWKS URI is remembered in a volatile field (a lost race only costs one extra
 * discovery request). A discovery document is trusted only if its {@code issuer} is exactly the configured one, so a
 * misconfigured or spoofed discovery endpoint cannot hand us someone else's keys.
 */
final class JwksFetcher {
  private final IssuerConfig issuer;
  private final ResourceRetriever http;
  private volatile URI jwksUri;

  JwksFetcher(IssuerConfig issuer, ResourceRetriever http) {
    this.issuer = issuer;
    this.http = http;
    this.jwksUri = issuer.jwksUri();
  }

  /** Returns the issuer's public signing keys; private and symmetric keys in the document are dropped. */
  JWKSet fetch() {
    URI uri = jwksUri != null ? jwksUri : discoverJwksUri();
    try {
      Resource resource = http.retrieveResource(uri.toURL());
      return JWKSet.parse(resource.getContent()).toPublicJWKSet();
    } catch (IOException | ParseException | IllegalArgumentException e) {
      throw new IdentityException(Reason.JWKS_UNAVAILABLE,
          "signing keys of issuer '" + issuer.name() + "' are unavailable", e);
    }
  }

  private URI discoverJwksUri() {
    URI discovery = URI.create(stripTrailingSlash(issuer.issuer().toString()) + "/.well-known/openid-configuration");
    try {
      Resource resource = http.retrieveResource(discovery.toURL());
      Map<String, Object> document = JSONObjectUtils.parse(resource.getContent());
      String announcedIssuer = JSONObjectUtils.getString(document, "issuer");
      if (!issuer.issuer().toString().equals(announcedIssuer)) {
        throw new IOException("discovery document of " + discovery + " names another issuer");
      }
      URI uri = JSONObjectUtils.getURI(document, "jwks_uri");
      if (uri == null) {
        throw new IOException("discovery document of " + discovery + " has no jwks_uri");
      }
      if ("https".equals(issuer.issuer().getScheme()) && !"https".equalsIgnoreCase(uri.getScheme())) {
        // Keys fetched in the clear could be swapped by anyone on the path: an https issuer must publish them over https.
        throw new IOException("discovery document of " + discovery + " announces a jwks_uri that is not https");
      }
      URL checked = uri.toURL(); // rejects relative and non-URL values before we store them
      jwksUri = URI.create(checked.toString());
      return jwksUri;
    } catch (IOException | ParseException | IllegalArgumentException e) {
      throw new IdentityException(Reason.ISSUER_UNAVAILABLE,
          "discovery document of issuer '" + issuer.name() + "' is unavailable", e);
    }
  }

  // The well-known path is appended to the issuer per OpenID Connect Discovery 1.0 section 4; an issuer written with
  // a trailing slash must not produce "//.well-known". Matching of iss itself stays exact elsewhere.
  private static String stripTrailingSlash(String s) {
    return s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
  }
}

package dev.vertexproxy.proxy.config;

import java.net.URI;
import java.util.List;

/**
 * One trusted OIDC issuer ({@code identity.issuers[]} in proxy.yaml).
 *
 * @param name       the name policy rules use ({@code identity.issuer: gitlab})
 * @param issuer     the exact {@code iss} value; also the base of {@code /.well-known/openid-configuration}
 * @param audiences  accepted {@code aud} values; at least one must be present in the token
 * @param algorithms allowed JWS algorithms (asymmetric only: RS*, PS*, ES*, EdDSA)
 * @param jwksUri    explicit JWKS URI, or {@code null} to discover it
 * @param shared     whether projects that do not trust each other get tokens from this issuer (gitlab.com): then
 *                   every allow rule for it must pin a namespace or project
 */
public record IssuerConfig(String name, URI issuer, List<String> audiences, List<String> algorithms, URI jwksUri,
    boolean shared) {
  public IssuerConfig {
    audiences = List.copyOf(audiences);
    algorithms = List.copyOf(algorithms);
  }

  /** An issuer that is {@link #sharedByDefault shared by default} only if it is gitlab.com. */
  public IssuerConfig(String name, URI issuer, List<String> audiences, List<String> algorithms, URI jwksUri) {
    this(name, issuer, audiences, algorithms, jwksUri, sharedByDefault(issuer));
  }

  /**
   * Whether {@code issuer} is https://gitlab.com, compared the way an {@code iss} would be meant: host in any case,
   * with or without a trailing slash or the default port. Every project on gitlab.com gets tokens from it.
   */
  public static boolean sharedByDefault(URI issuer) {
    if (issuer == null || issuer.getHost() == null || !"https".equalsIgnoreCase(issuer.getScheme())) {
      return false;
    }
    String path = issuer.getRawPath() == null ? "" : issuer.getRawPath();
    return "gitlab.com".equalsIgnoreCase(issuer.getHost()) && (issuer.getPort() == -1 || issuer.getPort() == 443)
        && path.matches("/*") && issuer.getRawQuery() == null && issuer.getRawFragment() == null
        && issuer.getRawUserInfo() == null;
  }
}

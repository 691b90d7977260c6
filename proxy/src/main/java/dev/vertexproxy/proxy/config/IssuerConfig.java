package dev.vertexproxy.proxy.config;

import java.net.URI;
import java.time.Duration;
import java.util.List;

/**
 * One trusted OIDC issuer ({@code identity.issuers[]} in proxy.yaml).
 *
 * @param name       the name policy rules use ({@code identity.issuer: gitlab})
 * @param issuer     the exact {@code iss} value; also the base of {@code /.well-known/openid-configuration}
 * @param audiences  accepted {@code aud} values; at least one must be present in the token
 * @param algorithms allowed JWS algorithms (asymmetric only: RS*, PS*, ES*, EdDSA)
 * @param jwksUri    explicit JWKS URI, or {@code null} to discover it
 * @param maxTokenLifetime tokens whose {@code exp - iat} is longer are refused ({@code max_token_lifetime})
 */
public record IssuerConfig(String name, URI issuer, List<String> audiences, List<String> algorithms, URI jwksUri,
    Duration maxTokenLifetime) {
  /** A GitLab ID token lives as long as its job; a day is beyond what CI jobs normally run. */
  public static final Duration DEFAULT_MAX_TOKEN_LIFETIME = Duration.ofHours(24);
  /**
   * The largest {@code max_token_lifetime} accepted at load: GitLab keeps a job's timeout under a month, so a larger
   * value can only be a mistake that switches the check off.
   */
  public static final Duration MAX_MAX_TOKEN_LIFETIME = Duration.ofDays(30);

  public IssuerConfig {
    audiences = List.copyOf(audiences);
    algorithms = List.copyOf(algorithms);
  }

  /** An issuer with the default {@link #DEFAULT_MAX_TOKEN_LIFETIME}. */
  public IssuerConfig(String name, URI issuer, List<String> audiences, List<String> algorithms, URI jwksUri) {
    this(name, issuer, audiences, algorithms, jwksUri, DEFAULT_MAX_TOKEN_LIFETIME);
  }
}

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
 */
public record IssuerConfig(String name, URI issuer, List<String> audiences, List<String> algorithms, URI jwksUri) {
  public IssuerConfig {
    audiences = List.copyOf(audiences);
    algorithms = List.copyOf(algorithms);
  }
}

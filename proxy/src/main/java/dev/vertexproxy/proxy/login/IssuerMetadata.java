package dev.vertexproxy.proxy.login;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vertexproxy.proxy.reserved.ReservedEndpoint;
import dev.vertexproxy.proxy.reserved.ReservedResponse;
import java.util.concurrent.CompletableFuture;

/**
 * The proxy's issuer metadata, so anything that verifies its tokens can find its keys the standard way:
 * {@code /.well-known/openid-configuration} (OpenID Connect Discovery 1.0 / RFC 8414: issuer, JWKS, the authorization,
 * token and device endpoints the CLI uses) and {@code /_proxy/jwks.json} (the public keys, rotated ones included).
 */
public final class IssuerMetadata {
  public static final String DISCOVERY_PATH = "/.well-known/openid-configuration";
  public static final String JWKS_PATH = "/_proxy/jwks.json";
  public static final String AUTHORIZATION_PATH = "/_proxy/cli/authorize";
  public static final String TOKEN_PATH = "/_proxy/oauth/token";
  public static final String DEVICE_AUTHORIZATION_PATH = "/_proxy/device/code";
  public static final String REVOCATION_PATH = "/_proxy/oauth/revoke";
  public static final String TOKEN_EXCHANGE_PATH = "/_proxy/sts/v1/token";
  private static final ObjectMapper JSON = new ObjectMapper();

  private IssuerMetadata() {
  }

  /** {@code GET /.well-known/openid-configuration}; the document is the same for every request, built once. */
  public static ReservedEndpoint discovery(SessionIssuer issuer) {
    String url = issuer.url();
    ObjectNode d = JSON.createObjectNode();
    d.put("issuer", url);
    d.put("jwks_uri", url + JWKS_PATH);
    d.put("authorization_endpoint", url + AUTHORIZATION_PATH);
    d.put("token_endpoint", url + TOKEN_PATH);
    d.put("device_authorization_endpoint", url + DEVICE_AUTHORIZATION_PATH);
    d.put("revocation_endpoint", url + REVOCATION_PATH);
    strings(d.putArray("response_types_supported"), "code");
    strings(d.putArray("grant_types_supported"), "authorization_code", "urn:ietf:params:oauth:grant-type:device_code",
        "urn:ietf:params:oauth:grant-type:token-exchange");
    strings(d.putArray("code_challenge_methods_supported"), "S256");
    strings(d.putArray("token_endpoint_auth_methods_supported"), "none");
    strings(d.putArray("subject_types_supported"), "public");
    strings(d.putArray("id_token_signing_alg_values_supported"), issuer.algorithm().getName());
    strings(d.putArray("scopes_supported"), "openid");
    String body = d.toPrettyString() + "\n";
    return request -> CompletableFuture.completedFuture(ReservedResponse.status(200).json(body)
        .header("Cache-Control", "public, max-age=300").auditMethod("proxy.openidConfiguration"));
  }

  /** {@code GET /_proxy/jwks.json}: the keys as they are now (a rotation shows within a minute). */
  public static ReservedEndpoint jwks(SessionIssuer issuer) {
    return request -> CompletableFuture.completedFuture(ReservedResponse.status(200)
        .body("application/jwk-set+json", issuer.jwks() + "\n").header("Cache-Control", "public, max-age=60")
        .auditMethod("proxy.jwks"));
  }

  private static void strings(ArrayNode a, String... values) {
    for (String v : values) {
      a.add(v);
    }
  }
}

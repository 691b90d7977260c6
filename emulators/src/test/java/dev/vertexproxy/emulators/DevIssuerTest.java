package dev.vertexproxy.emulators;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.SignedJWT;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The dev issuer over real HTTP on 127.0.0.1:0. */
class DevIssuerTest {
  private static final String AUDIENCE = "https://vertex-proxy.test";
  private static final ObjectMapper JSON = new ObjectMapper();

  private static DevIssuer issuer;
  private static HttpClient http;

  @BeforeAll
  static void start() {
    issuer = DevIssuer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), AUDIENCE);
    http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  }

  @AfterAll
  static void stop() {
    issuer.close();
  }

  @Test
  void issuerIsItsLoopbackBaseUrl() {
    assertThat(issuer.issuer().toString()).matches("http://127\\.0\\.0\\.1:\\d+");
    assertThat(issuer.issuer().getPort()).isPositive();
  }

  @Test
  void discoveryDocumentNamesIssuerAndJwks() throws Exception {
    HttpResponse<String> response = get(issuer.issuer().resolve("/.well-known/openid-configuration"));
    assertThat(response.statusCode()).isEqualTo(200);
    JsonNode document = JSON.readTree(response.body());

    assertThat(document.get("issuer").asText()).isEqualTo(issuer.issuer().toString());
    assertThat(document.get("jwks_uri").asText()).isEqualTo(issuer.jwksUri().toString());
    assertThat(document.get("id_token_signing_alg_values_supported").toString()).isEqualTo("[\"RS256\"]");
    assertThat(document.get("response_types_supported").isArray()).isTrue();
    assertThat(document.get("subject_types_supported").isArray()).isTrue();
  }

  @Test
  void jwksPublishesOnlyThePublicSigningKeyAndCountsFetches() throws Exception {
    int before = issuer.jwksFetches();
    for (URI uri : List.of(issuer.jwksUri(), issuer.issuer().resolve("/jwks"))) {
      HttpResponse<String> response = get(uri);
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.body()).doesNotContain("\"d\"").doesNotContain("\"p\"");
      RSAKey key = (RSAKey) JWKSet.parse(response.body()).getKeyByKeyId(issuer.signingKey().getKeyID());
      assertThat(key).isNotNull();
      assertThat(key.isPrivate()).isFalse();
      assertThat(key.getKeyUse().identifier()).isEqualTo("sig");
      assertThat(key.getAlgorithm().getName()).isEqualTo("RS256");
    }
    assertThat(issuer.jwksFetches()).isEqualTo(before + 2);
  }

  @Test
  void mintWithEmptyBodySignsGitLabLikeDefaults() throws Exception {
    HttpResponse<String> response = post(issuer.mintUri(), "");
    assertThat(response.statusCode()).isEqualTo(200);
    JsonNode answer = JSON.readTree(response.body());
    SignedJWT token = SignedJWT.parse(answer.get("token").asText());

    assertThat(token.verify(new RSASSAVerifier(issuer.signingKey().toRSAPublicKey()))).isTrue();
    assertThat(token.getHeader().getKeyID()).isEqualTo(issuer.signingKey().getKeyID());
    Map<String, Object> claims = token.getJWTClaimsSet().toJSONObject();
    assertThat(claims)
        .containsEntry("iss", issuer.issuer().toString())
        .containsEntry("aud", AUDIENCE)
        .containsEntry("sub", "project_path:acme/ml/forecasting:ref_type:branch:ref:main")
        .containsEntry("project_path", "acme/ml/forecasting")
        .containsEntry("namespace_path", "acme/ml")
        .containsEntry("user_login", "alice")
        .containsEntry("ref", "main")
        .containsEntry("ref_type", "branch")
        .containsEntry("ref_protected", "true")
        .containsEntry("pipeline_source", "push")
        .containsKeys("jti", "sha", "job_id", "pipeline_id", "runner_id", "ci_config_ref_uri", "project_id");
    long iat = token.getJWTClaimsSet().getIssueTime().toInstant().getEpochSecond();
    assertThat(token.getJWTClaimsSet().getExpirationTime().toInstant().getEpochSecond()).isEqualTo(iat + 300);
    assertThat(answer.get("claims").get("project_path").asText()).isEqualTo("acme/ml/forecasting");
  }

  @Test
  void mintOverridesClaimsAndRemovesNulls() throws Exception {
    String body = "{\"aud\":[\"a\",\"b\"],\"user_login\":\"bob\",\"user_email\":null,\"exp\":123,"
        + "\"iss\":\"https://elsewhere.example\",\"custom\":{\"x\":1}}";
    HttpResponse<String> response = post(issuer.mintUri(), body);
    assertThat(response.statusCode()).isEqualTo(200);
    JsonNode answer = JSON.readTree(response.body());
    Map<String, Object> claims = SignedJWT.parse(answer.get("token").asText()).getPayload().toJSONObject();

    assertThat(claims).containsEntry("aud", List.of("a", "b"))
        .containsEntry("user_login", "bob")
        .containsEntry("exp", 123L)
        .containsEntry("iss", "https://elsewhere.example")
        .containsEntry("custom", Map.of("x", 1L))
        .doesNotContainKey("user_email");
    assertThat(answer.get("claims").has("user_email")).isFalse();
    assertThat(answer.get("claims").get("exp").asLong()).isEqualTo(123);
  }

  @Test
  void inProcessMintHonoursNullRemovalToo() throws Exception {
    Map<String, Object> overrides = new HashMap<>();
    overrides.put("sub", null);
    overrides.put("ref", "feature");
    Map<String, Object> claims = SignedJWT.parse(issuer.mint(overrides)).getPayload().toJSONObject();
    assertThat(claims).doesNotContainKey("sub").containsEntry("ref", "feature");
  }

  @Test
  void badRequestsAnswerInGoogleErrorShape() throws Exception {
    assertError(post(issuer.mintUri(), "{not json"), 400, "INVALID_ARGUMENT");
    assertError(post(issuer.mintUri(), "[1,2]"), 400, "INVALID_ARGUMENT");
    assertError(get(issuer.mintUri()), 405, "INVALID_ARGUMENT");
    assertError(get(issuer.issuer().resolve("/nope")), 404, "NOT_FOUND");
    assertError(get(issuer.issuer().resolve("/workload-token")), 400, "INVALID_ARGUMENT");
  }

  @Test
  void workloadTokenIsPlainTextForTheGivenAudience() throws Exception {
    String audience = "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/q";
    HttpResponse<String> response = get(URI.create(issuer.workloadTokenUri() + "?audience="
        + URLEncoder.encode(audience, StandardCharsets.UTF_8)));
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("text/plain"));
    SignedJWT token = SignedJWT.parse(response.body());
    assertThat(token.verify(new RSASSAVerifier(issuer.signingKey().toRSAPublicKey()))).isTrue();
    assertThat(token.getJWTClaimsSet().getSubject()).isEqualTo(DevIssuer.WORKLOAD_SUBJECT);
    assertThat(token.getJWTClaimsSet().getAudience()).containsExactly(audience);
    assertThat(token.getJWTClaimsSet().getIssuer()).isEqualTo(issuer.issuer().toString());
  }

  @Test
  void rotationPublishesTheNewKeyAndOptionallyTheOld() throws Exception {
    try (DevIssuer rotating = DevIssuer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), AUDIENCE)) {
      String first = rotating.signingKey().getKeyID();
      rotating.rotateKey();
      String second = rotating.signingKey().getKeyID();
      assertThat(second).isNotEqualTo(first);
      assertThat(kids(rotating)).containsExactly(second, first);
      assertThat(SignedJWT.parse(rotating.mint(Map.of())).getHeader().getKeyID()).isEqualTo(second);

      rotating.rotateKey(false);
      assertThat(kids(rotating)).containsExactly(rotating.signingKey().getKeyID());
    }
  }

  private static List<String> kids(DevIssuer devIssuer) throws Exception {
    return JWKSet.parse(get(devIssuer.jwksUri()).body()).getKeys().stream().map(k -> k.getKeyID()).toList();
  }

  private static void assertError(HttpResponse<String> response, int code, String status) throws Exception {
    assertThat(response.statusCode()).isEqualTo(code);
    JsonNode error = JSON.readTree(response.body()).get("error");
    assertThat(error.get("code").asInt()).isEqualTo(code);
    assertThat(error.get("status").asText()).isEqualTo(status);
    assertThat(error.get("message").asText()).isNotBlank();
  }

  private static HttpResponse<String> get(URI uri) throws Exception {
    return http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static HttpResponse<String> post(URI uri, String body) throws Exception {
    return http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }
}

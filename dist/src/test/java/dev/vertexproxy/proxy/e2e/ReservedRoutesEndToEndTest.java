package dev.vertexproxy.proxy.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.nimbusds.jose.jwk.JWKSet;
import dev.vertexproxy.proxy.audit.AuditVerifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The proxy's own routes on raw sockets, against a {@link RecordingUpstream} standing in for Vertex: its issuer
 * metadata is served with the protective headers and one audit record each, and nothing under {@code /_proxy/} or
 * {@code /.well-known/} — known, unknown, oddly spelled, with a body too large, with a valid caller token — ever
 * reaches Google.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ReservedRoutesEndToEndTest {
  private static final Duration QUIET = Duration.ofSeconds(3);
  private static final String ISSUER = "https://vertex-proxy.test";

  private Path tmp;
  private RecordingUpstream up;
  private DevStack stack;

  @BeforeAll
  void start() throws Exception {
    tmp = Files.createTempDirectory("reserved-routes-test");
    up = new RecordingUpstream();
    stack = DevStack.start(tmp, "upstream: { url_template: 'http://127.0.0.1:" + up.port() + "' }\n"
        + "sessions: { issuer: '" + ISSUER + "', signing_keys_dir: '" + tmp.resolve("keys") + "' }\n");
    stack.awaitReady();
  }

  @AfterAll
  void stop() throws Exception {
    stack.dev.close();
    up.close();
    AuditVerifier.VerifyResult verified = AuditVerifier.verify(stack.auditDir());
    assertThat(verified.ok()).as("audit chain: %s", verified.firstProblem()).isTrue();
  }

  @BeforeEach
  void resetUpstream() {
    up.reset();
  }

  private RawCaller.Response send(String raw) throws Exception {
    try (RawCaller c = new RawCaller(stack.proxyUrl())) {
      return c.send(raw).read(QUIET);
    }
  }

  private static String header(RawCaller.Response r, String name) {
    List<String> v = r.headers().get(name.toLowerCase(Locale.ROOT));
    return v == null ? null : String.join(", ", v);
  }

  private JsonNode record(RawCaller.Response r) throws Exception {
    String id = header(r, "x-vertex-proxy-request-id");
    assertThat(id).as("request id header").isNotNull();
    List<JsonNode> records = stack.awaitAudit(List.of(id));
    assertThat(records).hasSize(1);
    return records.get(0);
  }

  @Test
  void discoveryDocumentNamesTheProxyAsIssuerAndIsAudited() throws Exception {
    RawCaller.Response r = send("GET /.well-known/openid-configuration HTTP/1.1\r\nHost: x\r\n\r\n");
    assertThat(r.status()).isEqualTo(200);
    JsonNode doc = DevStack.JSON.readTree(r.body());
    assertThat(doc.path("issuer").asText()).isEqualTo(ISSUER);
    assertThat(doc.path("jwks_uri").asText()).isEqualTo(ISSUER + "/_proxy/jwks.json");
    assertThat(doc.path("code_challenge_methods_supported").toString()).isEqualTo("[\"S256\"]");
    assertThat(header(r, "x-frame-options")).isEqualTo("DENY");
    assertThat(header(r, "content-security-policy")).contains("frame-ancestors 'none'");
    assertThat(header(r, "x-content-type-options")).isEqualTo("nosniff");
    JsonNode rec = record(r);
    assertThat(rec.path("method").asText()).isEqualTo("proxy.openidConfiguration");
    assertThat(rec.path("reason").asText()).isEqualTo("served");
    assertThat(rec.path("status").asInt()).isEqualTo(200);
    assertThat(up.requests).isEmpty();
  }

  @Test
  void jwksPublishesOnlyPublicKeys() throws Exception {
    RawCaller.Response r = send("GET /_proxy/jwks.json HTTP/1.1\r\nHost: x\r\n\r\n");
    assertThat(r.status()).isEqualTo(200);
    JWKSet keys = JWKSet.parse(r.body());
    assertThat(keys.getKeys()).isNotEmpty().allSatisfy(k -> assertThat(k.isPrivate()).isFalse());
    assertThat(r.body()).doesNotContain("\"d\"", "\"p\"", "\"q\"");
    assertThat(header(r, "cache-control")).isEqualTo("public, max-age=60");
  }

  @Test
  void aKnownRouteWithAnotherMethodIs405WithAllow() throws Exception {
    RawCaller.Response r = send("POST /.well-known/openid-configuration HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}");
    assertThat(r.status()).isEqualTo(405);
    assertThat(header(r, "allow")).isEqualTo("GET");
    assertThat(record(r).path("reason").asText()).isEqualTo("method-not-allowed");
    assertThat(up.requests).isEmpty();
  }

  @Test
  void unknownAndOddlySpelledReservedPathsAre404AndNeverForwarded() throws Exception {
    String token = stack.mint(Map.of());
    for (String target : List.of("/_proxy/nope", "/_proxy", "/.well-known/", "/_proxy/jwks.json/",
        "/_proxy//jwks.json", "/_proxy/%6Awks.json", "/_proxy/../v1/projects/dev-project/locations/us-central1/endpoints",
        "/.well-known/openid-configuration/../../" + stack.examplePath().substring(1))) {
      RawCaller.Response r = send("GET " + target + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token + "\r\n\r\n");
      assertThat(r.status()).as(target).isIn(400, 404);
      assertThat(header(r, "cache-control")).as(target).isEqualTo("no-store");
    }
    assertThat(up.requests).as("what reached Vertex").isEmpty();
  }

  @Test
  void aBadlyEncodedQueryIs400AndTheConnectionStaysUsable() throws Exception {
    try (RawCaller c = new RawCaller(stack.proxyUrl())) {
      RawCaller.Response bad = c.send("GET /_proxy/jwks.json?x=%zz HTTP/1.1\r\nHost: x\r\n\r\n").read(QUIET);
      assertThat(bad.status()).isEqualTo(400);
      assertThat(bad.body()).contains("INVALID_ARGUMENT", "request-malformed");
      RawCaller.Response next = c.send("GET /_proxy/jwks.json HTTP/1.1\r\nHost: x\r\n\r\n").read(QUIET);
      assertThat(next.status()).isEqualTo(200);
    }
    assertThat(up.requests).isEmpty();
  }

  @Test
  void aBodyLargerThanReservedRoutesReadIs413() throws Exception {
    RawCaller.Response declared = send("POST /_proxy/jwks.json HTTP/1.1\r\nHost: x\r\nContent-Length: 70000\r\n\r\n");
    assertThat(declared.status()).isIn(405, 413);
    String chunk = "x".repeat(8192);
    StringBuilder chunked = new StringBuilder("GET /_proxy/jwks.json HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (int i = 0; i < 9; i++) {
      chunked.append(Integer.toHexString(chunk.length())).append("\r\n").append(chunk).append("\r\n");
    }
    chunked.append("0\r\n\r\n");
    RawCaller.Response r = send(chunked.toString());
    assertThat(r.status()).isEqualTo(413);
    assertThat(up.requests).isEmpty();
  }
}

package dev.vertexproxy.proxy.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import dev.vertexproxy.proxy.audit.AuditVerifier;
import dev.vertexproxy.proxy.cli.Main;
import dev.vertexproxy.dev.DevMode;
import dev.vertexproxy.emulators.VertexEmulator;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CI path end to end, over real sockets: dev issuer → proxy → (google-auth → STS + IAM emulators) → Vertex
 * emulator, exactly as {@code vertex-proxy dev} wires it.
 */
class CiPathEndToEndTest {
  private static final TypeReference<Map<String, Object>> CLAIMS = new TypeReference<>() { };
  @TempDir
  static Path state;
  static DevStack stack;
  static final List<String> requestIds = new ArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    stack = new DevStack(DevMode.start(DevMode.Options.forTests(state)));
  }

  @AfterAll
  static void stop() {
    if (stack != null) {
      stack.dev.close();
    }
  }

  @BeforeEach
  void clearEmulator() {
    stack.dev.vertex().clear();
  }

  private static HttpResponse<String> track(HttpResponse<String> r) {
    r.headers().firstValue("x-vertex-proxy-request-id").ifPresent(requestIds::add);
    return r;
  }

  @Test
  void devJsonHasTheContractKeys() throws IOException {
    JsonNode dev = DevStack.JSON.readTree(state.resolve("dev.json").toFile());
    for (String key : List.of("proxy_url", "admin_url", "issuer", "issuer_name", "mint_url", "audit_dir", "policy_file",
        "example_path")) {
      assertThat(dev.hasNonNull(key)).as(key).isTrue();
    }
    assertThat(dev.get("issuer_name").asText()).isEqualTo("gitlab");
  }

  @Test
  void generateContentV1AndV1beta1AreServedWithTheRulesServiceAccount() throws Exception {
    String jwt = stack.mint(Map.of());
    for (String path : List.of(stack.examplePath(), stack.examplePath().replace("/v1/", "/v1beta1/"))) {
      HttpResponse<String> r = track(stack.post(path, "Bearer " + jwt, DevStack.BODY, "Cookie", "session=caller-secret-cookie"));
      assertThat(r.statusCode()).as(path + " " + r.body()).isEqualTo(200);
      JsonNode body = DevStack.JSON.readTree(r.body());
      assertThat(body.at("/candidates/0/content/parts/0/text").asText()).contains("Hello, Vertex");
      assertThat(r.headers().firstValue("authorization")).isEmpty();
      assertThat(r.body()).doesNotContain("ya29.");
      assertThat(r.headers().map().keySet()).doesNotContain("x-emulator-hop", "X-Emulator-Hop");
    }
    List<VertexEmulator.SeenRequest> seen = stack.dev.vertex().seen();
    assertThat(seen).hasSize(2);
    for (VertexEmulator.SeenRequest s : seen) {
      assertThat(s.principal()).isEqualTo(DevMode.SERVICE_ACCOUNT);
      String allHeaders = s.headers().toString();
      assertThat(allHeaders).doesNotContain(jwt).doesNotContain("caller-secret-cookie");
      assertThat(s.headers().keySet().stream().map(k -> k.toLowerCase()).toList())
          .doesNotContain("cookie", "proxy-authorization");
    }
  }

  @Test
  void streamGenerateContentDeliversEventsAsTheyArePaced() throws Exception {
    stack.dev.vertex().streamPacing(Duration.ofMillis(300), 4);
    String jwt = stack.mint(Map.of());
    String path = stack.examplePath().replace(":generateContent", ":streamGenerateContent?alt=sse");
    HttpRequest req = HttpRequest.newBuilder(URI.create(stack.proxyUrl() + path))
        .header("Authorization", "Bearer " + jwt).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(DevStack.BODY)).build();
    long start = System.nanoTime();
    HttpResponse<Stream<String>> r = stack.http.send(req, HttpResponse.BodyHandlers.ofLines());
    assertThat(r.statusCode()).isEqualTo(200);
    r.headers().firstValue("x-vertex-proxy-request-id").ifPresent(requestIds::add);
    assertThat(r.headers().firstValue("content-type").orElse("")).startsWith("text/event-stream");
    List<Long> arrivals = new ArrayList<>();
    List<String> events = new ArrayList<>();
    r.body().forEach(line -> {
      if (line.startsWith("data:")) {
        arrivals.add((System.nanoTime() - start) / 1_000_000);
        events.add(line);
      }
    });
    assertThat(events).hasSize(4);
    // paced 300 ms apart upstream: if the proxy buffered, all four would arrive together at the end
    assertThat(arrivals.get(3) - arrivals.get(0)).as("arrival times %s", arrivals).isGreaterThanOrEqualTo(600);
    assertThat(DevStack.JSON.readTree(events.get(0).substring(5).trim()).has("candidates")).isTrue();
  }

  @Test
  void badCredentialsAre401InGoogleShapeAndNeverReachVertex() throws Exception {
    RSAKey issuerKey = stack.dev.issuer().signingKey();
    RSAKey otherKey = new RSAKeyGenerator(2048).keyID(issuerKey.getKeyID()).generate();
    Map<String, Object> base = DevStack.JSON.convertValue(
        DevStack.JSON.readTree(SignedJWT.parse(stack.mint(Map.of())).getPayload().toString()), CLAIMS);
    JWTClaimsSet claims = JWTClaimsSet.parse(base);

    Map<String, String> cases = new LinkedHashMap<>();
    cases.put("no token", null);
    cases.put("not bearer", "Basic dXNlcjpwYXNz");
    cases.put("malformed", "Bearer not.a.jwt");
    cases.put("bad signature", "Bearer " + sign(claims, otherKey));
    cases.put("unknown issuer", "Bearer " + stack.mint(Map.of("iss", "https://gitlab.evil.example")));
    cases.put("wrong audience", "Bearer " + stack.mint(Map.of("aud", "https://someone-else.example")));
    long now = Instant.now().getEpochSecond();
    cases.put("expired", "Bearer " + stack.mint(Map.of("iat", now - 7200, "nbf", now - 7200, "exp", now - 3600)));
    cases.put("alg none", "Bearer " + new PlainJWT(claims).serialize());
    SignedJWT hs = new SignedJWT(
        new JWSHeader.Builder(JWSAlgorithm.HS256).keyID(issuerKey.getKeyID()).type(JOSEObjectType.JWT).build(), claims);
    hs.sign(new MACSigner(issuerKey.toRSAPublicKey().getEncoded()));
    cases.put("HS256 with the public key", "Bearer " + hs.serialize());

    for (Map.Entry<String, String> c : cases.entrySet()) {
      HttpResponse<String> r = track(stack.post(stack.examplePath(), c.getValue(), DevStack.BODY));
      assertThat(r.statusCode()).as(c.getKey() + ": " + r.body()).isEqualTo(401);
      JsonNode err = DevStack.JSON.readTree(r.body()).get("error");
      assertThat(err.get("code").asInt()).isEqualTo(401);
      assertThat(err.get("status").asText()).isEqualTo("UNAUTHENTICATED");
      assertThat(err.get("message").asText()).isNotBlank();
      if (c.getValue() != null && c.getValue().length() > 20) {
        assertThat(r.body()).doesNotContain(c.getValue().substring(7));
      }
    }
    assertThat(stack.dev.vertex().seen()).isEmpty();
  }

  @Test
  void aThirtyDayTokenIs401TokenLifetimeTooLongWithOneAuditRecordAndNeverReachesVertex() throws Exception {
    long now = Instant.now().getEpochSecond();
    // valid in every other way: the dev issuer signs it, the audience and claims are the ones the sample policy allows
    String longLived = stack.mint(Map.of("iat", now - 60, "nbf", now - 60, "exp", now - 60 + Duration.ofDays(30).toSeconds()));
    HttpResponse<String> r = track(stack.post(stack.examplePath(), "Bearer " + longLived, DevStack.BODY));

    assertThat(r.statusCode()).as(r.body()).isEqualTo(401);
    JsonNode err = DevStack.JSON.readTree(r.body()).get("error");
    assertThat(err.get("code").asInt()).isEqualTo(401);
    assertThat(err.get("status").asText()).isEqualTo("UNAUTHENTICATED");
    assertThat(err.at("/details/0/reason").asText()).isEqualTo("token-lifetime-too-long");
    assertThat(r.body()).doesNotContain(longLived.substring(longLived.length() - 20));
    assertThat(stack.dev.vertex().seen()).isEmpty();

    String id = r.headers().firstValue("x-vertex-proxy-request-id").orElseThrow();
    List<JsonNode> records = stack.awaitAudit(List.of(id));
    assertThat(records).singleElement().satisfies(record -> {
      assertThat(record.get("decision").asText()).isEqualTo("deny");
      assertThat(record.get("reason").asText()).isEqualTo("token-lifetime-too-long");
      assertThat(record.get("status").asInt()).isEqualTo(401);
      assertThat(record.has("google_principal")).isFalse();
      assertThat(record.toString()).doesNotContain(longLived);
    });
  }

  @Test
  void claimsNoRuleAllowsAre403WithAReason() throws Exception {
    String other = stack.mint(Map.of("project_path", "acme/other"));
    HttpResponse<String> r = track(stack.post(stack.examplePath(), "Bearer " + other, DevStack.BODY));
    assertThat(r.statusCode()).isEqualTo(403);
    JsonNode err = DevStack.JSON.readTree(r.body()).get("error");
    assertThat(err.get("status").asText()).isEqualTo("PERMISSION_DENIED");
    assertThat(err.at("/details/0/reason").asText()).isEqualTo("identity-not-matched");

    String blocked = stack.mint(Map.of("user_login", "mallory"));
    HttpResponse<String> d = track(stack.post(stack.examplePath(), "Bearer " + blocked, DevStack.BODY));
    assertThat(d.statusCode()).isEqualTo(403);
    assertThat(DevStack.JSON.readTree(d.body()).at("/error/details/0/reason").asText()).isEqualTo("denied-by-rule");

    String jwt = stack.mint(Map.of());
    HttpResponse<String> wrongProject = track(stack.post(
        stack.examplePath().replace("dev-project", "someone-elses-project"), "Bearer " + jwt, DevStack.BODY));
    assertThat(wrongProject.statusCode()).isEqualTo(403);
    assertThat(stack.dev.vertex().seen()).isEmpty();
  }

  @Test
  void unknownAndNonCanonicalPathsAreRefusedBeforeIdentity() throws Exception {
    String jwt = stack.mint(Map.of());
    HttpResponse<String> unknown =
        track(stack.post("/v1/projects/dev-project/locations/us-central1/nonsense/x:doIt", "Bearer " + jwt, "{}"));
    assertThat(unknown.statusCode()).isEqualTo(404);
    assertThat(DevStack.JSON.readTree(unknown.body()).at("/error/status").asText()).isEqualTo("NOT_FOUND");
    HttpResponse<String> dotted = track(stack.post(
        "/v1/projects/dev-project/locations/us-central1/publishers/google/models/%2e%2e/gemini-2.0-flash:generateContent",
        "Bearer " + jwt, "{}"));
    assertThat(dotted.statusCode()).isEqualTo(400);
    HttpResponse<String> keyInQuery = track(stack.post(stack.examplePath() + "?key=AIzaSECRET", "Bearer " + jwt, "{}"));
    assertThat(keyInQuery.statusCode()).isEqualTo(400);
    assertThat(keyInQuery.body()).doesNotContain("AIzaSECRET");
    assertThat(stack.dev.vertex().seen()).isEmpty();
  }

  @Test
  void everyExchangeLeavesExactlyOneAuditRecordAndTheChainVerifies() throws Exception {
    // a few more exchanges of every kind, on top of whatever other tests ran before
    String jwt = stack.mint(Map.of());
    List<String> ids = new ArrayList<>();
    ids.add(track(stack.post(stack.examplePath(), "Bearer " + jwt, DevStack.BODY)).headers()
        .firstValue("x-vertex-proxy-request-id").orElseThrow());
    ids.add(track(stack.post(stack.examplePath(), null, DevStack.BODY)).headers()
        .firstValue("x-vertex-proxy-request-id").orElseThrow());
    ids.add(track(stack.post("/v1/nowhere", "Bearer " + jwt, "{}")).headers()
        .firstValue("x-vertex-proxy-request-id").orElseThrow());
    List<String> all;
    synchronized (requestIds) {
      all = List.copyOf(requestIds);
    }
    List<JsonNode> records = stack.awaitAudit(all);
    Map<String, Integer> perId = new HashMap<>();
    for (JsonNode r : records) {
      perId.merge(r.get("request_id").asText(), 1, Integer::sum);
    }
    assertThat(perId.keySet()).containsAll(all);
    assertThat(perId.values()).allMatch(n -> n == 1);

    JsonNode allowed = records.stream().filter(r -> r.get("request_id").asText().equals(ids.get(0))).findFirst().orElseThrow();
    assertThat(allowed.get("decision").asText()).isEqualTo("allow");
    assertThat(allowed.get("rule").asText()).isEqualTo("forecasting-ci-gemini");
    assertThat(allowed.get("google_principal").asText()).isEqualTo(DevMode.SERVICE_ACCOUNT);
    assertThat(allowed.get("method").asText()).isEqualTo("publishers.models.generateContent");
    assertThat(allowed.get("project").asText()).isEqualTo("dev-project");
    assertThat(allowed.get("location").asText()).isEqualTo("us-central1");
    assertThat(allowed.get("status").asInt()).isEqualTo(200);
    assertThat(allowed.at("/caller/claims/project_path").asText()).isEqualTo("acme/ml/forecasting");
    for (String field : List.of("time", "request_id", "source_ip", "http_method", "path", "resource", "reason", "duration_ms",
        "bytes_in", "bytes_out", "policy_version", "seq", "prev_hash", "hash")) {
      assertThat(allowed.has(field)).as(field).isTrue();
    }
    String trail = Files.readString(
        Files.list(stack.auditDir()).filter(p -> p.toString().endsWith(".jsonl")).findFirst().orElseThrow());
    assertThat(trail).doesNotContain(jwt).doesNotContain("ya29.").doesNotContain("caller-secret-cookie");

    assertThat(AuditVerifier.verify(stack.auditDir()).ok()).isTrue();
    assertThat(Main.run("audit", "verify", stack.auditDir().toString())).isZero();
  }

  @Test
  void adminEndpointsReportHealthReadinessAndMetricsWithoutIdentities() throws Exception {
    String admin = (String) stack.dev.info().get("admin_url");
    String jwt = stack.mint(Map.of());
    int loops = 2 * Runtime.getRuntime().availableProcessors(); // the proxy's event loops, each with its own pool
    for (int i = 0; i < loops + 4; i++) {
      assertThat(track(stack.post(stack.examplePath(), "Bearer " + jwt, DevStack.BODY)).statusCode()).isEqualTo(200);
    }
    track(stack.post(stack.examplePath(), null, DevStack.BODY));
    assertThat(adminGet(admin + "/healthz").statusCode()).isEqualTo(200);
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    HttpResponse<String> ready = adminGet(admin + "/readyz");
    while (ready.statusCode() != 200 && System.nanoTime() < deadline) {
      Thread.sleep(50);
      ready = adminGet(admin + "/readyz");
    }
    assertThat(ready.statusCode()).isEqualTo(200);
    String metrics = adminGet(admin + "/metrics").body();
    assertThat(metrics)
        .contains("vertex_proxy_requests_total{decision=\"allow\",method=\"publishers.models.generateContent\","
            + "outcome=\"allowed\",reason=\"allowed\",status=\"200\"}")
        .contains("reason=\"token-missing\",status=\"401\"")
        .contains("vertex_proxy_exchanges_in_flight")
        .doesNotContain("acme/ml/forecasting")
        .doesNotContain(jwt);
    assertThat(adminGet(admin + "/nope").statusCode()).isEqualTo(404);
    // keep-alive to Vertex: far fewer connections than exchanges, at most one idle one per event loop here
    Matcher connects = Pattern
        .compile("vertex_proxy_upstream_connections_opened_total ([0-9.]+)").matcher(metrics);
    assertThat(connects.find()).isTrue();
    assertThat(Double.parseDouble(connects.group(1))).isLessThanOrEqualTo(loops);
  }

  private static HttpResponse<String> adminGet(String url) throws Exception {
    return stack.http.send(HttpRequest.newBuilder(URI.create(url)).GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  private static String sign(JWTClaimsSet claims, RSAKey key) throws Exception {
    SignedJWT jwt = new SignedJWT(
        new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(key.getKeyID()).type(JOSEObjectType.JWT).build(), claims);
    jwt.sign(new RSASSASigner(key));
    return jwt.serialize();
  }
}

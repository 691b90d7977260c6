package dev.vertexproxy.proxy.audit;

import static dev.vertexproxy.proxy.audit.TestEvents.T0;
import static dev.vertexproxy.proxy.audit.TestEvents.allowed;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vertexproxy.proxy.config.AuditConfig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CloudLoggingLineTest {
  private static final String JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXNpZ25hdHVyZQ";

  @TempDir
  Path tmp;

  private List<JsonNode> shipped(AuditConfig config, String traceProject, AuditEvent... events) throws Exception {
    ByteArrayOutputStream stdout = new ByteArrayOutputStream();
    AuditLog.Options options = new AuditLog.Options(0, 100, AuditFiles::openOwnerOnly, AuditLog.Events.NONE,
        traceProject, stdout);
    try (AuditLog log = AuditLog.open(config, new DrivenClock(T0), options)) {
      for (AuditEvent event : events) {
        log.append(event).get(10, TimeUnit.SECONDS);
      }
    }
    return stdout.toString(StandardCharsets.UTF_8).lines().map(l -> (JsonNode) parse(l)).toList();
  }

  private static ObjectNode parse(String line) {
    try {
      return AuditRecords.parse(line.getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new AssertionError(line, e);
    }
  }

  @Test
  void anExchangeBecomesAStructuredEntryWithItsRecordAsPayload() throws Exception {
    AuditConfig config = new AuditConfig(tmp.resolve("audit"), null, null).withStdout(AuditConfig.Stdout.CLOUD_LOGGING);
    List<JsonNode> lines = shipped(config, "acme-ml-prod", allowed(0));
    assertThat(lines).hasSize(1);
    JsonNode line = lines.get(0);
    ObjectNode record = Trail.records(tmp.resolve("audit")).get(0);
    assertThat(line.get("vertex_proxy_audit")).isEqualTo(record); // the chain's record, hash and all
    assertThat(line.get("severity").asText()).isEqualTo("INFO");
    assertThat(line.get("message").asText())
        .isEqualTo("allow endpoints.predict projects/acme-ml-prod/locations/us-central1/endpoints/42 200 allowed");
    assertThat(line.get("time").asText()).isEqualTo("2026-05-01T12:00:00.123Z");
    JsonNode http = line.get("httpRequest");
    assertThat(http.get("requestMethod").asText()).isEqualTo("POST");
    assertThat(http.get("requestUrl").asText()).isEqualTo("/v1/projects/acme-ml-prod/locations/us-central1/endpoints/42:predict");
    assertThat(http.get("status").asInt()).isEqualTo(200);
    assertThat(http.get("requestSize").asText()).isEqualTo("345");
    assertThat(http.get("responseSize").asText()).isEqualTo("6789");
    assertThat(http.get("remoteIp").asText()).isEqualTo("127.0.0.1");
    assertThat(http.get("userAgent").asText()).isEqualTo("google-genai-sdk/1.0 gl-python/3.12");
    assertThat(http.get("latency").asText()).isEqualTo("0.012s");
    JsonNode labels = line.get("logging.googleapis.com/labels");
    assertThat(labels.get("chain_id").asText()).isEqualTo(record.get("chain_id").asText());
    assertThat(labels.get("request_id").asText()).isEqualTo("req-0");
    assertThat(labels.get("rule").asText()).isEqualTo("forecasting-ci-predicts");
    assertThat(labels.get("decision").asText()).isEqualTo("allow");
    assertThat(labels.get("method").asText()).isEqualTo("endpoints.predict");
    assertThat(line.get("logging.googleapis.com/trace").asText()).isEqualTo("projects/acme-ml-prod/traces/req-0");
    assertThat(line.get("logging.googleapis.com/insertId").asText()).isEqualTo(record.get("chain_id").asText() + "-1");
  }

  @Test
  void severityFollowsTheOutcomeAndTheTraceNeedsAProject() {
    ObjectNode denied = record("deny", "refused");
    ObjectNode unavailable = record("allow", "unavailable");
    ObjectNode failed = record("allow", "failed");
    assertThat(parse(CloudLoggingLine.of(denied, null)).get("severity").asText()).isEqualTo("NOTICE");
    assertThat(parse(CloudLoggingLine.of(unavailable, null)).get("severity").asText()).isEqualTo("WARNING");
    assertThat(parse(CloudLoggingLine.of(failed, null)).get("severity").asText()).isEqualTo("WARNING");
    assertThat(parse(CloudLoggingLine.of(denied, null)).has("logging.googleapis.com/trace")).isFalse();
  }

  @Test
  void checkpointsAreShippedTooAndNoLineHoldsAToken() throws Exception {
    Path key = Trail.newKey(tmp, "cp.pem");
    AuditConfig config = Trail.withCheckpoints(tmp.resolve("audit"), key, Duration.ofMinutes(5))
        .withStdout(AuditConfig.Stdout.CLOUD_LOGGING);
    AuditEvent hostile = TestEvents.event(1, "sub", Map.of("access_token", JWT, "note", "Bearer " + JWT), "x.y",
        "allow", "r", "allowed", 200);
    List<JsonNode> lines = shipped(config, null, hostile);
    assertThat(lines).extracting(l -> l.get("vertex_proxy_audit").get("type").asText())
        .containsExactly("checkpoint", "exchange", "checkpoint");
    assertThat(lines.get(0).get("message").asText()).isEqualTo("checkpoint start of seq 0");
    assertThat(lines.get(0).has("httpRequest")).isFalse();
    String all = lines.toString();
    assertThat(all).doesNotContain("eyJhbGciOiJSUzI1NiJ9").contains("[redacted]");
    assertThat(Files.readString(key).lines().skip(1).findFirst().orElseThrow()).isNotIn(all);
  }

  private static ObjectNode record(String decision, String outcome) {
    ObjectNode r = AuditRecords.toJson(TestEvents.event(0, "s", null, "m", decision, null, "x", 503), T0);
    r.put("outcome", outcome);
    r.put("chain_id", "c");
    r.put("seq", 7);
    return r;
  }
}

package dev.vertexproxy.proxy.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import com.fasterxml.jackson.databind.JsonNode;
import dev.vertexproxy.proxy.audit.AuditVerifier;
import dev.vertexproxy.proxy.e2e.RecordingUpstream.Received;
import dev.vertexproxy.proxy.logging.LogLineEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * The proxy behind a load balancer and its logs, over real sockets with the dev stack and a recording upstream: whose
 * address {@code source_ip} is with and without {@code listen.trusted_proxies}, that forwarded headers never reach
 * Google, and that every log line about a request carries that request's id (and trace) and never its token.
 */
class LogsBehindABalancerEndToEndTest {
  private static final String TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";

  private Path tmp;
  private RecordingUpstream up;
  private DevStack stack;
  private final List<String> lines = new CopyOnWriteArrayList<>();
  private AppenderBase<ILoggingEvent> capture;

  @BeforeEach
  void upstream() throws Exception {
    tmp = Files.createTempDirectory("logs-balancer-test");
    up = new RecordingUpstream();
  }

  @AfterEach
  void stop() throws Exception {
    if (capture != null) {
      root().detachAppender(capture);
      capture.stop();
    }
    stack.dev.close();
    up.close();
    AuditVerifier.VerifyResult verified = AuditVerifier.verify(stack.auditDir());
    assertThat(verified.ok()).as("audit chain: %s", verified.firstProblem()).isTrue();
  }

  private DevStack start(String extra) throws Exception {
    stack = DevStack.start(tmp, "upstream: { url_template: 'http://127.0.0.1:" + up.port() + "' }\n" + extra);
    stack.awaitReady();
    return stack;
  }

  private static Logger root() {
    return ((LoggerContext) LoggerFactory.getILoggerFactory()).getLogger(Logger.ROOT_LOGGER_NAME);
  }

  /** Every log line from now on, as the JSON the proxy writes, with the trace project the config names. */
  private void captureLogs(String traceProject) {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    LogLineEncoder encoder = new LogLineEncoder();
    encoder.setContext(context);
    encoder.setFormat("json");
    encoder.setTraceProject(traceProject);
    encoder.start();
    capture = new AppenderBase<>() {
      @Override
      protected void append(ILoggingEvent e) {
        lines.add(new String(encoder.encode(e), StandardCharsets.UTF_8));
      }
    };
    capture.setContext(context);
    capture.start();
    root().addAppender(capture);
  }

  /**
   * Waits (bounded) until an access line names each request. An exchange's audit record is appended before its access
   * line is logged, on the event loop, so a record in the trail does not yet mean the line is here.
   */
  private void awaitAccessLines(List<String> requestIds) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (!requestIds.stream().allMatch(id -> lines.stream().anyMatch(l -> l.contains("\"logger\":\"vertex_proxy.access\"")
        && l.contains("\"request_id\":\"" + id + "\""))) && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
  }

  private HttpResponse<String> call(String token, String... headers) throws Exception {
    return stack.post(stack.examplePath(), "Bearer " + token, DevStack.BODY, headers);
  }

  private JsonNode auditOf(HttpResponse<String> r) throws Exception {
    String id = r.headers().firstValue("x-vertex-proxy-request-id").orElseThrow();
    List<JsonNode> records = stack.awaitAudit(List.of(id));
    assertThat(records).hasSize(1);
    return records.get(0);
  }

  @Test
  void withoutTrustedProxiesAForgedForwardedForChangesNothing() throws Exception {
    start("");
    String token = stack.mint(Map.of());
    JsonNode plain = auditOf(call(token));
    JsonNode forged = auditOf(call(token, "X-Forwarded-For", "192.0.2.7", "Forwarded", "for=192.0.2.8",
        "X-Real-IP", "192.0.2.9"));
    assertThat(plain.get("source_ip").asText()).isEqualTo("127.0.0.1");
    assertThat(forged.get("source_ip").asText()).isEqualTo("127.0.0.1");
    assertThat(forged.has("peer_ip")).isFalse();
    assertThat(up.requests).hasSize(2);
    assertThat(up.requests.get(1).headWithoutRequestId()).isEqualTo(up.requests.get(0).headWithoutRequestId());
  }

  @Test
  void fromATrustedPeerTheClientBehindItIsTheSourceAndThePeerIsKept() throws Exception {
    start("listen: { trusted_proxies: [127.0.0.1, 10.0.0.0/8] }\n");
    String token = stack.mint(Map.of());
    JsonNode plain = auditOf(call(token));
    JsonNode forwarded = auditOf(call(token, "X-Forwarded-For", "6.6.6.6, 192.0.2.7", "X-Forwarded-For", "10.1.1.1",
        "Forwarded", "for=198.51.100.1", "X-Forwarded-Host", "internal.example", "X-Forwarded-Proto", "http",
        "X-Real-IP", "10.2.2.2"));
    // the other family is not read: only X-Forwarded-For is configured, so a Forwarded header names nobody
    JsonNode otherFamily = auditOf(call(token, "Forwarded", "for=198.51.100.1"));
    assertThat(plain.get("source_ip").asText()).isEqualTo("127.0.0.1");
    assertThat(plain.has("peer_ip")).isFalse();
    assertThat(forwarded.get("source_ip").asText()).isEqualTo("192.0.2.7");
    assertThat(forwarded.get("peer_ip").asText()).isEqualTo("127.0.0.1");
    assertThat(otherFamily.get("source_ip").asText()).isEqualTo("127.0.0.1");
    // nothing of the caller's network reaches Google: the requests arrive byte for byte alike
    assertThat(up.requests).hasSize(3);
    Received first = up.requests.get(0);
    assertThat(up.requests.get(1).headWithoutRequestId()).isEqualTo(first.headWithoutRequestId());
    assertThat(up.requests.get(2).headWithoutRequestId()).isEqualTo(first.headWithoutRequestId());
    assertThat(first.head().toLowerCase()).doesNotContain("forwarded", "x-real-ip", "192.0.2.7", "10.1.1.1");
  }

  @Test
  void aPeerOutsideTheTrustedSetCannotForgeItsAddress() throws Exception {
    start("listen: { trusted_proxies: [10.0.0.0/8, '2001:db8::/32'] }\n");
    String token = stack.mint(Map.of());
    JsonNode forged = auditOf(call(token, "X-Forwarded-For", "192.0.2.7, 10.0.0.1"));
    assertThat(forged.get("source_ip").asText()).isEqualTo("127.0.0.1");
    assertThat(forged.has("peer_ip")).isFalse();
  }

  @Test
  void concurrentRequestsEachLogOnlyTheirOwnIdAndNeverTheToken() throws Exception {
    start("logging: { format: json, access_log: true, trace_project: acme-test }\n");
    captureLogs("acme-test");
    // the first request the upstream reads gets an answer that is not HTTP: that exchange fails with a logged warning
    up.responder = n -> n == 1 ? "garbage\r\n\r\n" : RecordingUpstream.ok(n);
    String token = stack.mint(Map.of());
    CompletableFuture<HttpResponse<String>> a = CompletableFuture.supplyAsync(() -> callQuietly(token,
        "traceparent", "00-" + TRACE + "-00f067aa0ba902b7-01"));
    CompletableFuture<HttpResponse<String>> b = CompletableFuture.supplyAsync(() -> callQuietly(token,
        "traceparent", "00-\"},{\"severity\":\"ERROR\"-00f067aa0ba902b7-01"));
    HttpResponse<String> ra = a.get();
    HttpResponse<String> rb = b.get();
    assertThat(List.of(ra.statusCode(), rb.statusCode())).containsExactlyInAnyOrder(200, 502);
    String idA = ra.headers().firstValue("x-vertex-proxy-request-id").orElseThrow();
    String idB = rb.headers().firstValue("x-vertex-proxy-request-id").orElseThrow();
    String failed = ra.statusCode() == 502 ? idA : idB;
    stack.awaitAudit(List.of(idA, idB));
    awaitAccessLines(List.of(idA, idB));

    List<JsonNode> events = new ArrayList<>();
    for (String line : lines) {
      assertThat(line).endsWith("\n").doesNotContain(token).doesNotContainIgnoringCase("bearer ");
      assertThat(line.indexOf('\n')).as("one line per event: %s", line).isEqualTo(line.length() - 1);
      events.add(DevStack.JSON.readTree(line));
    }
    // every line that names a request is that request's line
    for (JsonNode e : events) {
      for (String id : List.of(idA, idB)) {
        if (e.get("message").asText().contains(id)) {
          assertThat(e.path("request_id").asText()).as("%s", e).isEqualTo(id);
        }
      }
    }
    Map<String, List<JsonNode>> byId = events.stream().filter(e -> e.has("request_id"))
        .collect(Collectors.groupingBy(e -> e.get("request_id").asText()));
    assertThat(byId.keySet()).contains(idA, idB);
    assertThat(byId.get(failed)).anySatisfy(e -> {
      assertThat(e.get("severity").asText()).isEqualTo("WARNING");
      assertThat(e.get("message").asText()).contains("upstream failure");
    });
    for (String id : List.of(idA, idB)) {
      List<JsonNode> access = byId.get(id).stream().filter(e -> e.get("logger").asText().equals("vertex_proxy.access")).toList();
      assertThat(access).as("access lines of %s", id).hasSize(1);
      JsonNode line = access.get(0);
      assertThat(line.get("status").asInt()).isEqualTo(id.equals(failed) ? 502 : 200);
      assertThat(line.get("outcome").asText()).isEqualTo(id.equals(failed) ? "unavailable" : "allowed");
      assertThat(line.get("source_ip").asText()).isEqualTo("127.0.0.1");
      assertThat(line.has("peer_ip")).as("no balancer, so no peer_ip, as in the audit record").isFalse();
      assertThat(line.get("path").asText()).isEqualTo(stack.examplePath());
      assertThat(line.get("method").asText()).isEqualTo("publishers.models.generateContent");
      assertThat(line.get("bytes_in").asLong()).isEqualTo(DevStack.BODY.length());
    }
    // only the valid traceparent becomes a trace; the forged one is no trace at all
    assertThat(byId.get(idA)).allSatisfy(e -> assertThat(e.get("logging.googleapis.com/trace").asText())
        .isEqualTo("projects/acme-test/traces/" + TRACE));
    assertThat(byId.get(idB)).allSatisfy(e -> assertThat(e.has("logging.googleapis.com/trace")).isFalse());
  }

  @Test
  void startReloadAndDrainAreLoggedAtInfo() throws Exception {
    captureLogs(null);
    start("listen: { trusted_proxies: [10.0.0.0/8] }\n");
    String version = stack.dev.proxy().policyVersion();
    Path policy = Path.of((String) stack.dev.info().get("policy_file"));
    Files.writeString(policy, Files.readString(policy) + "\n# edited\n");
    String next = stack.dev.proxy().reloadPolicy();
    Files.writeString(policy, "version: 1\nrules: [ { name: broken } ]\n");
    try {
      stack.dev.proxy().reloadPolicy();
    } catch (Exception refused) {
      // expected: the broken policy stays out, and says why in the log
    }
    stack.dev.proxy().close();
    List<JsonNode> proxyLines = new ArrayList<>();
    for (String line : lines) {
      JsonNode e = DevStack.JSON.readTree(line);
      if (e.get("logger").asText().endsWith(".ProxyServer") || e.get("logger").asText().endsWith(".PolicyInForce")) {
        proxyLines.add(e);
      }
    }
    assertThat(proxyLines).extracting(e -> e.get("severity").asText() + " " + e.get("message").asText())
        .anySatisfy(m -> assertThat(m).startsWith("INFO vertex-proxy ").contains(" started: listening on ",
            "issuers [gitlab, humans]", "policy " + version, "trusted proxies: [10.0.0.0/8]"))
        // the directory watch may see the edit before the admin's reload does: either trigger names itself
        .anySatisfy(m -> assertThat(m).startsWith("INFO policy reloaded (").contains("): " + version + " -> " + next))
        .anySatisfy(m -> assertThat(m).startsWith("WARNING policy reload (").contains(") refused, " + next + " stays in force"))
        .anySatisfy(m -> assertThat(m).startsWith("INFO draining: no new connections, 0 exchanges in flight"))
        .anySatisfy(m -> assertThat(m).startsWith("INFO drained: every exchange finished"));
  }

  private HttpResponse<String> callQuietly(String token, String... headers) {
    try {
      return call(token, headers);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}

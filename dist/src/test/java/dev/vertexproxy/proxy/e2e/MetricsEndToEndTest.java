package dev.vertexproxy.proxy.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vertexproxy.dev.DevMode;
import dev.vertexproxy.proxy.audit.AuditVerifier;
import dev.vertexproxy.proxy.reason.Reason;
import dev.vertexproxy.proxy.testing.PrometheusText;
import dev.vertexproxy.proxy.testing.PrometheusText.Family;
import dev.vertexproxy.proxy.testing.PrometheusText.Sample;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code GET ADMIN/metrics} of a running dev stack, read with a real HTTP client and parsed as Prometheus text, after
 * allowed, denied, refused and failed exchanges and a server-sent event stream: every family the operations guide
 * promises is there, each count is exactly what was sent, latency histograms have buckets, and no label value is an
 * identity, a token, a project or a resource.
 */
class MetricsEndToEndTest {
  private static final String GENERATE = "publishers.models.generateContent";
  private static final String STREAM = "publishers.models.streamGenerateContent";

  @TempDir
  Path tmp;

  @Test
  void theScrapeCountsExactlyWhatWasSentAndNamesNoOne() throws Exception {
    DevStack stack = DevStack.start(tmp, null);
    List<String> ids = new ArrayList<>();
    List<String> secrets = new ArrayList<>();
    try {
      stack.awaitReady();
      String admin = (String) stack.dev.info().get("admin_url");

      // ---- start-up: every counter at zero (the issuer's keys were fetched to become ready, nothing else) -----
      PrometheusText start = scrape(stack, admin);
      for (String family : List.of("vertex_proxy_exchanges_total", "vertex_proxy_requests_total",
          "vertex_proxy_upstream_connect_failures_total", "vertex_proxy_google_token_cache_hits_total",
          "vertex_proxy_google_token_cache_misses_total", "vertex_proxy_google_token_fetches_total",
          "vertex_proxy_audit_records_written_total", "vertex_proxy_audit_failures_total",
          "vertex_proxy_policy_reloads_total", "vertex_proxy_upstream_connections_opened_total",
          "vertex_proxy_upstream_connections_reused_total")) {
        Family f = start.family(family);
        assertThat(f.type()).as(family).isEqualTo("counter");
        assertThat(f.samples()).as(family).isNotEmpty().allSatisfy(s -> assertThat(s.value()).as(s.toString()).isZero());
      }
      assertThat(start.family("vertex_proxy_exchanges_total").samples()).hasSize(
          Reason.values().length);
      assertThat(start.value("vertex_proxy_jwks_fetches_total", "issuer", DevMode.ISSUER_NAME, "outcome", "success"))
          .isEqualTo(stack.dev.issuer().jwksFetches()).isPositive();
      assertThat(start.value("vertex_proxy_jwks_fetches_total", "issuer", DevMode.ISSUER_NAME, "outcome", "failure"))
          .isZero();
      assertThat(start.value("vertex_proxy_google_token_earliest_expiry_seconds")).isNaN();

      // ---- traffic --------------------------------------------------------------------------------------------
      String jwt = stack.mint(Map.of());
      secrets.add(jwt);
      String auth = "Bearer " + jwt;
      // Google fails the first token fetch: allowed by the policy, our 503
      stack.dev.google().failNext(1, 403);
      ids.add(expect(stack.post(stack.examplePath(), auth, DevStack.BODY), 503, "credentials-unavailable"));
      for (int i = 0; i < 3; i++) {
        ids.add(expect(stack.post(stack.examplePath(), auth, DevStack.BODY), 200, null));
      }
      String other = stack.mint(Map.of("project_path", "acme/other"));
      secrets.add(other);
      ids.add(expect(stack.post(stack.examplePath(), "Bearer " + other, DevStack.BODY), 403, "identity-not-matched"));
      ids.add(expect(stack.post(stack.examplePath(), null, DevStack.BODY), 401, "token-missing"));
      ids.add(expect(stack.post(stack.examplePath(), "Bearer not.a.jwt", DevStack.BODY), 401, "token-malformed"));
      ids.add(expect(stack.get("/v1/projects/dev-project/locations/us-central1/nothing", auth), 404, "route-not-found"));

      // a stream: Vertex paces its events, so the stream is still in flight after the first one
      stack.dev.vertex().streamPacing(Duration.ofSeconds(1), 3);
      String stream = stack.examplePath().replace(":generateContent", ":streamGenerateContent?alt=sse");
      HttpResponse<InputStream> sse = stack.http.send(HttpRequest.newBuilder(URI.create(stack.proxyUrl() + stream))
          .header("Authorization", auth).header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString(DevStack.BODY)).build(), HttpResponse.BodyHandlers.ofInputStream());
      assertThat(sse.statusCode()).isEqualTo(200);
      ids.add(sse.headers().firstValue("x-vertex-proxy-request-id").orElseThrow());
      try (BufferedReader lines = new BufferedReader(new InputStreamReader(sse.body(), StandardCharsets.UTF_8))) {
        String first = lines.readLine();
        assertThat(first).startsWith("data:");
        PrometheusText during = scrape(stack, admin);
        assertThat(during.value("vertex_proxy_streams_in_flight")).isEqualTo(1);
        assertThat(during.value("vertex_proxy_exchanges_in_flight")).isEqualTo(1);
        while (lines.readLine() != null) {
          // read to the end
        }
      }

      // the policy reloads: the same file (unchanged), a broken one (refused)
      Path policyFile = Path.of((String) stack.dev.info().get("policy_file"));
      String original = Files.readString(policyFile);
      assertThat(reload(stack, admin).statusCode()).isEqualTo(200);
      Files.writeString(policyFile, original.replace("publishers.models.countTokens", "publishers.models.countTokenz"));
      assertThat(reload(stack, admin).statusCode()).isEqualTo(400);
      Files.writeString(policyFile, original);

      // every exchange is recorded (metric, then audit record) once its audit record is in the trail
      List<JsonNode> records = stack.awaitAudit(ids);
      assertThat(records).hasSize(ids.size());

      // ---- the scrape -----------------------------------------------------------------------------------------
      PrometheusText m = scrape(stack, admin);

      assertThat(m.value("vertex_proxy_requests_total", "method", GENERATE, "decision", "allow", "outcome", "allowed",
          "reason", "allowed", "status", "200")).isEqualTo(3);
      assertThat(m.value("vertex_proxy_requests_total", "method", STREAM, "decision", "allow", "outcome", "allowed",
          "reason", "allowed", "status", "200")).isEqualTo(1);
      assertThat(m.value("vertex_proxy_requests_total", "method", GENERATE, "decision", "allow", "outcome", "unavailable",
          "reason", "credentials-unavailable", "status", "503")).isEqualTo(1);
      assertThat(m.value("vertex_proxy_requests_total", "method", GENERATE, "decision", "deny", "outcome", "refused",
          "reason", "identity-not-matched", "status", "403")).isEqualTo(1);
      assertThat(m.value("vertex_proxy_requests_total", "method", GENERATE, "decision", "deny", "outcome", "refused",
          "reason", "token-missing", "status", "401")).isEqualTo(1);
      assertThat(m.value("vertex_proxy_requests_total", "method", GENERATE, "decision", "deny", "outcome", "refused",
          "reason", "token-malformed", "status", "401")).isEqualTo(1);
      assertThat(m.value("vertex_proxy_requests_total", "method", "none", "decision", "deny", "outcome", "refused",
          "reason", "route-not-found", "status", "404")).isEqualTo(1);
      assertThat(m.sum("vertex_proxy_requests_total")).isEqualTo(ids.size());
      assertThat(m.sum("vertex_proxy_exchanges_total")).isEqualTo(ids.size());
      assertThat(m.value("vertex_proxy_exchanges_total", "reason", "allowed")).isEqualTo(4);
      assertThat(m.value("vertex_proxy_exchanges_total", "reason", "token-expired")).isZero();

      // latency histograms: buckets, +Inf equal to the count, counts as sent
      assertHistogram(m, "vertex_proxy_request_duration_seconds", 3, "method", GENERATE, "outcome", "refused");
      assertHistogram(m, "vertex_proxy_request_duration_seconds", 1, "method", GENERATE, "outcome", "unavailable");
      assertHistogram(m, "vertex_proxy_request_duration_seconds", 3, "method", GENERATE, "outcome", "allowed");
      assertHistogram(m, "vertex_proxy_request_duration_seconds", 1, "method", STREAM, "outcome", "allowed");
      assertHistogram(m, "vertex_proxy_request_duration_seconds", 1, "method", "none", "outcome", "refused");
      assertHistogram(m, "vertex_proxy_upstream_first_byte_seconds", 3, "method", GENERATE);
      assertHistogram(m, "vertex_proxy_upstream_first_byte_seconds", 1, "method", STREAM);
      assertHistogram(m, "vertex_proxy_admission_duration_seconds", 5, "decision", "allow");
      assertHistogram(m, "vertex_proxy_admission_duration_seconds", 4, "decision", "deny");
      assertThat(m.value("vertex_proxy_request_duration_seconds_sum", "method", STREAM, "outcome", "allowed"))
          .as("the stream was paced over seconds").isGreaterThan(1);

      // in flight, now nothing
      assertThat(m.value("vertex_proxy_exchanges_in_flight")).isZero();
      assertThat(m.value("vertex_proxy_streams_in_flight")).isZero();
      assertThat(m.value("vertex_proxy_connections_open")).isGreaterThanOrEqualTo(0);

      // upstream: every relayed exchange got a new or a pooled connection
      double opened = m.value("vertex_proxy_upstream_connections_opened_total");
      assertThat(opened).isPositive();
      assertThat(opened + m.value("vertex_proxy_upstream_connections_reused_total")).isEqualTo(4);
      assertThat(m.value("vertex_proxy_upstream_connect_failures_total")).isZero();

      // Google tokens: miss (failed fetch), miss (fetched), then hits for two allowed calls and the stream
      assertThat(m.value("vertex_proxy_google_token_cache_misses_total")).isEqualTo(2);
      assertThat(m.value("vertex_proxy_google_token_cache_hits_total")).isEqualTo(3);
      assertThat(m.value("vertex_proxy_google_token_fetches_total", "outcome", "failure")).isEqualTo(1);
      assertThat(m.value("vertex_proxy_google_token_fetches_total", "outcome", "success")).isEqualTo(1);
      assertThat(m.value("vertex_proxy_google_token_earliest_expiry_seconds")).isBetween(60.0, 3600.0);

      // identity keys: fetched to get ready, cached since (the issuer's own count now includes Google's STS fetching them)
      assertThat(m.value("vertex_proxy_jwks_fetches_total", "issuer", DevMode.ISSUER_NAME, "outcome", "success"))
          .isEqualTo(start.value("vertex_proxy_jwks_fetches_total", "issuer", DevMode.ISSUER_NAME, "outcome", "success"));
      assertThat(m.value("vertex_proxy_jwks_fetches_total", "issuer", DevMode.ISSUER_NAME, "outcome", "failure"))
          .isZero();

      // audit: one record per exchange, batches written and synced (group commit), nothing failed
      assertThat(m.value("vertex_proxy_audit_records_written_total")).isEqualTo(ids.size());
      double batches = m.value("vertex_proxy_audit_batch_records_count");
      assertThat(batches).isBetween(1.0, (double) ids.size());
      assertThat(m.value("vertex_proxy_audit_batch_records_sum")).isEqualTo(ids.size());
      assertHistogram(m, "vertex_proxy_audit_write_seconds", (long) batches);
      assertHistogram(m, "vertex_proxy_audit_fsync_seconds", (long) batches);
      assertThat(m.sum("vertex_proxy_audit_failures_total")).isZero();
      assertThat(m.value("vertex_proxy_audit_queue_depth")).isZero();

      // policy: the version in force, reloads by result
      assertThat(m.family("vertex_proxy_policy_info").samples()).singleElement()
          .satisfies(s -> assertThat(s.labels()).containsEntry("version", stack.dev.proxy().policyVersion()))
          .satisfies(s -> assertThat(s.value()).isEqualTo(1));
      assertThat(stack.dev.proxy().policyVersion()).startsWith("sha256:");
      // the admin's own reloads (the directory watch may also have judged the edits: trigger watch)
      assertThat(m.value("vertex_proxy_policy_reloads_total", "result", "unchanged", "trigger", "admin")).isEqualTo(1);
      assertThat(m.value("vertex_proxy_policy_reloads_total", "result", "refused", "trigger", "admin")).isEqualTo(1);
      assertThat(m.sum("vertex_proxy_policy_reloads_total", "result", "reloaded")).isZero();
      assertThat(m.value("vertex_proxy_policy_last_reload_failure_timestamp_seconds")).isPositive();
      assertThat(m.value("vertex_proxy_policy_last_reload_success_timestamp_seconds")).isPositive();

      // the runtime
      for (String family : List.of("jvm_memory_used_bytes", "jvm_threads_live_threads", "jvm_gc_memory_allocated_bytes_total",
          "jvm_classes_loaded_classes", "process_cpu_usage", "process_uptime_seconds", "process_files_open_files",
          "netty_allocator_used_memory_bytes", "netty_pooled_allocator_arenas",
          "netty_pooled_allocator_thread_local_caches")) {
        assertThat(m.family(family).samples()).as(family).isNotEmpty();
      }
      assertThat(m.value("netty_allocator_used_memory_bytes", "allocator", "default", "memory", "direct"))
          .isGreaterThanOrEqualTo(0);

      // every family explains itself; no label value is anyone's identity, token, project or resource
      List<String> forbidden = new ArrayList<>(secrets);
      forbidden.add(DevMode.PROJECT);
      for (JsonNode r : records) {
        if (r.hasNonNull("subject")) {
          forbidden.add(r.get("subject").asText());
        }
        if (r.hasNonNull("resource")) {
          forbidden.add(r.get("resource").asText());
        }
      }
      assertThat(forbidden).contains("projects/dev-project/locations/us-central1/publishers/google/models/gemini-2.0-flash");
      for (Family f : m.families().values()) {
        assertThat(f.help()).as("HELP of %s", f.name()).isNotBlank();
        for (Sample s : f.samples()) {
          for (String value : s.labels().values()) {
            for (String secret : forbidden) {
              assertThat(value).as("label of %s", s).doesNotContain(secret);
            }
          }
        }
      }
    } finally {
      stack.dev.close();
    }
    assertThat(AuditVerifier.verify(stack.auditDir()).ok()).isTrue();
  }

  /**
   * What a caller controls — the HTTP method, the path, the query, the headers, the token's claims — never becomes a
   * label value: however hostile the requests, the label values stay inside their closed sets and the exposition
   * still parses.
   */
  @Test
  void nothingACallerSendsBecomesALabel() throws Exception {
    DevStack stack = DevStack.start(tmp, null);
    try {
      stack.awaitReady();
      String admin = (String) stack.dev.info().get("admin_url");
      String evil = "EVIL\\\"} 1\n# TYPE x counter\nx_total{a=\"";
      String jwt = stack.mint(Map.of("sub", evil, "user_login", evil));
      String model = "/v1/projects/dev-project/locations/us-central1/publishers/google/models/gemini-2.0-flash";
      List<String> raw = List.of(
          "PURGE " + model + ":generateContent HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
          "POST " + model + ":EVIL%22%7D HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
          "POST /v1/projects/EVIL\"}/locations/us-central1/publishers/google/models/m:generateContent HTTP/1.1\r\n"
              + "Host: x\r\nContent-Length: 0\r\n\r\n",
          "POST " + model + ":generateContent?EVIL=%22%7D HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
          "POST " + model + ":generateContent HTTP/1.1\r\nHost: x\r\nX-Method: EVIL\r\nUser-Agent: EVIL\"}\r\n"
              + "Authorization: Bearer EVIL\"}\r\nContent-Length: 0\r\n\r\n",
          "POST /v1/projects/dev-project/locations/EVIL/publishers/google/models/m:generateContent HTTP/1.1\r\n"
              + "Host: x\r\nAuthorization: Bearer " + jwt + "\r\nContent-Length: 2\r\n\r\n{}",
          "POST " + model + ":generateContent HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + jwt
              + "\r\nContent-Type: application/json\r\nContent-Length: " + DevStack.BODY.length() + "\r\n\r\n"
              + DevStack.BODY);
      List<String> ids = new ArrayList<>();
      for (String request : raw) {
        try (RawCaller caller = new RawCaller(stack.proxyUrl())) {
          RawCaller.Response r = caller.send(request).read(Duration.ofSeconds(10));
          assertThat(r).as(request).isNotNull();
          ids.add(r.requestId());
        }
      }
      assertThat(stack.awaitAudit(ids)).hasSize(raw.size());

      PrometheusText m = scrape(stack, admin);
      assertThat(m.sum("vertex_proxy_requests_total")).isEqualTo(raw.size());
      List<String> reasons = Arrays.stream(Reason.values()).map(Reason::code).toList();
      for (Sample s : m.family("vertex_proxy_requests_total").samples()) {
        assertThat(s.label("method")).matches("none|[a-z][A-Za-z0-9]*(\\.[a-z][A-Za-z0-9]*)+");
        assertThat(s.label("decision")).isIn("allow", "deny", "none");
        assertThat(s.label("outcome")).isIn("allowed", "refused", "unavailable", "failed");
        assertThat(s.label("reason")).isIn(reasons);
        assertThat(s.label("status")).matches("[1-5][0-9][0-9]");
      }
      assertThat(m.families()).doesNotContainKey("x");
      for (Sample s : m.samples()) {
        assertThat(s.name()).doesNotStartWith("x_");
        for (String value : s.labels().values()) {
          assertThat(value).as("label of %s", s).doesNotContain("EVIL").doesNotContain(jwt);
        }
      }
    } finally {
      stack.dev.close();
    }
    assertThat(AuditVerifier.verify(stack.auditDir()).ok()).isTrue();
  }

  private static void assertHistogram(PrometheusText m, String name, long count, String... labels) {
    assertThat(m.family(name).type()).isEqualTo("histogram");
    assertThat(m.value(name + "_count", labels)).as("%s_count %s", name, List.of(labels)).isEqualTo(count);
    String[] inf = new String[labels.length + 2];
    System.arraycopy(labels, 0, inf, 0, labels.length);
    inf[labels.length] = "le";
    inf[labels.length + 1] = "+Inf";
    assertThat(m.value(name + "_bucket", inf)).as("%s +Inf bucket", name).isEqualTo(count);
    long buckets = m.family(name).samples().stream().filter(s -> s.name().equals(name + "_bucket"))
        .filter(s -> s.labels().entrySet().containsAll(pairs(labels).entrySet())).count();
    assertThat(buckets).as("%s buckets", name).isGreaterThan(5);
    assertThat(m.sum(name + "_sum", labels)).isGreaterThanOrEqualTo(0);
  }

  private static Map<String, String> pairs(String... labels) {
    Map<String, String> out = new HashMap<>();
    for (int i = 0; i < labels.length; i += 2) {
      out.put(labels[i], labels[i + 1]);
    }
    return out;
  }

  private static String expect(HttpResponse<String> r, int status, String reason) throws Exception {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
    if (reason != null) {
      assertThat(r.body()).contains(reason);
    }
    return r.headers().firstValue("x-vertex-proxy-request-id").orElseThrow();
  }

  private static HttpResponse<String> reload(DevStack stack, String admin) throws Exception {
    return stack.http.send(HttpRequest.newBuilder(URI.create(admin + "/policy/reload"))
        .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
  }

  private static PrometheusText scrape(DevStack stack, String admin) throws Exception {
    HttpResponse<String> r = stack.http.send(HttpRequest.newBuilder(URI.create(admin + "/metrics")).GET().build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("content-type").orElse("")).startsWith("text/plain; version=0.0.4");
    return PrometheusText.parse(r.body());
  }
}

package dev.vertexproxy.proxy.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import com.fasterxml.jackson.databind.JsonNode;
import dev.vertexproxy.dev.DevMode;
import dev.vertexproxy.proxy.audit.AuditVerifier;
import dev.vertexproxy.proxy.policy.PolicyInForce;
import dev.vertexproxy.proxy.testing.PrometheusText;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The running proxy picks up a replaced policy file without a restart — by symlink swap as a Kubernetes ConfigMap
 * volume does it, by rename as editors do, by a write in place — and each change decides requests within 2 s. A broken
 * replacement is refused where an operator looks (log, {@code GET /policy}, metrics), the old decisions stay, and the
 * next good file applies. A stream in flight across a swap completes under the decision it had.
 */
class PolicyReloadEndToEndTest {
  private static final Duration DEADLINE = Duration.ofSeconds(2);
  private static final String GRANT = "      - publishers.models.generateContent\n";

  @TempDir
  Path tmp;

  private final List<ILoggingEvent> logged = Collections.synchronizedList(new ArrayList<>());
  private AppenderBase<ILoggingEvent> capture;

  @BeforeEach
  void captureLogs() {
    capture = new AppenderBase<>() {
      @Override
      protected void append(ILoggingEvent e) {
        logged.add(e);
      }
    };
    capture.setContext((LoggerContext) LoggerFactory.getILoggerFactory());
    capture.start();
    logger().addAppender(capture);
  }

  @AfterEach
  void stopCapture() {
    logger().detachAppender(capture);
  }

  private static String samplePolicy() throws Exception {
    try (var in = DevMode.class.getResourceAsStream("dev-policy.yaml")) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  @Test
  void aSymlinkSwapARenameAndAWriteInPlaceEachChangeDecisionsWithoutARestart() throws Exception {
    String granting = samplePolicy();
    assertThat(granting).contains(GRANT);
    String withdrawn = granting.replace(GRANT, "");
    // the layout kubelet writes for a ConfigMap: policy.yaml -> ..data/policy.yaml, ..data -> ..<timestamp>
    Path mount = Files.createDirectories(tmp.resolve("configmap"));
    Path first = Files.createDirectories(mount.resolve("..2026_12_02_10_00_00.000000001"));
    Files.writeString(first.resolve("policy.yaml"), granting);
    Files.createSymbolicLink(mount.resolve("..data"), first.getFileName());
    Path file = Files.createSymbolicLink(mount.resolve("policy.yaml"), Path.of("..data", "policy.yaml"));
    // the periodic check is an hour: only the directory watch can apply these changes in time
    Path extra = Files.writeString(tmp.resolve("extra.yaml"), "policy: { check_interval: 1h }\n");
    DevStack stack = new DevStack(DevMode.start(new DevMode.Options(tmp.resolve("state"), "127.0.0.1", 0, 0, file, extra)));
    try {
      String auth = "Bearer " + stack.mint(Map.of());
      assertThat(stack.post(stack.examplePath(), auth, DevStack.BODY).statusCode()).isEqualTo(200);

      // (b) kubelet's swap: a new timestamped directory, a new ..data symlink renamed over the old one
      Path second = Files.createDirectories(mount.resolve("..2026_12_02_10_05_00.000000002"));
      Files.writeString(second.resolve("policy.yaml"), withdrawn);
      Path link = Files.createSymbolicLink(mount.resolve("..data_tmp"), second.getFileName());
      Files.move(link, mount.resolve("..data"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      awaitStatus(stack, auth, 403);

      // (a) an editor's save: a temporary file renamed over policy.yaml
      Path saved = Files.writeString(mount.resolve(".policy.yaml.swp"), granting + "# saved by an editor\n");
      Files.move(saved, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      awaitStatus(stack, auth, 200);

      // (c) a write in place
      Files.writeString(file, withdrawn + "# written in place\n");
      awaitStatus(stack, auth, 403);

      JsonNode status = policyStatus(stack);
      assertThat(status.get("version").asText()).isEqualTo(stack.dev.proxy().policyVersion());
      assertThat(status.get("last_attempt").get("trigger").asText()).isEqualTo("watch");
      assertThat(status.get("reloads").get("reloaded").asInt()).isEqualTo(3);
      assertThat(status.get("last_failure").isNull()).isTrue();
      PrometheusText m = scrape(stack);
      assertThat(m.value("vertex_proxy_policy_reloads_total", "result", "reloaded", "trigger", "watch")).isEqualTo(3);
      assertThat(m.family("vertex_proxy_policy_info").samples()).singleElement()
          .satisfies(s -> assertThat(s.labels()).containsEntry("version", stack.dev.proxy().policyVersion()));
    } finally {
      stack.dev.close();
    }
    List<String> versions = stack.auditRecords().stream().map(r -> r.path("policy_version").asText()).distinct().toList();
    assertThat(versions).as("every decision names the version that made it").hasSizeGreaterThanOrEqualTo(4);
    assertThat(AuditVerifier.verify(stack.auditDir()).ok()).isTrue();
  }

  @Test
  void aBrokenReplacementKeepsTheOldDecisionsShowsEverywhereAndTheNextGoodFileApplies() throws Exception {
    DevStack stack = DevStack.start(tmp, "policy: { check_interval: 1h }\n");
    try {
      Path file = Path.of((String) stack.dev.info().get("policy_file"));
      String good = Files.readString(file);
      String version = stack.dev.proxy().policyVersion();
      String auth = "Bearer " + stack.mint(Map.of());
      assertThat(stack.post(stack.examplePath(), auth, DevStack.BODY).statusCode()).isEqualTo(200);

      Files.writeString(file, good.replace(GRANT, "      - publishers.models.generateContentt\n")
          .replace("issuer: humans", "issuer: robots"));
      long deadline = System.nanoTime() + DEADLINE.toNanos();
      JsonNode status = policyStatus(stack);
      while (status.get("last_failure").isNull() && System.nanoTime() < deadline) {
        Thread.sleep(20);
        status = policyStatus(stack);
      }
      // the admin view: the version in force, the refused attempt and every problem with its line
      assertThat(status.get("version").asText()).isEqualTo(version);
      assertThat(status.get("last_attempt").get("result").asText()).isEqualTo("refused");
      JsonNode problems = status.get("last_failure").get("problems");
      assertThat(problems.size()).as("both rules' typo and the unknown issuer").isEqualTo(3);
      String messages = Stream.of(problems.get(0), problems.get(1), problems.get(2))
          .map(p -> p.get("file").asText() + ":" + p.get("line").asInt() + " " + p.get("message").asText())
          .collect(Collectors.joining("\n"));
      assertThat(messages).contains(file + ":").contains("generateContentt").contains("robots");
      // the old decisions stay
      assertThat(stack.post(stack.examplePath(), auth, DevStack.BODY).statusCode()).isEqualTo(200);
      // the log: one WARN with both problems and their lines
      assertThat(logged.stream().filter(e -> e.getLevel() == Level.WARN).map(ILoggingEvent::getFormattedMessage))
          .singleElement().satisfies(w -> assertThat(w).contains("refused", version, "generateContentt", "robots",
              file + ":" + problems.get(0).get("line").asInt() + ":"));
      // the metrics
      PrometheusText m = scrape(stack);
      assertThat(m.value("vertex_proxy_policy_reloads_total", "result", "refused", "trigger", "watch")).isEqualTo(1);
      assertThat(m.value("vertex_proxy_policy_last_reload_failure_timestamp_seconds")).isPositive();
      assertThat(m.family("vertex_proxy_policy_info").samples()).singleElement()
          .satisfies(s -> assertThat(s.labels()).containsEntry("version", version));

      // the next good file applies
      Files.writeString(file, good.replace(GRANT, ""));
      awaitStatus(stack, auth, 403);
      assertThat(policyStatus(stack).get("last_attempt").get("result").asText()).isEqualTo("reloaded");
    } finally {
      stack.dev.close();
    }
  }

  @Test
  void aStreamInFlightAcrossASwapCompletesAndTheNextRequestMeetsTheNewPolicy() throws Exception {
    DevStack stack = DevStack.start(tmp, "policy: { check_interval: 1h }\n");
    try {
      Path file = Path.of((String) stack.dev.info().get("policy_file"));
      String good = Files.readString(file);
      String before = stack.dev.proxy().policyVersion();
      String auth = "Bearer " + stack.mint(Map.of());
      stack.dev.vertex().streamPacing(Duration.ofMillis(250), 6);
      String stream = stack.examplePath().replace(":generateContent", ":streamGenerateContent?alt=sse");
      CompletableFuture<HttpResponse<Stream<String>>> inFlight = stack.http.sendAsync(
          HttpRequest.newBuilder(URI.create(stack.proxyUrl() + stream)).header("Authorization", auth)
              .POST(HttpRequest.BodyPublishers.ofString(DevStack.BODY)).build(), HttpResponse.BodyHandlers.ofLines());
      HttpResponse<Stream<String>> streaming = inFlight.get(10, TimeUnit.SECONDS); // its head: past the policy step
      assertThat(streaming.statusCode()).isEqualTo(200);

      // withdraw streaming while the stream runs (rename over, as an editor saves)
      Path saved = Files.writeString(file.resolveSibling("policy.yaml.new"),
          good.replace("      - publishers.models.streamGenerateContent\n", ""));
      Files.move(saved, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      long deadline = System.nanoTime() + DEADLINE.toNanos();
      HttpResponse<String> after = stack.post(stream, auth, DevStack.BODY);
      while (after.statusCode() != 403 && System.nanoTime() < deadline) {
        Thread.sleep(20);
        after = stack.post(stream, auth, DevStack.BODY);
      }
      assertThat(after.statusCode()).as("a stream started after the swap").isEqualTo(403);
      String newVersion = stack.dev.proxy().policyVersion();
      assertThat(newVersion).isNotEqualTo(before);

      // the stream in flight runs to its end: every event, and the record of an allowed exchange
      List<String> events = streaming.body().filter(l -> l.startsWith("data:")).toList();
      assertThat(events).hasSize(6);
      String streamId = streaming.headers().firstValue("x-vertex-proxy-request-id").orElseThrow();
      String deniedId = after.headers().firstValue("x-vertex-proxy-request-id").orElseThrow();
      List<JsonNode> records = stack.awaitAudit(List.of(streamId, deniedId));
      JsonNode streamed = records.stream().filter(r -> r.get("request_id").asText().equals(streamId)).findFirst().orElseThrow();
      JsonNode denied = records.stream().filter(r -> r.get("request_id").asText().equals(deniedId)).findFirst().orElseThrow();
      assertThat(streamed.get("outcome").asText()).isEqualTo("allowed");
      assertThat(streamed.get("policy_version").asText()).isEqualTo(before);
      assertThat(denied.get("reason").asText()).isEqualTo("method-not-granted");
      assertThat(denied.get("policy_version").asText()).isEqualTo(newVersion);
    } finally {
      stack.dev.close();
    }
  }

  private static void awaitStatus(DevStack stack, String auth, int expected) throws Exception {
    long deadline = System.nanoTime() + DEADLINE.toNanos();
    int status = stack.post(stack.examplePath(), auth, DevStack.BODY).statusCode();
    while (status != expected && System.nanoTime() < deadline) {
      Thread.sleep(20);
      status = stack.post(stack.examplePath(), auth, DevStack.BODY).statusCode();
    }
    assertThat(status).as("the decision within %s of the change", DEADLINE).isEqualTo(expected);
  }

  static JsonNode policyStatus(DevStack stack) throws Exception {
    HttpResponse<String> r = stack.http.send(HttpRequest.newBuilder(URI.create(stack.dev.info().get("admin_url") + "/policy"))
        .build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("content-type").orElse("")).startsWith("application/json");
    return DevStack.JSON.readTree(r.body());
  }

  private static PrometheusText scrape(DevStack stack) throws Exception {
    return PrometheusText.parse(stack.http.send(HttpRequest.newBuilder(URI.create(stack.dev.info().get("admin_url")
        + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body());
  }

  private static Logger logger() {
    return ((LoggerContext) LoggerFactory.getILoggerFactory()).getLogger(PolicyInForce.class);
  }
}

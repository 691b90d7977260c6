package dev.vertexproxy.proxy.crash;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.Yaml;

/**
 * SIGHUP on a real {@code vertex-proxy serve} process reloads its policy: the directory watch is off and the periodic
 * check an hour, so the signal is the only thing that can apply the edit. The process survives the signal (the JVM's
 * default for SIGHUP is to exit) and {@code GET /policy} names the trigger.
 */
class PolicySignalTest {
  private static final Duration DEADLINE = Duration.ofSeconds(10);
  private static final String GRANT = "      - publishers.models.generateContent\n";

  @TempDir
  static Path work;
  static CrashHarness harness;

  @BeforeAll
  static void start() throws Exception {
    harness = CrashHarness.start(work);
  }

  @AfterAll
  static void stop() {
    if (harness != null) {
      harness.close();
    }
  }

  @Test
  void sighupReloadsThePolicyOfARunningProcess() throws Exception {
    Path config = harness.writeConfig("sighup", work.resolve("audit"), "group_commit", "reject");
    Map<String, Object> cfg = new Yaml().load(Files.readString(config, StandardCharsets.UTF_8));
    @SuppressWarnings("unchecked")
    Map<String, Object> policyBlock = (Map<String, Object>) cfg.get("policy");
    Path policy = work.resolve("sighup-policy.yaml");
    String granting = Files.readString(Path.of((String) policyBlock.get("file")));
    assertThat(granting).contains(GRANT);
    Files.writeString(policy, granting);
    Map<String, Object> block = new LinkedHashMap<>();
    block.put("file", policy.toString());
    block.put("watch", false);
    block.put("check_interval", "1h");
    cfg.put("policy", block);
    int adminPort;
    try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      adminPort = probe.getLocalPort();
    }
    cfg.put("admin", new LinkedHashMap<>(Map.of("address", "127.0.0.1:" + adminPort)));
    DumperOptions options = new DumperOptions();
    options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
    Files.writeString(config, new Yaml(options).dump(cfg), StandardCharsets.UTF_8);

    HttpClient http = CrashHarness.client();
    String jwt = harness.mint();
    try (ProxyChild child = ProxyChild.start(config, work.resolve("logs"), List.of())) {
      child.awaitReady(harness.baseUrl());
      assertThat(harness.call(http, jwt, true).status()).isEqualTo(200);

      Files.writeString(policy, granting.replace(GRANT, ""));
      // without the signal nothing applies the edit
      assertThat(harness.call(http, jwt, true).status()).isEqualTo(200);
      Process kill = new ProcessBuilder("kill", "-HUP", Long.toString(child.pid())).inheritIO().start();
      assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
      assertThat(kill.exitValue()).isZero();

      long deadline = System.nanoTime() + DEADLINE.toNanos();
      int status = harness.call(http, jwt, true).status();
      while (status != 403 && System.nanoTime() < deadline) {
        Thread.sleep(20);
        status = harness.call(http, jwt, true).status();
      }
      assertThat(status).as("the edit applied after SIGHUP\n" + child.output()).isEqualTo(403);
      assertThat(child.alive()).isTrue();

      HttpResponse<String> view = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + "/policy"))
          .build(), HttpResponse.BodyHandlers.ofString());
      JsonNode shown = CrashHarness.JSON.readTree(view.body());
      assertThat(shown.get("last_attempt").get("trigger").asText()).isEqualTo("signal");
      assertThat(shown.get("last_attempt").get("result").asText()).isEqualTo("reloaded");
      assertThat(child.output()).contains("policy reloaded (signal)");
      assertThat(child.stop()).as("drained and exited on SIGTERM, not killed").isNotEqualTo(-1);
    }
  }
}

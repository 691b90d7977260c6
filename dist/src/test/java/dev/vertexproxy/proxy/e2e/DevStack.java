package dev.vertexproxy.proxy.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vertexproxy.dev.DevMode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/** Test helpers around a running {@link DevMode}: minting tokens, calling the proxy, reading the audit trail. */
final class DevStack {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String BODY = "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"Hello, Vertex\"}]}]}";

  final DevMode dev;
  final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).version(HttpClient.Version.HTTP_1_1).build();

  DevStack(DevMode dev) {
    this.dev = dev;
  }

  /**
   * A dev stack whose state lives under {@code dir}, with {@code extraConfig} (proxy.yaml settings, or {@code null})
   * merged over the dev defaults, as {@code scripts/dev --config} does.
   */
  static DevStack start(Path dir, String extraConfig) throws Exception {
    return start(dir, extraConfig, null, null);
  }

  /** As {@link #start(Path, String)}, with a policy of its own (or {@code null}) and every part on {@code clock}. */
  static DevStack start(Path dir, String extraConfig, String policyYaml, Clock clock) throws Exception {
    Path extra = null;
    if (extraConfig != null) {
      extra = dir.resolve("extra.yaml");
      Files.writeString(extra, extraConfig);
    }
    Path policy = null;
    if (policyYaml != null) {
      policy = dir.resolve("policy.yaml");
      Files.writeString(policy, policyYaml);
    }
    return new DevStack(DevMode.start(new DevMode.Options(dir.resolve("state"), "127.0.0.1", 0, 0, policy, extra)
        .withClock(clock)));
  }

  String proxyUrl() {
    return dev.proxyUrl();
  }

  Path auditDir() {
    return Path.of((String) dev.info().get("audit_dir"));
  }

  String examplePath() {
    return (String) dev.info().get("example_path");
  }

  /** Mints a token at the dev issuer's HTTP mint endpoint (the same one the README's curl uses). */
  String mint(Map<String, Object> claims) throws IOException, InterruptedException {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create((String) dev.info().get("mint_url")))
        .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(claims)))
        .header("Content-Type", "application/json").build(), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IllegalStateException("mint failed: " + r.statusCode() + " " + r.body());
    }
    return JSON.readTree(r.body()).get("token").asText();
  }

  HttpResponse<String> post(String path, String authorization, String body, String... headers)
      throws IOException, InterruptedException {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(proxyUrl() + path))
        .timeout(Duration.ofSeconds(20))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body));
    if (authorization != null) {
      b.header("Authorization", authorization);
    }
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  HttpResponse<String> get(String path, String authorization) throws IOException, InterruptedException {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(proxyUrl() + path)).timeout(Duration.ofSeconds(20)).GET();
    if (authorization != null) {
      b.header("Authorization", authorization);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /**
   * Waits (bounded) until the proxy says it should get traffic: its issuers' keys are loaded in the background after
   * start, and the serving port's {@code /healthz} answers 503 until then.
   */
  void awaitReady() throws IOException, InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (get("/healthz", null).statusCode() != 200) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("the proxy did not become ready within 10 s");
      }
      Thread.sleep(20);
    }
  }

  /**
   * The records of exchanges written so far (type exchange or decision), in file order: the writer's own checkpoint,
   * seal and retention records are left out ({@link #trailRecords} has them).
   */
  List<JsonNode> auditRecords() throws IOException {
    return trailRecords().stream()
        .filter(r -> List.of("exchange", "decision").contains(r.path("type").asText("exchange"))).toList();
  }

  /** All audit records written so far, in file order (a line still being written is left out). */
  List<JsonNode> trailRecords() throws IOException {
    List<JsonNode> out = new ArrayList<>();
    if (!Files.isDirectory(auditDir())) {
      return out;
    }
    try (Stream<Path> files = Files.list(auditDir())) {
      for (Path f : files.filter(p -> p.getFileName().toString().endsWith(".jsonl")).sorted().toList()) {
        String content = Files.readString(f, StandardCharsets.UTF_8);
        // a live trail: the writer may be half-way through its last line, which is not a record yet
        int complete = content.lastIndexOf('\n') + 1;
        for (String line : content.substring(0, complete).split("\n")) {
          if (!line.isBlank()) {
            out.add(JSON.readTree(line));
          }
        }
      }
    }
    return out;
  }

  /** Waits (bounded) until the audit trail holds a record for every given request id; returns them keyed by id. */
  List<JsonNode> awaitAudit(List<String> requestIds) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (true) {
      List<JsonNode> all = auditRecords();
      List<JsonNode> matching = all.stream().filter(r -> requestIds.contains(r.path("request_id").asText())).toList();
      if (matching.size() >= requestIds.size() || System.nanoTime() > deadline) {
        return matching;
      }
      Thread.sleep(20);
    }
  }
}

package dev.vertexproxy.proxy.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vertexproxy.proxy.audit.AuditVerifier;
import dev.vertexproxy.dev.DevMode;
import dev.vertexproxy.emulators.VertexEmulator;
import dev.vertexproxy.proxy.cli.Main;
import dev.vertexproxy.proxy.testing.Examples;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The documented Node example ({@code examples/node/generate.mjs}: {@code @google/genai} with a google-auth-library
 * {@code OAuth2Client} holding the job token) run by {@code node} against the dev stack, as a GitLab job would run it.
 *
 * <p>Its dependencies come from the committed lockfile: {@code npm ci} installs them into
 * {@code examples/node/node_modules} when they are absent or older than the lockfile.
 */
class NodeExampleEndToEndTest {
  private static final Duration NODE_TIMEOUT = Duration.ofSeconds(60);

  @TempDir
  static Path state;
  static DevStack stack;
  static Path example;

  @BeforeAll
  static void start() throws Exception {
    Examples.requireTool("node", "run the documented Node example");
    Examples.requireTool("npm", "install the Node example's dependencies");
    example = Examples.dir("node");
    installDependencies(example);
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

  private static void installDependencies(Path dir) throws IOException {
    Path installed = dir.resolve("node_modules/.package-lock.json");
    Path lockfile = dir.resolve("package-lock.json");
    if (Files.isRegularFile(installed)
        && Files.getLastModifiedTime(installed).compareTo(Files.getLastModifiedTime(lockfile)) >= 0) {
      return;
    }
    Examples.Result r = Examples.run(dir, Map.of(), Duration.ofMinutes(5), "npm", "ci", "--no-audit", "--no-fund");
    assertThat(r.exitCode()).as("npm ci in %s:\n%s\n%s", dir, r.stdout(), r.stderr()).isZero();
  }

  /** Runs the example as a GitLab job would: the proxy URL, project and location as variables, the token from id_tokens:. */
  private static Examples.Result runExample(String jwt) throws IOException {
    return Examples.run(example, Map.of(
        "VERTEX_PROXY_URL", stack.proxyUrl(),
        "VERTEX_PROXY_TOKEN", jwt,
        "GOOGLE_CLOUD_PROJECT", DevMode.PROJECT,
        "GOOGLE_CLOUD_LOCATION", DevMode.LOCATION,
        "METADATA_SERVER_DETECTION", "none"), NODE_TIMEOUT, "node", "generate.mjs");
  }

  private static List<JsonNode> auditRecordsOfJob(String jobId, int expected) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (true) {
      List<JsonNode> records = stack.auditRecords().stream()
          .filter(r -> jobId.equals(r.at("/caller/claims/job_id").asText())).toList();
      if (records.size() >= expected || System.nanoTime() > deadline) {
        return records;
      }
      Thread.sleep(20);
    }
  }

  @Test
  void theDocumentedExampleAnswersThroughTheProxyAndIsAudited() throws Exception {
    String jobId = UUID.randomUUID().toString();
    String jwt = stack.mint(Map.of("job_id", jobId, "exp", Instant.now().plus(Duration.ofHours(1)).getEpochSecond()));

    Examples.Result r = runExample(jwt);

    assertThat(r.exitCode()).as(r.describe(jwt)).isZero();
    assertThat(r.stdout()).as("the emulator echoes the prompt").contains("Hello from GitLab CI");
    assertThat(r.stdout() + r.stderr()).doesNotContain(jwt);
    List<VertexEmulator.SeenRequest> seen = stack.dev.vertex().seen();
    assertThat(seen).hasSize(1);
    assertThat(seen.get(0).path())
        .startsWith("/v1beta1/projects/dev-project/locations/us-central1/publishers/google/models/gemini-2.0-flash"
            + ":generateContent");
    assertThat(seen.get(0).principal()).isEqualTo(DevMode.SERVICE_ACCOUNT);
    assertThat(seen.get(0).headers().toString()).doesNotContain(jwt);

    List<JsonNode> records = auditRecordsOfJob(jobId, 1);
    assertThat(records).hasSize(1);
    JsonNode record = records.get(0);
    assertThat(record.path("decision").asText()).isEqualTo("allow");
    assertThat(record.path("method").asText()).isEqualTo("publishers.models.generateContent");
    assertThat(record.path("project").asText()).isEqualTo(DevMode.PROJECT);
    assertThat(record.path("status").asInt()).isEqualTo(200);
    assertThat(record.path("google_principal").asText()).isEqualTo(DevMode.SERVICE_ACCOUNT);
    assertThat(record.toString()).doesNotContain(jwt);
    assertThat(AuditVerifier.verify(stack.auditDir()).ok()).isTrue();
  }

  @Test
  void theAdcExampleUsesTheProxyWithNoCredentialCode() throws Exception {
    // docs/gitlab-ci.md's recipe for Node: the job token in a file, `vertex-proxy adc`, and the SDK's own defaults;
    // google-auth-library exchanges the token at the proxy's token exchange over dev's TLS listener
    String jobId = UUID.randomUUID().toString();
    String jwt = stack.mint(Map.of("job_id", jobId, "exp", Instant.now().plus(Duration.ofHours(1)).getEpochSecond()));
    Path token = Files.writeString(state.resolve("id-token"), jwt);
    Path adc = state.resolve("adc.json");
    String tlsUrl = (String) stack.dev.info().get("proxy_tls_url");
    String ca = (String) stack.dev.info().get("ca_file");
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int exit = Main.run(new PrintWriter(out), new PrintWriter(err), "adc", "--proxy", tlsUrl, "--token-file",
        token.toString(), "--output", adc.toString(), "--ca-file", ca);
    assertThat(exit).as(err.toString()).isZero();

    Examples.Result r = Examples.run(example, Map.of(
        "GOOGLE_APPLICATION_CREDENTIALS", adc.toString(),
        "GOOGLE_GENAI_USE_VERTEXAI", "true",
        "GOOGLE_VERTEX_BASE_URL", tlsUrl,
        "GOOGLE_CLOUD_PROJECT", DevMode.PROJECT,
        "GOOGLE_CLOUD_LOCATION", DevMode.LOCATION,
        "NODE_EXTRA_CA_CERTS", ca,
        "METADATA_SERVER_DETECTION", "none"), NODE_TIMEOUT, "node", "generate-adc.mjs");

    assertThat(r.exitCode()).as(r.describe(jwt)).isZero();
    assertThat(r.stdout()).as("the emulator echoes the prompt").contains("Hello from GitLab CI");
    assertThat(stack.dev.vertex().seen()).singleElement().satisfies(seen -> {
      assertThat(seen.principal()).isEqualTo(DevMode.SERVICE_ACCOUNT);
      assertThat(seen.headers().toString()).doesNotContain(jwt);
    });
    assertThat(auditRecordsOfJob(jobId, 2)).extracting(x -> x.path("method").asText())
        .containsExactlyInAnyOrder("proxy.tokenExchange", "publishers.models.generateContent");
  }

  @Test
  void aJobTokenInsideTheLibrarysFiveMinuteMarginIsNeverSent() throws Exception {
    // google-auth-library treats a token with 5 minutes or less left as expiring and, with no way to refresh it,
    // refuses the call before sending it: what docs/gitlab-ci.md says a job sees in its token's last minutes.
    String jobId = UUID.randomUUID().toString();
    String jwt = stack.mint(Map.of("job_id", jobId, "exp", Instant.now().plus(Duration.ofMinutes(4)).getEpochSecond()));

    Examples.Result r = runExample(jwt);

    assertThat(r.exitCode()).as(r.describe(jwt)).isNotZero();
    assertThat(r.stderr()).as(r.describe(jwt)).contains("No refresh token is set");
    assertThat(stack.dev.vertex().seen()).isEmpty();
    assertThat(auditRecordsOfJob(jobId, 0)).isEmpty();
  }
}

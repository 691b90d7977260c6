package dev.vertexproxy.proxy.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vertexproxy.dev.DevMode;
import dev.vertexproxy.dev.DistMain;
import dev.vertexproxy.examples.GenAiWithAdc;
import dev.vertexproxy.proxy.audit.AuditVerifier;
import dev.vertexproxy.proxy.testing.Examples;
import java.io.File;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.Yaml;

/**
 * The CI recipe of docs/gitlab-ci.md ("no credential code at all"), run as written: its {@code script:} lines in bash
 * with its {@code variables:} and its {@code id_tokens:} token, against {@code vertex-proxy dev}. {@code vertex-proxy}
 * is this build's CLI and {@code app.jar} runs the documented example, the Gen AI Java SDK with nothing but its
 * defaults: Application Default Credentials from the file {@code vertex-proxy adc} wrote, the base URL from the
 * environment. Only what makes production dev are changed: the proxy URL (dev's TLS listener), the project and
 * location, and trust in dev's CA (a truststore in {@code JAVA_TOOL_OPTIONS}, which google-auth and the SDK both use).
 */
class AdcRecipeEndToEndTest {
  static final String GUIDE = "docs/gitlab-ci.md";
  static final String MARKER = "<!-- recipe: adc -->";

  @TempDir
  static Path state;
  static DevStack stack;

  @BeforeAll
  static void start() throws Exception {
    stack = new DevStack(DevMode.start(DevMode.Options.forTests(state.resolve("dev"))));
    stack.awaitReady();
  }

  @AfterAll
  static void stop() {
    if (stack != null) {
      stack.dev.close();
    }
  }

  /** The recipe's job: the YAML block right after the marker. */
  @SuppressWarnings("unchecked")
  static Map<String, Object> recipe() throws Exception {
    List<String> lines = Files.readAllLines(Examples.repoRoot().resolve(GUIDE), StandardCharsets.UTF_8);
    int at = lines.indexOf(MARKER);
    assertThat(at).as("%s has a %s block", GUIDE, MARKER).isNotNegative();
    assertThat(lines.get(at + 1)).isEqualTo("```yaml");
    int end = lines.subList(at + 2, lines.size()).indexOf("```") + at + 2;
    Map<String, Object> doc = new Yaml().load(String.join("\n", lines.subList(at + 2, end)));
    assertThat(doc).hasSize(1);
    return (Map<String, Object>) doc.values().iterator().next();
  }

  @Test
  @SuppressWarnings("unchecked")
  void theDocumentedRecipeRunsTheUnmodifiedSdkThroughTheProxyAsTheJob() throws Exception {
    Map<String, Object> job = recipe();
    Map<String, String> variables = (Map<String, String>) job.get("variables");
    Map<String, Map<String, String>> idTokens = (Map<String, Map<String, String>>) job.get("id_tokens");
    List<String> script = (List<String>) job.get("script");
    String documentedProxy = variables.get("VERTEX_PROXY_URL");
    String tlsUrl = (String) stack.dev.info().get("proxy_tls_url");

    Map<String, String> env = new LinkedHashMap<>();
    for (Map.Entry<String, String> v : variables.entrySet()) {
      env.put(v.getKey(), v.getValue().equals(documentedProxy) ? tlsUrl : v.getValue());
    }
    env.put("GOOGLE_CLOUD_PROJECT", DevMode.PROJECT);
    env.put("GOOGLE_CLOUD_LOCATION", DevMode.LOCATION);
    String jobId = UUID.randomUUID().toString();
    for (Map.Entry<String, Map<String, String>> t : idTokens.entrySet()) {
      assertThat(t.getValue().get("aud")).as("the token is for the proxy").isEqualTo(documentedProxy);
      env.put(t.getKey(), stack.mint(Map.of("job_id", jobId))); // dev's issuer, dev's audience
    }

    Path work = Files.createDirectories(state.resolve("job"));
    Path bin = Files.createDirectories(work.resolve("bin"));
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    executable(bin.resolve("java"), "exec " + java + " \"$@\"");
    executable(bin.resolve("vertex-proxy"), "exec " + java + " -cp '" + System.getProperty("java.class.path") + "' "
        + DistMain.class.getName() + " \"$@\"");
    appJar(work.resolve("app.jar"));
    Path trust = DevTrust.storeFile(Path.of((String) stack.dev.info().get("ca_file")), work.resolve("dev-ca.p12"));
    env.put("JAVA_TOOL_OPTIONS", "-Djavax.net.ssl.trustStore=" + trust + " -Djavax.net.ssl.trustStorePassword="
        + DevTrust.STORE_PASSWORD + " -Djavax.net.ssl.trustStoreType=PKCS12 -XX:TieredStopAtLevel=1 -XX:+UseSerialGC");
    env.put("PATH", bin + ":/usr/bin:/bin");
    env.put("HOME", work.toString());

    List<String> command = new ArrayList<>(List.of("bash", "-euo", "pipefail", "-c", String.join("\n", script)));
    ProcessBuilder pb = new ProcessBuilder(command).directory(work.toFile());
    pb.environment().clear();
    pb.environment().putAll(env);
    File out = work.resolve("stdout").toFile();
    File err = work.resolve("stderr").toFile();
    Process p = pb.redirectOutput(out).redirectError(err).start();
    boolean done = p.waitFor(180, TimeUnit.SECONDS);
    if (!done) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
    }
    String stdout = Files.readString(out.toPath());
    String report = "stdout:\n" + stdout + "\nstderr:\n" + Files.readString(err.toPath());
    assertThat(done).as(report).isTrue();
    assertThat(p.exitValue()).as(report).isZero();
    assertThat(stdout).as(report).contains("Hello from GitLab CI");
    assertThat(stdout.lines().filter(l -> !l.isBlank()).count()).as("the answer, then the streamed chunks")
        .isGreaterThanOrEqualTo(2);

    List<JsonNode> records = awaitRecordsOfJob(jobId, 3);
    assertThat(records).extracting(r -> r.path("method").asText())
        .contains("proxy.tokenExchange", "publishers.models.generateContent", "publishers.models.streamGenerateContent");
    assertThat(records).allSatisfy(r -> {
      assertThat(r.at("/caller/issuer").asText()).isEqualTo(DevMode.ISSUER_NAME);
      assertThat(r.path("status").asInt()).isEqualTo(200);
    });
    assertThat(records.stream().filter(r -> r.path("method").asText().startsWith("publishers.")))
        .allSatisfy(r -> assertThat(r.path("decision").asText()).isEqualTo("allow"));
    assertThat(AuditVerifier.verify(stack.auditDir()).ok()).isTrue();
    String jobToken = env.get(idTokens.keySet().iterator().next());
    assertThat(stack.dev.vertex().seen()).isNotEmpty().allSatisfy(seen -> {
      assertThat(seen.principal()).isEqualTo(DevMode.SERVICE_ACCOUNT);
      assertThat(seen.headers().toString()).doesNotContain(jobToken);
    });
  }

  private static void executable(Path file, String line) throws Exception {
    Files.writeString(file, "#!/bin/sh\n" + line + "\n");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwx------"));
  }

  /** An executable jar whose manifest runs the documented example with this build's classpath. */
  private static void appJar(Path jar) throws Exception {
    Manifest m = new Manifest();
    m.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
    m.getMainAttributes().put(Attributes.Name.MAIN_CLASS, GenAiWithAdc.class.getName());
    StringBuilder cp = new StringBuilder();
    for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
      cp.append(Path.of(entry).toUri()).append(' ');
    }
    m.getMainAttributes().put(Attributes.Name.CLASS_PATH, cp.toString().trim());
    try (OutputStream o = Files.newOutputStream(jar); JarOutputStream j = new JarOutputStream(o, m)) {
      j.flush();
    }
  }

  private static List<JsonNode> awaitRecordsOfJob(String jobId, int expected) throws Exception {
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
}

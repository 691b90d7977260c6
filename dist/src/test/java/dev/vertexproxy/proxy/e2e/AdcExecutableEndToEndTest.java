package dev.vertexproxy.proxy.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vertexproxy.dev.DevMode;
import dev.vertexproxy.examples.GenAiWithAdc;
import dev.vertexproxy.proxy.cli.Main;
import java.io.File;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The person's variant of {@code vertex-proxy adc}: {@code --login} writes an executable-sourced
 * {@code external_account} file, and google-auth runs the command in it for the subject token. Here the command is a
 * stand-in for {@code vertex-proxy token --format google-executable} that checks what google-auth hands it (the
 * arguments adc wrote, {@code GOOGLE_EXTERNAL_ACCOUNT_INTERACTIVE=0}) and prints the documented executable response,
 * so the test holds the contract between adc, google-auth and the token command: the Gen AI Java SDK in a child JVM,
 * with only the environment, succeeds through the proxy as the token's identity, and refuses to run the command at all
 * without {@code GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES=1}.
 */
class AdcExecutableEndToEndTest {
  @TempDir
  static Path dir;
  static DevStack stack;

  @BeforeAll
  static void start() throws Exception {
    stack = new DevStack(DevMode.start(DevMode.Options.forTests(dir.resolve("dev"))));
    stack.awaitReady();
  }

  @AfterAll
  static void stop() {
    if (stack != null) {
      stack.dev.close();
    }
  }

  record Run(int exit, String out) {
  }

  /** Writes the stand-in token command; it prints the executable response for {@code token}, or fails loudly. */
  private static Path standIn(String token, long exp, String tlsUrl) throws Exception {
    Path script = dir.resolve("vertex-proxy-token-stand-in");
    String response = "{\"version\":1,\"success\":true,\"token_type\":\"urn:ietf:params:oauth:token-type:jwt\","
        + "\"id_token\":\"" + token + "\",\"expiration_time\":" + exp + "}";
    Files.writeString(script, String.join("\n",
        "#!/bin/sh",
        "[ \"$*\" = \"token --proxy " + tlsUrl + " --format google-executable\" ] || { echo \"args: $*\"; exit 3; }",
        "[ \"$GOOGLE_EXTERNAL_ACCOUNT_INTERACTIVE\" = 0 ] || { echo 'interactive?'; exit 4; }",
        "echo ran >> " + dir.resolve("stand-in-runs"),
        "printf '%s\\n' '" + response + "'",
        ""));
    Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
    return script;
  }

  private static Run sdk(Map<String, String> env, String prompt) throws Exception {
    Path trust = DevTrust.storeFile(Path.of((String) stack.dev.info().get("ca_file")), dir.resolve("trust.p12"));
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Djavax.net.ssl.trustStore=" + trust,
        "-Djavax.net.ssl.trustStorePassword=" + DevTrust.STORE_PASSWORD, "-Djavax.net.ssl.trustStoreType=PKCS12",
        "-cp", System.getProperty("java.class.path"), GenAiWithAdc.class.getName(), prompt));
    ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true);
    pb.environment().keySet().removeIf(k -> k.startsWith("GOOGLE_") || k.equals("JAVA_TOOL_OPTIONS"));
    pb.environment().putAll(env);
    File out = dir.resolve("sdk-" + UUID.randomUUID() + ".out").toFile();
    Process p = pb.redirectOutput(out).start();
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("the SDK child did not finish: " + Files.readString(out.toPath()));
    }
    return new Run(p.exitValue(), Files.readString(out.toPath()));
  }

  @Test
  void googleAuthRunsTheTokenCommandAndTheSdkCallsAsItsIdentity() throws Exception {
    String tlsUrl = (String) stack.dev.info().get("proxy_tls_url");
    String caller = UUID.randomUUID().toString();
    long exp = Instant.now().plus(Duration.ofHours(1)).getEpochSecond();
    Path script = standIn(stack.mint(Map.of("job_id", caller, "exp", exp)), exp, tlsUrl);
    Path adc = dir.resolve("adc.json");
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int exit = Main.run(new PrintWriter(out), new PrintWriter(err), "adc", "--proxy", tlsUrl, "--login",
        "--command", script.toString(), "--output", adc.toString(), "--ca-file", (String) stack.dev.info().get("ca_file"));
    assertThat(exit).as(err.toString()).isZero();
    assertThat(out.toString()).contains("export GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES=1");

    Map<String, String> env = Map.of("GOOGLE_APPLICATION_CREDENTIALS", adc.toString(),
        "GOOGLE_GENAI_USE_VERTEXAI", "true", "GOOGLE_VERTEX_BASE_URL", tlsUrl,
        "GOOGLE_CLOUD_PROJECT", DevMode.PROJECT, "GOOGLE_CLOUD_LOCATION", DevMode.LOCATION);

    Run refused = sdk(env, "never sent");
    assertThat(refused.exit()).as(refused.out()).isNotZero();
    assertThat(refused.out()).contains("GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES");
    assertThat(dir.resolve("stand-in-runs")).as("google-auth ran nothing without the opt-in").doesNotExist();

    Map<String, String> allowed = new HashMap<>(env);
    allowed.put("GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES", "1");
    Run ok = sdk(allowed, "Hello as a person");
    assertThat(ok.exit()).as(ok.out()).isZero();
    assertThat(ok.out()).contains("Hello as a person");
    assertThat(Files.readAllLines(dir.resolve("stand-in-runs"))).as("one exchange served both calls").hasSize(1);

    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    List<JsonNode> records;
    do {
      records = stack.auditRecords().stream().filter(r -> caller.equals(r.at("/caller/claims/job_id").asText())).toList();
    } while (records.size() < 3 && System.nanoTime() < deadline && sleep());
    assertThat(records).extracting(r -> r.path("method").asText())
        .containsExactlyInAnyOrder("proxy.token_exchange", "publishers.models.generateContent",
            "publishers.models.streamGenerateContent");
    assertThat(records).allSatisfy(r -> assertThat(r.path("status").asInt()).isEqualTo(200));
  }

  private static boolean sleep() throws InterruptedException {
    Thread.sleep(20);
    return true;
  }
}

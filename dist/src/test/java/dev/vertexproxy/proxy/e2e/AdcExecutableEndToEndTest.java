package dev.vertexproxy.proxy.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vertexproxy.dev.DevMode;
import dev.vertexproxy.dev.DistMain;
import dev.vertexproxy.examples.GenAiWithAdc;
import dev.vertexproxy.policy.Caller;
import dev.vertexproxy.proxy.cli.Main;
import dev.vertexproxy.proxy.cli.StoredSessions;
import dev.vertexproxy.proxy.config.ConfigLoader;
import dev.vertexproxy.proxy.config.ProxyConfig;
import dev.vertexproxy.proxy.login.SessionIssuer;
import java.io.File;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
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
 * {@code external_account} file, and google-auth runs {@code vertex-proxy token --format google-executable} — this
 * build's CLI — for the subject token, the person's stored session. The Gen AI Java SDK in a child JVM, with only the
 * environment, then succeeds through the proxy as the person; without {@code GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES=1}
 * google-auth runs nothing at all.
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

  /** This build's {@code vertex-proxy}, noting each run, so a test can count what google-auth started. */
  private static Path cli() throws Exception {
    Path script = dir.resolve("vertex-proxy");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Files.writeString(script, "#!/bin/sh\necho \"$*\" >> " + dir.resolve("cli-runs") + "\nexec " + java
        + " -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -cp '" + System.getProperty("java.class.path") + "' "
        + DistMain.class.getName() + " \"$@\"\n");
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
    pb.environment().keySet().removeIf(k -> k.startsWith("GOOGLE_") || k.equals("JAVA_TOOL_OPTIONS")
        || k.equals("XDG_CONFIG_HOME") || k.equals("VERTEX_PROXY_URL"));
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
  void googleAuthRunsVertexProxyTokenAndTheSdkCallsAsThePerson() throws Exception {
    String tlsUrl = (String) stack.dev.info().get("proxy_tls_url");
    // the person logged in earlier: a session as `vertex-proxy login` stores it (minted by a replica's issuer: the
    // same keys directory as the running proxy)
    ProxyConfig config = new ConfigLoader().load(Path.of((String) stack.dev.info().get("config_file")));
    SessionIssuer replica = SessionIssuer.load(config.sessions(), Clock.systemUTC(), config.identity().maxTokenBytes());
    String person = "person-" + UUID.randomUUID();
    Map<String, Object> claims = new LinkedHashMap<>(Map.of("project_path", "acme/ml/forecasting",
        "namespace_path", "acme/ml", "ref_protected", "true"));
    SessionIssuer.IssuedToken session = replica.mint(new Caller(DevMode.ISSUER_NAME, person, claims),
        SessionIssuer.TokenUse.SESSION, "login", null);
    Path xdg = dir.resolve("config");
    StoredSessions.store(xdg, tlsUrl, session.token(), session.expiresAt());

    Path adc = dir.resolve("adc.json");
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int exit = Main.run(new PrintWriter(out), new PrintWriter(err), "adc", "--proxy", tlsUrl, "--login",
        "--command", cli().toString(), "--output", adc.toString(), "--ca-file", (String) stack.dev.info().get("ca_file"));
    assertThat(exit).as(err.toString()).isZero();
    assertThat(out.toString()).contains("export GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES=1");

    Map<String, String> env = new HashMap<>(Map.of("GOOGLE_APPLICATION_CREDENTIALS", adc.toString(),
        "GOOGLE_GENAI_USE_VERTEXAI", "true", "GOOGLE_VERTEX_BASE_URL", tlsUrl,
        "GOOGLE_CLOUD_PROJECT", DevMode.PROJECT, "GOOGLE_CLOUD_LOCATION", DevMode.LOCATION,
        "XDG_CONFIG_HOME", xdg.toString()));

    Run refused = sdk(env, "never sent");
    assertThat(refused.exit()).as(refused.out()).isNotZero();
    assertThat(refused.out()).contains("GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES");
    assertThat(dir.resolve("cli-runs")).as("google-auth ran nothing without the opt-in").doesNotExist();

    env.put("GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES", "1");
    Run ok = sdk(env, "Hello as a person");
    assertThat(ok.exit()).as(ok.out()).isZero();
    assertThat(ok.out()).contains("Hello as a person").doesNotContain(session.token());
    assertThat(Files.readAllLines(dir.resolve("cli-runs"))).as("one token command, one exchange, for both calls")
        .containsExactly("token --proxy " + tlsUrl + " --format google-executable");

    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    List<JsonNode> records = List.of();
    while (records.size() < 3 && System.nanoTime() < deadline) {
      records = stack.auditRecords().stream().filter(r -> person.equals(r.at("/caller/subject").asText())).toList();
      Thread.sleep(20);
    }
    assertThat(records).extracting(r -> r.path("method").asText())
        .containsExactlyInAnyOrder("proxy.tokenExchange", "publishers.models.generateContent",
            "publishers.models.streamGenerateContent");
    assertThat(records).allSatisfy(r -> {
      assertThat(r.path("status").asInt()).isEqualTo(200);
      assertThat(r.at("/caller/issuer").asText()).isEqualTo(DevMode.ISSUER_NAME);
    });
  }
}

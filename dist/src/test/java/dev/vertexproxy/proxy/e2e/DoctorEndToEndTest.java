package dev.vertexproxy.proxy.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vertexproxy.dev.DevMode;
import dev.vertexproxy.proxy.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code vertex-proxy doctor --config <state>/proxy.yaml} against a running dev stack passes: the proxy.yaml dev mode
 * writes is a real one, its issuers answer with usable keys, and every service account of the dev policy gets a Google
 * token through the emulators over HTTPS, trusted through {@code credentials.ca_file} alone.
 */
class DoctorEndToEndTest {
  @TempDir
  static Path state;
  static DevStack stack;

  @BeforeAll
  static void start() throws Exception {
    stack = new DevStack(DevMode.start(DevMode.Options.forTests(state)));
  }

  @AfterAll
  static void stop() {
    if (stack != null) {
      stack.dev.close();
    }
  }

  @Test
  void theDevConfigPassesTheDoctorWhileTheDevStackRuns() throws Exception {
    Path config = Path.of((String) stack.dev.info().get("config_file"));
    assertThat(Files.readString(config)).contains("google-emulator-ca.pem");
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();

    int exit = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), "doctor", "--config", config.toString(),
        "--json");

    assertThat(exit).as(out + "\n" + err).isZero();
    JsonNode report = DevStack.JSON.readTree(out.toString());
    assertThat(report.get("ok").asBoolean()).isTrue();
    List<String> serviceAccounts = new ArrayList<>();
    for (JsonNode c : report.get("checks")) {
      String check = c.get("check").asText();
      String status = c.get("status").asText();
      if (check.equals("audit dir")) {
        assertThat(status).as("the running dev proxy holds it").isEqualTo("WARN");
        assertThat(c.get("detail").asText()).contains("held by a running proxy");
      } else if (check.equals("sts provider")) {
        // dev's provider, registered at the emulator's STS: it exists, and the probe's dummy token is refused
        assertThat(status).as(c.toString()).isEqualTo("PASS");
        assertThat(c.get("target").asText()).isEqualTo(DevMode.WIF_AUDIENCE);
      } else {
        assertThat(status).as(c.toString()).isEqualTo("PASS");
      }
      if (check.equals("service account")) {
        serviceAccounts.add(c.get("target").asText());
      }
    }
    assertThat(serviceAccounts).contains(DevMode.SERVICE_ACCOUNT);
    assertThat(out.toString()).doesNotContain("ya29.");
  }
}

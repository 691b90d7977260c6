package dev.vertexproxy.proxy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code policy explain} with the bundled catalog and router: it shows the model a request names and why it failed. */
class PolicyExplainModelsTest {
  private static final String POLICY = """
      version: 1
      rules:
        - name: flash-only
          effect: allow
          identity: { issuer: gitlab, claims: { project_path: acme/ml/app } }
          methods: [publishers.models.generateContent, endpoints.predict]
          resources: { projects: [acme] }
          models: [gemini-2.5-flash, "publishers/anthropic/models/claude-*"]
          service_account: ml@acme.iam.gserviceaccount.com
      """;
  private static final String BASE = "POST /v1/projects/acme/locations/us-central1/";

  @TempDir
  Path dir;
  final StringWriter out = new StringWriter();

  private int explain(String request) throws Exception {
    Path policy = Files.writeString(dir.resolve("policy.yaml"), POLICY);
    CommandLine cli = new CommandLine(new PolicyCommand());
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(new StringWriter(), true));
    return cli.execute("explain", policy.toString(), "--issuer", "gitlab", "--claim", "project_path=acme/ml/app",
        "--request", request);
  }

  @Test
  void anUngrantedModelIsNamedOnTheRequestLineAndAsTheFailedCriterion() throws Exception {
    assertThat(explain(BASE + "publishers/google/models/gemini-2.5-pro:generateContent")).isEqualTo(1);
    assertThat(out.toString())
        .contains("decision: deny (model-not-granted)")
        .contains("message:  model gemini-2.5-pro is not granted for publishers.models.generateContent"
            + " (closest rule: flash-only)")
        .contains("          model gemini-2.5-pro\n")
        .contains("no       allow flash-only (line 3): models does not match");
  }

  @Test
  void aGrantedModelIsAllowedAndAPartnerModelIsShownQualified() throws Exception {
    assertThat(explain(BASE + "publishers/google/models/gemini-2.5-flash:generateContent")).isZero();
    assertThat(out.toString()).contains("decision: allow (allowed)").contains("          model gemini-2.5-flash\n")
        .contains("MATCH    allow flash-only (line 3)");
    out.getBuffer().setLength(0);
    assertThat(explain(BASE + "publishers/anthropic/models/claude-sonnet-4:generateContent")).isZero();
    assertThat(out.toString()).contains("          model publishers/anthropic/models/claude-sonnet-4\n");
  }

  @Test
  void anEndpointCallNamesNoModelSoAModelsRuleDoesNotAllowIt() throws Exception {
    assertThat(explain(BASE + "endpoints/42:predict")).isEqualTo(1);
    assertThat(out.toString()).contains("decision: deny (model-not-granted)")
        .contains("          model - (the path names none; a models rule does not allow it)\n")
        .contains("the request names no model in its path");
  }
}

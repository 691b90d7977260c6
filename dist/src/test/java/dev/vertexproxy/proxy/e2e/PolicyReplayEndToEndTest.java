package dev.vertexproxy.proxy.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vertexproxy.proxy.audit.AuditVerifier;
import dev.vertexproxy.proxy.cli.Main;
import java.io.File;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code vertex-proxy policy replay} over a real dev-mode trail, run as its own process the way a merge-request job
 * runs it: tokens with different claims from the dev issuer, real calls through the proxy (allowed and denied, three
 * identities, three methods, a streamed call, a reserved route, an unauthenticated call), then the trail replayed
 * under the unchanged policy (no change, exit 0), a narrowed draft (exactly the requests it denies, by request id) and
 * a widened one ({@code --fail-on-widen} exits 1 naming the newly allowed requests).
 */
class PolicyReplayEndToEndTest {
  @TempDir
  Path tmp;

  private record Ran(int exit, String out, String err) {
    JsonNode json() throws Exception {
      return DevStack.JSON.readTree(out);
    }
  }

  /** The real CLI in its own JVM on the test classpath. */
  private Ran cli(String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx256m", "-cp", System.getProperty("java.class.path"),
        Main.class.getName()));
    command.addAll(List.of(args));
    File out = tmp.resolve("out-" + System.nanoTime()).toFile();
    File err = tmp.resolve("err-" + System.nanoTime()).toFile();
    Process p = new ProcessBuilder(command).directory(tmp.toFile()).redirectOutput(out).redirectError(err)
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("did not finish: " + command);
    }
    return new Ran(p.exitValue(), Files.readString(out.toPath()), Files.readString(err.toPath()));
  }

  private static String id(HttpResponse<String> r) {
    return r.headers().firstValue("x-vertex-proxy-request-id").orElseThrow();
  }

  private static List<String> exampleIds(JsonNode changes) {
    List<String> ids = new ArrayList<>();
    changes.path("groups").forEach(g -> g.path("examples").forEach(e -> ids.add(e.path("request_id").asText())));
    return ids;
  }

  @Test
  void replayReportsExactlyWhatADraftChanges() throws Exception {
    DevStack stack = DevStack.start(tmp, null);
    List<String> countTokensOfMain = new ArrayList<>();
    List<String> ofFeature = new ArrayList<>();
    List<String> ofOther = new ArrayList<>();
    List<String> all = new ArrayList<>();
    Path policyFile;
    try {
      stack.awaitReady();
      String model = stack.examplePath().substring(0, stack.examplePath().lastIndexOf(':'));
      String main = "Bearer " + stack.mint(Map.of());
      String feature = "Bearer " + stack.mint(Map.of("ref", "feature",
          "sub", "project_path:acme/ml/forecasting:ref_type:branch:ref:feature"));
      String other = "Bearer " + stack.mint(Map.of("project_path", "acme/other", "namespace_path", "acme",
          "sub", "project_path:acme/other:ref_type:branch:ref:main"));

      List<HttpResponse<String>> allowed = new ArrayList<>();
      allowed.add(stack.post(model + ":generateContent", main, DevStack.BODY));
      for (int i = 0; i < 2; i++) {
        HttpResponse<String> r = stack.post(model + ":countTokens", main, DevStack.BODY);
        countTokensOfMain.add(id(r));
        allowed.add(r);
      }
      HttpResponse<String> streamed = stack.post(model + ":streamGenerateContent?alt=sse", feature, DevStack.BODY);
      HttpResponse<String> featureCall = stack.post(model + ":generateContent", feature, DevStack.BODY);
      ofFeature.addAll(List.of(id(streamed), id(featureCall)));
      allowed.addAll(List.of(streamed, featureCall));
      for (HttpResponse<String> r : allowed) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      }
      for (int i = 0; i < 2; i++) {
        HttpResponse<String> r = stack.post(model + ":generateContent", other, DevStack.BODY);
        assertThat(r.statusCode()).isEqualTo(403);
        ofOther.add(id(r));
      }
      HttpResponse<String> anonymous = stack.post(model + ":generateContent", null, DevStack.BODY);
      assertThat(anonymous.statusCode()).isEqualTo(401);
      HttpResponse<String> page = stack.get("/_proxy/", null);
      allowed.forEach(r -> all.add(id(r)));
      all.addAll(ofOther);
      all.add(id(anonymous));
      stack.awaitAudit(all);
      assertThat(page.statusCode()).isLessThan(500);
      policyFile = Path.of((String) stack.dev.info().get("policy_file"));
    } finally {
      stack.dev.close();
    }
    assertThat(AuditVerifier.verify(stack.auditDir()).ok()).isTrue();
    String audit = stack.auditDir().toString();
    String recorded = Files.readString(policyFile);

    Ran same = cli("policy", "replay", "--audit", audit, "--policy", policyFile.toString(), "--issuers",
        "gitlab,humans", "--fail-on-widen");
    assertThat(same.exit()).as(same.out() + same.err()).isZero();
    assertThat(same.out()).contains("replayed 7 requests", "unauthenticated 1", "reserved-route 1",
            "recorded under policy sha256:")
        .containsPattern("unchanged +7\\n").containsPattern("newly denied +0\\n")
        .containsPattern("newly allowed +0\\n");

    // narrowed: no more countTokens, and the feature branch is shut out by a deny rule
    String narrowed = recorded.replace("      - publishers.models.countTokens\n      - publishers.models.predict",
        "      - publishers.models.predict") + """

          - name: no-feature-branches
            effect: deny
            identity:
              issuer: gitlab
              claims: { ref: feature }
        """;
    assertThat(narrowed).isNotEqualTo(recorded);
    Path narrowedFile = Files.writeString(tmp.resolve("narrowed.yaml"), narrowed);
    Ran narrowing = cli("policy", "replay", "--audit", audit, "--policy", narrowedFile.toString(), "--issuers",
        "gitlab,humans", "--json", "--examples", "10");
    assertThat(narrowing.exit()).as(narrowing.err()).isEqualTo(1);
    JsonNode report = narrowing.json();
    List<String> expected = new ArrayList<>(countTokensOfMain);
    expected.addAll(ofFeature);
    assertThat(exampleIds(report.path("newly_denied"))).containsExactlyInAnyOrderElementsOf(expected);
    assertThat(report.path("totals").path("newly_denied").asLong()).isEqualTo(4);
    assertThat(report.path("totals").path("newly_allowed").asLong()).isZero();
    assertThat(report.path("totals").path("unchanged").asLong()).isEqualTo(3);
    assertThat(report.path("skipped").path("unauthenticated").asLong()).isEqualTo(1);
    assertThat(report.path("newly_denied").path("groups").findValuesAsText("method"))
        .contains("publishers.models.countTokens", "publishers.models.streamGenerateContent");
    assertThat(narrowing.out()).doesNotContain("eyJ");
    assertThat(cli("policy", "replay", "--audit", audit, "--policy", narrowedFile.toString(), "--issuers",
        "gitlab,humans", "--fail-on-widen").exit()).as("only narrowing: the gate passes").isZero();

    // widened: acme/other may call Gemini too
    Path widenedFile = Files.writeString(tmp.resolve("widened.yaml"), recorded.replaceFirst(
        "project_path: acme/ml/forecasting", "project_path: [acme/ml/forecasting, acme/other]"));
    Ran widening = cli("policy", "replay", "--audit", audit, "--policy", widenedFile.toString(), "--issuers",
        "gitlab,humans", "--fail-on-widen");
    assertThat(widening.exit()).as(widening.out() + widening.err()).isEqualTo(1);
    assertThat(widening.out()).contains("newly allowed (2):", "project_path acme/other", ofOther.get(0),
        ofOther.get(1));
  }
}

package dev.vertexproxy.proxy.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vertexproxy.policy.Caller;
import dev.vertexproxy.policy.Policy;
import dev.vertexproxy.policy.PolicyLinter;
import dev.vertexproxy.policy.catalog.MethodCatalog;
import dev.vertexproxy.policy.route.Router;
import dev.vertexproxy.proxy.audit.AuditVerifier;
import dev.vertexproxy.proxy.cli.Main;
import dev.vertexproxy.proxy.cli.suggest.TrailReplay;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code policy suggest} over a real dev-mode trail: tokens with different claims minted by the dev issuer, real calls
 * through the proxy (allowed and denied), then the CLI as its own process. The suggestion loads, lints clean, allows
 * every recorded allowed request again, and is narrower than the policy the traffic ran under.
 */
class PolicySuggestEndToEndTest {
  private static final String BROAD = """
      version: 1
      rules:
        - name: acme-gemini
          effect: allow
          identity:
            issuer: gitlab
            claims: { namespace_path: "acme/**" }
          methods: [publishers.models.generateContent, publishers.models.countTokens]
          resources: { projects: [dev-project], locations: [us-central1, global] }
          service_account: vertex-caller@dev-project.iam.gserviceaccount.com
        - name: reporting
          effect: allow
          identity: { issuer: gitlab, subject: "svc:*" }
          methods: [publishers.models.generateContent]
          resources: { projects: [dev-project], locations: [us-central1] }
          service_account: vertex-reporting@dev-project.iam.gserviceaccount.com
      """;
  private static final String FLASH = "/v1/projects/dev-project/locations/us-central1/publishers/google/models/"
      + "gemini-2.0-flash:generateContent";

  @TempDir
  Path tmp;

  private static Map<String, Object> project(String path, String namespace) {
    Map<String, Object> claims = new HashMap<>();
    claims.put("project_path", path);
    claims.put("namespace_path", namespace);
    claims.put("sub", "project_path:" + path + ":ref_type:branch:ref:main");
    return claims;
  }

  @Test
  void theSuggestionFromADevTrailAllowsWhatRanAndNothingWider() throws Exception {
    DevStack stack = DevStack.start(tmp, null, BROAD, null);
    Map<String, Object> forecasting = project("acme/ml/forecasting", "acme/ml");
    Map<String, Object> vision = project("acme/cv/vision", "acme/cv");
    Map<String, Object> reporting = new HashMap<>();
    reporting.put("sub", "svc:reporting");
    reporting.put("project_path", null); // removed: a caller that is no CI job, pinned by its subject
    reporting.put("namespace_path", null);
    List<Integer> statuses = new ArrayList<>();
    List<String> ids = new ArrayList<>();
    try {
      stack.awaitReady();
      String f = "Bearer " + stack.mint(forecasting);
      String v = "Bearer " + stack.mint(vision);
      String r = "Bearer " + stack.mint(reporting);
      String globalCount = FLASH.replace("us-central1", "global").replace("generateContent", "countTokens");
      for (String[] call : new String[][] {{f, FLASH}, {f, FLASH}, {f, globalCount}, {v, FLASH}, {r, FLASH},
          {v, FLASH.replace("generateContent", "streamGenerateContent")}, // denied: no rule grants it
          {"Bearer " + stack.mint(project("other/x", "other")), FLASH}}) { // denied: identity
        var response = stack.post(call[1], call[0], DevStack.BODY);
        statuses.add(response.statusCode());
        ids.add(response.headers().firstValue("x-vertex-proxy-request-id").orElseThrow());
      }
      assertThat(statuses).containsExactly(200, 200, 200, 200, 200, 403, 403);
      assertThat(stack.awaitAudit(ids)).hasSize(ids.size());
    } finally {
      stack.dev.close();
    }
    Path audit = stack.auditDir();
    assertThat(AuditVerifier.verify(audit).ok()).isTrue();

    Path out = tmp.resolve("suggested.yaml");
    Process p = cli("policy", "suggest", "--audit", audit.toString(), "--out", out.toString(), "--issuers", "gitlab,humans");
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.exitValue()).as(err).isZero();
    assertThat(err).contains("3 rules from 5 of 5 requests");

    MethodCatalog catalog = MethodCatalog.bundled();
    Policy suggested = Policy.load(out, catalog, Set.of("gitlab", "humans"));
    assertThat(suggested.rules()).extracting(rule -> rule.name())
        .containsExactly("gitlab-acme-cv-vision", "gitlab-acme-ml-forecasting", "gitlab-svc-reporting");
    assertThat(PolicyLinter.lint(suggested)).isEmpty();
    // the gate a merge request runs, each command as its own process: check, lint --strict, and a replay of the same
    // trail under the suggestion that changes no verdict
    assertThat(run("policy", "check", out.toString(), "--issuers", "gitlab,humans").exit()).isZero();
    Ran lint = run("policy", "lint", "--strict", out.toString(), "--issuers", "gitlab,humans");
    assertThat(lint.exit()).as(lint.out()).isZero();
    Ran replay = run("policy", "replay", "--audit", audit.toString(), "--policy", out.toString(), "--issuers",
        "gitlab,humans", "--json");
    assertThat(replay.exit()).as(replay.out()).isZero();
    JsonNode totals = DevStack.JSON.readTree(replay.out()).get("totals");
    assertThat(totals.get("replayed").asInt()).isEqualTo(7);
    assertThat(totals.get("newly_denied").asInt()).isZero();
    assertThat(totals.get("newly_allowed").asInt()).isZero();
    assertThat(totals.get("undecidable").asInt()).isZero();
    assertThat(TrailReplay.newlyDenied(suggested, catalog, List.of(audit))).isEmpty();
    assertThat(TrailReplay.replay(suggested, catalog, List.of(audit))).hasSize(7)
        .filteredOn(o -> o.recordedDecision().equals("deny")).allMatch(o -> !o.allowed());
    String yaml = Files.readString(out);
    assertThat(yaml).contains("ref_protected: \"true\"", "subject: \"svc:reporting\"", "models: [\"gemini-2.0-flash\"]",
        "# replaces: acme-gemini", "publishers.models.generateContent  # 2 calls");

    // nothing wider: what the broad policy allowed but nobody did is denied now
    Router router = new Router(catalog);
    Map<String, Object> fc = new HashMap<>(forecasting);
    fc.put("ref_protected", "true");
    assertThat(suggested.decide(new Caller("gitlab", "s", fc), router.route("POST", FLASH)).allowed()).isTrue();
    assertThat(suggested.decide(new Caller("gitlab", "s", Map.of("namespace_path", "acme/ml", "project_path",
        "acme/ml/pricing", "ref_protected", "true")), router.route("POST", FLASH)).reason())
        .isEqualTo("identity-not-matched");
    assertThat(suggested.decide(new Caller("gitlab", "s", fc), router.route("POST", FLASH.replace("us-central1",
        "europe-west4"))).reason()).isEqualTo("location-not-granted");
    assertThat(suggested.decide(new Caller("gitlab", "s", fc), router.route("POST", FLASH.replace("dev-project", "prod")))
        .reason()).isEqualTo("project-not-granted");
    assertThat(suggested.decide(new Caller("gitlab", "s", fc), router.route("POST", FLASH.replace("2.0-flash", "2.5-pro")))
        .reason()).isEqualTo("model-not-granted");
    assertThat(suggested.decide(new Caller("gitlab", "svc:billing", Map.of()), router.route("POST", FLASH)).allowed())
        .isFalse();
    Map<String, Object> vc = new HashMap<>(vision);
    vc.put("ref_protected", "true");
    assertThat(suggested.decide(new Caller("gitlab", "s", vc), router.route("POST", FLASH.replace("generateContent",
        "countTokens"))).reason()).isEqualTo("method-not-granted");
  }

  private record Ran(int exit, String out) {
  }

  /** The real CLI in its own JVM, its standard output read. */
  private Ran run(String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx256m", "-cp", System.getProperty("java.class.path"),
        Main.class.getName()));
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).directory(tmp.toFile()).redirectErrorStream(true)
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return new Ran(p.exitValue(), out);
  }

  /** The real CLI in its own JVM. */
  private Process cli(String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx256m", "-cp", System.getProperty("java.class.path"),
        Main.class.getName()));
    command.addAll(List.of(args));
    ProcessBuilder b = new ProcessBuilder(command).directory(tmp.toFile());
    b.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    b.redirectOutput(ProcessBuilder.Redirect.DISCARD);
    return b.start();
  }
}

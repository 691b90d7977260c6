package dev.vertexproxy.proxy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vertexproxy.policy.Caller;
import dev.vertexproxy.policy.Decision;
import dev.vertexproxy.policy.Policy;
import dev.vertexproxy.policy.PolicyLinter;
import dev.vertexproxy.policy.catalog.MethodCatalog;
import dev.vertexproxy.policy.route.Route;
import dev.vertexproxy.policy.route.Router;
import dev.vertexproxy.proxy.audit.AuditEvent;
import dev.vertexproxy.proxy.cli.suggest.TrailReplay;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code policy suggest} over trails written by the real {@link dev.vertexproxy.proxy.audit.AuditLog}: the suggestion
 * loads, lints clean, allows every recorded allowed request (replayed through the real router) and nothing beside it;
 * hostile claim values are written exactly or not at all.
 */
class PolicySuggestCommandTest {
  private static final MethodCatalog CATALOG = MethodCatalog.bundled();
  private static final Router ROUTER = new Router(CATALOG);
  private static final Instant T0 = Instant.parse("2026-05-01T12:00:00Z");
  private static final String GEMINI = "gemini@acme-ml-prod.iam.gserviceaccount.com";
  private static final String TRAINER = "trainer@acme-ml-prod.iam.gserviceaccount.com";
  private static final String FLASH = "/v1/projects/acme-ml-prod/locations/us-central1/publishers/google/models/"
      + "gemini-2.5-flash:generateContent";

  @TempDir
  Path tmp;

  private int seq;

  record Run(int exit, String out, String err) {
  }

  static Run suggest(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = new CommandLine(new PolicyCommand());
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    List<String> all = new ArrayList<>(List.of("suggest"));
    all.addAll(List.of(args));
    int exit = cli.execute(all.toArray(String[]::new));
    return new Run(exit, out.toString(), err.toString());
  }

  /** A recorded request: routed by the real router, so method, resource, project, location and model are the proxy's. */
  private AuditEvent call(String issuer, String subject, Map<String, Object> claims, String httpMethod, String path,
      String principal) throws Exception {
    Route r = ROUTER.route(httpMethod, path);
    boolean allowed = principal != null;
    seq++;
    return new AuditEvent(T0.plusSeconds(60L * seq), "req-" + seq, issuer, subject, claims, "10.0.0.7", httpMethod,
        path, null, r.method().name(), r.version(), r.resource(), r.project(), r.location(),
        allowed ? "allow" : "deny", allowed ? "old-rule" : null, allowed ? "allowed" : "method-not-granted", principal,
        allowed ? 200 : 403, 5, 10, 10, "sha256:p", "test", allowed ? "allowed" : "refused", null, null, r.model(), null,
        null, false);
  }

  private static Map<String, Object> ci(String project, boolean protectedRef) {
    Map<String, Object> claims = new LinkedHashMap<>();
    claims.put("namespace_path", project.substring(0, project.lastIndexOf('/')));
    claims.put("project_path", project);
    claims.put("ref_protected", String.valueOf(protectedRef));
    claims.put("user_login", "someone");
    return claims;
  }

  private static String sub(String project) {
    return "project_path:" + project + ":ref_type:branch:ref:main";
  }

  private static Policy load(String yaml) throws Exception {
    return Policy.parse(yaml, "suggested.yaml", CATALOG, Set.of("gitlab", "humans"), Set.of("gitlab"));
  }

  private static Decision decide(Policy policy, String issuer, String subject, Map<String, Object> claims,
      String httpMethod, String path) throws Exception {
    return policy.decide(new Caller(issuer, subject, claims), ROUTER.route(httpMethod, path));
  }

  @Test
  void twoProjectsAndAPersonGetTheNarrowestRulesThatStillAllowTheirCalls() throws Exception {
    Path dir = tmp.resolve("audit");
    String forecasting = "acme/ml/forecasting";
    String vision = "acme/cv/vision";
    AuditTrails.write(dir, List.of(
        call("gitlab", sub(forecasting), ci(forecasting, true), "POST", FLASH, GEMINI),
        call("gitlab", sub(forecasting), ci(forecasting, true), "POST", FLASH, GEMINI),
        call("gitlab", sub(forecasting), ci(forecasting, true), "POST",
            "/v1/projects/acme-ml-prod/locations/global/publishers/google/models/gemini-2.5-pro:countTokens", GEMINI),
        call("gitlab", sub(forecasting), ci(forecasting, true), "POST",
            "/v1/projects/acme-ml-prod/locations/us-central1/customJobs", TRAINER),
        call("gitlab", sub(vision), ci(vision, true), "POST",
            "/v1/projects/acme-cv/locations/europe-west4/endpoints/42:predict", "vision@acme-cv.iam.gserviceaccount.com"),
        call("gitlab", sub(vision), ci(vision, false), "POST",
            "/v1/projects/acme-cv/locations/europe-west4/publishers/anthropic/models/claude-x:rawPredict",
            "vision@acme-cv.iam.gserviceaccount.com"),
        call("humans", "alice@example.com", Map.of("sub", "alice@example.com", "groups", List.of("ml-team")), "POST",
            FLASH, GEMINI),
        // denied, and not asked for: no grant
        call("gitlab", sub(vision), ci(vision, true), "POST",
            "/v1/projects/acme-cv/locations/europe-west4/endpoints/42:deployModel", null)));

    Run run = suggest("--audit", dir.toString(), "--issuers", "gitlab:shared,humans");
    assertThat(run.exit()).as(run.err()).isZero();
    String yaml = run.out();
    Policy policy = load(yaml);
    assertThat(policy.rules()).extracting(r -> r.name()).containsExactly("gitlab-acme-cv-vision",
        "gitlab-acme-cv-vision-no-model", "gitlab-acme-ml-forecasting-as-gemini",
        "gitlab-acme-ml-forecasting-as-trainer", "humans-alice-example.com");
    assertThat(PolicyLinter.lint(policy)).isEmpty();
    assertThat(TrailReplay.newlyDenied(policy, CATALOG, List.of(dir))).isEmpty();
    assertThat(TrailReplay.replay(policy, CATALOG, List.of(dir))).filteredOn(o -> o.recordedDecision().equals("deny"))
        .singleElement().extracting(TrailReplay.Outcome::allowed).isEqualTo(false);
    assertThat(yaml).contains("publishers.models.generateContent  # 2 calls, 2026-05-01T12:01:00Z .. 2026-05-01T12:02:00Z")
        .contains("# replaces: old-rule").contains("models: [\"gemini-2.5-flash\", \"gemini-2.5-pro\"]")
        .contains("subject: \"alice@example.com\"").doesNotContain("user_login").doesNotContain("groups");
    // vision's endpoint call names no model, so it gets a rule without models: beside the one naming the partner
    // model; one of vision's calls was from an unprotected ref, so neither requires ref_protected
    String vision1 = yaml.substring(yaml.indexOf("- name: gitlab-acme-cv-vision\n"),
        yaml.indexOf("- name: gitlab-acme-cv-vision-no-model"));
    String vision2 = yaml.substring(yaml.indexOf("- name: gitlab-acme-cv-vision-no-model"),
        yaml.indexOf("- name: gitlab-acme-ml-forecasting-as"));
    assertThat(vision1).contains("models: [\"publishers/anthropic/models/claude-x\"]", "publishers.models.rawPredict")
        .doesNotContain("endpoints.predict").doesNotContain("ref_protected");
    assertThat(vision2).contains("endpoints.predict").doesNotContain("models:").doesNotContain("ref_protected");

    Map<String, Object> fc = ci(forecasting, true);
    // nothing wider: another identity, method, project, location or model is denied
    assertThat(decide(policy, "gitlab", sub(forecasting), fc, "POST", FLASH).allowed()).isTrue();
    assertThat(decide(policy, "gitlab", sub("acme/ml/other"), ci("acme/ml/other", true), "POST", FLASH).allowed()).isFalse();
    assertThat(decide(policy, "gitlab", sub(forecasting), ci(forecasting, false), "POST", FLASH).allowed()).isFalse();
    assertThat(decide(policy, "humans", "bob@example.com", Map.of(), "POST", FLASH).allowed()).isFalse();
    assertThat(decide(policy, "gitlab", sub(forecasting), fc, "POST", FLASH.replace("generateContent",
        "streamGenerateContent")).reason()).isEqualTo("method-not-granted");
    assertThat(decide(policy, "gitlab", sub(forecasting), fc, "POST", FLASH.replace("acme-ml-prod", "acme-other"))
        .reason()).isEqualTo("project-not-granted");
    assertThat(decide(policy, "gitlab", sub(forecasting), fc, "POST", FLASH.replace("us-central1", "europe-west4"))
        .reason()).isEqualTo("location-not-granted");
    assertThat(decide(policy, "gitlab", sub(forecasting), fc, "POST", FLASH.replace("2.5-flash", "2.5-flash-lite"))
        .reason()).isEqualTo("model-not-granted");
    assertThat(decide(policy, "gitlab", sub(vision), ci(vision, true), "POST",
        "/v1/projects/acme-cv/locations/europe-west4/publishers/google/models/claude-x:rawPredict").allowed()).isFalse();

    assertThat(suggest("--audit", dir.toString(), "--issuers", "gitlab:shared,humans").out())
        .as("the same trail gives the same text").isEqualTo(yaml);
    assertThat(run.err()).contains("5 rules from 7 of 7 requests");
  }

  @Test
  void hostileClaimValuesAreWrittenExactlyOrNotAtAll() throws Exception {
    Path dir = tmp.resolve("audit");
    String yamlish = "acme/x\"\n- name: evil\n  effect: allow # \\ ' : {a: [b]} &x !!str \u2028 \u0085 \ud83d\ude00";
    String glob = "acme/*";
    String question = "acme/proj?";
    String jwtLike = "eyJhbGciOi.eyJzdWIiOi.c2ln"; // the audit writer records it as [redacted]
    AuditTrails.write(dir, List.of(
        call("gitlab", sub(yamlish), ci(yamlish, true), "POST", FLASH, GEMINI),
        call("gitlab", sub(glob), ci(glob, true), "POST", FLASH, GEMINI),
        call("gitlab", sub(question), ci(question, true), "POST", FLASH, GEMINI),
        call("gitlab", "x", Map.of("project_path", jwtLike, "namespace_path", "acme"), "POST", FLASH, GEMINI),
        call("gitlab", "x", Map.of("project_path", List.of("acme/a", "acme/b")), "POST", FLASH, GEMINI),
        call("humans", "*", Map.of(), "POST", FLASH, GEMINI),
        call("humans", jwtLike, Map.of(), "POST", FLASH, GEMINI),
        call("humans", "carol\n  - name: x", Map.of("password", "hunter2"), "POST", FLASH, GEMINI)));

    Run run = suggest("--audit", dir.toString());
    assertThat(run.exit()).as(run.err()).isZero();
    Policy policy = load(run.out());
    assertThat(policy.rules()).hasSize(2);
    assertThat(PolicyLinter.lint(policy)).isEmpty();
    // the exact values match; a prefix, or the value a glob would have matched, does not
    assertThat(decide(policy, "gitlab", "s", ci(yamlish, true), "POST", FLASH).allowed()).isTrue();
    Map<String, Object> cut = ci(yamlish, true);
    cut.put("project_path", "acme/x\"");
    assertThat(decide(policy, "gitlab", "s", cut, "POST", FLASH).allowed()).isFalse();
    assertThat(decide(policy, "gitlab", "s", ci("acme/anything", true), "POST", FLASH).allowed()).isFalse();
    assertThat(decide(policy, "humans", "carol\n  - name: x", Map.of(), "POST", FLASH).allowed()).isTrue();
    assertThat(decide(policy, "humans", "carol", Map.of(), "POST", FLASH).allowed()).isFalse();
    assertThat(decide(policy, "humans", "anyone", Map.of(), "POST", FLASH).allowed()).isFalse();
    assertThat(run.out()).doesNotContain("[redacted]").doesNotContain("hunter2").doesNotContain("evil\n");
    assertThat(run.err()).contains("warning: left out identity gitlab project_path \"acme/*\"")
        .contains("\"acme/proj?\"").contains("\"[redacted]\"").contains("subject \"*\"")
        .contains("2 rules from 2 of 8 requests");
    assertThat(run.err().lines().filter(l -> l.startsWith("warning:")).count()).isEqualTo(6);
  }

  @Test
  void aRequestRecordedTwiceCountsOnceAndTwoChainsMerge() throws Exception {
    Path a = tmp.resolve("replica-a");
    Path b = tmp.resolve("replica-b");
    String p = "acme/ml/forecasting";
    AuditEvent first = call("gitlab", sub(p), ci(p, true), "POST", FLASH, GEMINI);
    AuditEvent decision = first.asDecision();
    AuditTrails.write(a, List.of(decision, first));
    AuditTrails.write(b, List.of(call("gitlab", sub(p), ci(p, true), "POST", FLASH, GEMINI)));
    // records with no caller (refused before identity) or no method (refused before routing) grant nothing
    AuditTrails.write(tmp.resolve("noise"), List.of(new AuditEvent(T0, "req-x", null, null, null, "10.0.0.1", "GET",
        "/nowhere", null, null, null, null, null, null, "deny", null, "route-not-found", null, 404, 1, 0, 0, "sha256:p",
        "curl", "refused", null)));

    Run run = suggest("--audit", a.toString(), "--audit", b.toString(), "--audit", tmp.resolve("noise").toString());
    assertThat(run.exit()).as(run.err()).isZero();
    assertThat(run.out()).contains("# 2 requests, first 2026-05-01T12:01:00Z, last 2026-05-01T12:02:00Z")
        .contains("publishers.models.generateContent  # 2 calls");
    assertThat(TrailReplay.newlyDenied(load(run.out()), CATALOG, List.of(a, b))).isEmpty();
    assertThat(run.err()).contains("1 rule from 2 of 3 requests");
  }

  @Test
  void recordsMissingFieldsAreLeftOutOrGrantedOnlyWhatTheyShow() throws Exception {
    Path dir = tmp.resolve("audit");
    Files.createDirectories(dir);
    String caller = "\"caller\":{\"issuer\":\"gitlab\",\"subject\":\"s\",\"claims\":{\"namespace_path\":\"acme\","
        + "\"project_path\":\"acme/p\",\"ref_protected\":true}}";
    String call = "\"http_method\":\"POST\",\"path\":\"" + FLASH + "\",\"method\":\"publishers.models.generateContent\","
        + "\"resource\":\"projects/acme-ml-prod/locations/us-central1/publishers/google/models/gemini-2.5-flash\","
        + "\"project\":\"acme-ml-prod\",\"model\":\"gemini-2.5-flash\",\"decision\":\"allow\"";
    Files.writeString(dir.resolve("audit-20260501T120000Z-1.jsonl"), String.join("\n",
        // no time, no google_principal: granted only with --service-account, shown without times
        "{\"type\":\"exchange\",\"request_id\":\"a\"," + caller + "," + call + ",\"location\":\"us-central1\"}",
        // no location: a damaged record, left out rather than guessed
        "{\"type\":\"exchange\",\"request_id\":\"b\",\"time\":\"2026-05-01T12:00:00Z\"," + caller + "," + call
            + ",\"google_principal\":\"" + GEMINI + "\"}",
        // a method the catalog does not know, and one with YAML in it
        "{\"request_id\":\"c\"," + caller + "," + call.replace("publishers.models.generateContent", "models.teleport")
            + ",\"location\":\"us-central1\",\"google_principal\":\"" + GEMINI + "\"}",
        "{\"request_id\":\"d\"," + caller + "," + call.replace("publishers.models.generateContent", "x\\n- y: z")
            + ",\"location\":\"us-central1\",\"google_principal\":\"" + GEMINI + "\"}",
        // not a record at all, and a partial last line
        "not json", "{\"request_id\":\"e\"", ""));

    Run without = suggest("--audit", dir.toString());
    assertThat(without.exit()).isEqualTo(1);
    assertThat(without.err()).contains("no google_principal (give --service-account EMAIL", "missing or cannot be written",
        "\"models.teleport\": not a method the catalog knows", "\"x\\u000a- y: z\": not a method");
    Run with = suggest("--audit", dir.toString(), "--service-account", GEMINI);
    assertThat(with.exit()).as(with.err()).isZero();
    assertThat(with.out()).contains("# 1 request, first -, last -", "locations: [\"us-central1\"]",
        "service_account: \"" + GEMINI + "\"");
    assertThat(load(with.out()).rules()).singleElement().satisfies(r -> assertThat(r.methods())
        .containsExactly("publishers.models.generateContent"));
    // replay routes each record's path, which for all four is the one granted call
    assertThat(TrailReplay.newlyDenied(load(with.out()), CATALOG, List.of(dir))).isEmpty();
  }

  @Test
  void deniedRequestsAreGrantedOnlyWhenAskedAndOnlyWithAServiceAccount() throws Exception {
    Path dir = tmp.resolve("audit");
    String p = "acme/ml/forecasting";
    String deploy = "/v1/projects/acme-ml-prod/locations/us-central1/endpoints/42:deployModel";
    AuditTrails.write(dir, List.of(call("gitlab", sub(p), ci(p, true), "POST", FLASH, GEMINI),
        call("gitlab", sub(p), ci(p, false), "POST", deploy, null)));

    Run refused = suggest("--audit", dir.toString(), "--include-denied");
    assertThat(refused.exit()).isEqualTo(2);
    assertThat(refused.err()).contains("--include-denied needs --service-account EMAIL");
    assertThat(suggest("--audit", dir.toString(), "--include-denied=denied-by-rule,nope", "--service-account", GEMINI)
        .err()).contains("--include-denied nope: expected one of");

    Run granted = suggest("--audit", dir.toString(), "--include-denied=method-not-granted", "--service-account", GEMINI);
    assertThat(granted.exit()).as(granted.err()).isZero();
    Policy policy = load(granted.out());
    assertThat(decide(policy, "gitlab", sub(p), ci(p, false), "POST", deploy).allowed()).isTrue();
    assertThat(granted.out()).contains("(1 of them denied, granted on request)").doesNotContain("ref_protected");
    // deployModel from an unprotected ref: the rule is still written, and the warning names it
    assertThat(granted.err()).contains("warning: rule gitlab-acme-ml-forecasting: [endpoints.deployModel] were called"
        + " from unprotected refs");

    Run notAsked = suggest("--audit", dir.toString(), "--include-denied=model-not-granted", "--service-account", GEMINI);
    assertThat(decide(load(notAsked.out()), "gitlab", sub(p), ci(p, false), "POST", deploy).allowed()).isFalse();
  }

  @Test
  void ruleNamesAreSanitizedAndUniqueAndAnEmptyTrailSaysSo() throws Exception {
    Path dir = tmp.resolve("audit");
    AuditTrails.write(dir, List.of(call("gitlab", "s", ci("a/b", true), "POST", FLASH, GEMINI),
        call("gitlab", "s", ci("a/b.", true), "POST", FLASH, GEMINI),
        call("gitlab", "s", ci("a//b", true), "POST", FLASH, GEMINI)));
    Run run = suggest("--audit", dir.toString(), "--out", tmp.resolve("suggested.yaml").toString());
    assertThat(run.exit()).as(run.err()).isZero();
    assertThat(run.out()).isEmpty();
    Policy policy = Policy.load(tmp.resolve("suggested.yaml"), CATALOG, Set.of("gitlab"));
    assertThat(policy.rules()).extracting(r -> r.name()).containsExactly("gitlab-a-b", "gitlab-a-b-2", "gitlab-a-b.");

    Path empty = tmp.resolve("empty");
    Files.createDirectories(empty);
    Run none = suggest("--audit", empty.toString());
    assertThat(none.exit()).isEqualTo(1);
    assertThat(none.out()).contains("rules: []");
  }
}

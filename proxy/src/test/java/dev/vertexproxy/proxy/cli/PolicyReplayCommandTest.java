package dev.vertexproxy.proxy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vertexproxy.policy.Policy;
import dev.vertexproxy.policy.RequestRouter;
import dev.vertexproxy.policy.catalog.MethodCatalog;
import dev.vertexproxy.policy.route.Router;
import dev.vertexproxy.proxy.audit.SecretNames;
import dev.vertexproxy.proxy.cli.replay.Replay;
import dev.vertexproxy.proxy.cli.replay.ReplayReport;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code policy replay} on hand-written trails, hostile ones included: the core ({@link Replay#run}) on records, and
 * the command in process on directories (two replicas, a rotated {@code .jsonl.gz}, broken lines), with its exit codes.
 */
class PolicyReplayCommandTest {
  private static final MethodCatalog CATALOG = MethodCatalog.bundled();
  private static final RequestRouter ROUTER = new Router(CATALOG)::route;
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String MODEL_PATH =
      "/v1/projects/dev-project/locations/us-central1/publishers/google/models/gemini-2.0-flash:";
  private static final String FORECASTING = "acme/ml/forecasting";

  private static final String RECORDED = """
      version: 1
      rules:
        - name: gemini
          effect: allow
          identity: { issuer: gitlab, claims: { project_path: acme/ml/forecasting } }
          methods: [publishers.models.generateContent, publishers.models.countTokens]
          resources: { projects: [dev-project] }
          service_account: caller@dev-project.iam.gserviceaccount.com
      """;
  private static final String NARROWED = RECORDED.replace(", publishers.models.countTokens", "");
  private static final String WIDENED = RECORDED.replace("project_path: acme/ml/forecasting",
      "project_path: [acme/ml/forecasting, acme/other]");
  /** Pins a claim whose name the audit writer redacts: records cannot say whether it matches. */
  private static final String PINS_A_SECRET_CLAIM = RECORDED.replace("project_path: acme/ml/forecasting",
      "project_path: acme/ml/forecasting, job_token_kind: ci");

  @TempDir
  Path dir;

  private static Policy policy(String yaml) throws Exception {
    return Policy.parse(yaml, "draft.yaml", CATALOG, Set.of("gitlab"));
  }

  /** An exchange record as the proxy writes it, for a GitLab caller of {@code project} calling {@code verb}. */
  private static ObjectNode exchange(String id, String project, String verb, String decision) {
    Map<String, Object> claims = new LinkedHashMap<>();
    claims.put("project_path", project);
    claims.put("namespace_path", project.substring(0, project.lastIndexOf('/')));
    claims.put("ref_protected", "true");
    return record(id, "exchange", "project_path:" + project + ":ref_type:branch:ref:main", claims, "POST",
        MODEL_PATH + verb, "publishers.models." + verb, decision,
        decision.equals("allow") ? "gemini" : null, decision.equals("allow") ? "served" : "identity-not-matched");
  }

  private static ObjectNode record(String id, String type, String subject, Map<String, Object> claims,
      String httpMethod, String path, String method, String decision, String rule, String reason) {
    ObjectNode r = JSON.createObjectNode();
    r.put("time", "2026-05-01T12:00:00.000Z");
    r.put("type", type);
    r.put("request_id", id);
    if (subject != null) {
      ObjectNode caller = r.putObject("caller");
      caller.put("issuer", "gitlab");
      caller.put("subject", subject);
      caller.set("claims", JSON.valueToTree(claims));
    }
    putIf(r, "http_method", httpMethod);
    putIf(r, "path", path);
    putIf(r, "method", method);
    putIf(r, "decision", decision);
    putIf(r, "rule", rule);
    putIf(r, "reason", reason);
    r.put("model", "gemini-2.0-flash");
    r.put("policy_version", "sha256:000000000001");
    return r;
  }

  private static void putIf(ObjectNode node, String key, String value) {
    if (value != null) {
      node.put(key, value);
    }
  }

  private static List<ObjectNode> traffic() {
    return List.of(exchange("r1", FORECASTING, "generateContent", "allow"),
        exchange("r2", FORECASTING, "countTokens", "allow"),
        exchange("r3", "acme/ml/other-project", "countTokens", "deny"),
        exchange("r4", "acme/other", "generateContent", "deny"),
        exchange("r5", FORECASTING, "countTokens", "allow"));
  }

  @Test
  void aNarrowedDraftReportsExactlyTheRequestsItDenies() throws Exception {
    ReplayReport report = Replay.run(traffic(), policy(NARROWED), ROUTER, 5);
    assertThat(report.replayed()).isEqualTo(5);
    assertThat(report.newlyDenied().count()).isEqualTo(2);
    assertThat(report.newlyDenied().exampleRequestIds()).containsExactly("r2", "r5");
    ReplayReport.Group group = report.newlyDenied().groups().get(0);
    assertThat(group.key()).isEqualTo(new ReplayReport.GroupKey("gitlab",
        "project_path:acme/ml/forecasting:ref_type:branch:ref:main", FORECASTING, "acme/ml",
        "publishers.models.countTokens", "gemini-2.0-flash"));
    assertThat(group.examples().get(0).draft().reason()).isEqualTo("method-not-granted");
    assertThat(group.examples().get(0).recorded()).isEqualTo(new ReplayReport.Verdict("allow", "gemini", "allowed"));
    assertThat(report.newlyAllowed().count()).isZero();
    assertThat(report.unchanged() + report.ruleChangedSameVerdict()).isEqualTo(3);

    ReplayReport same = Replay.run(traffic(), policy(RECORDED), ROUTER, 5);
    assertThat(same.unchanged()).isEqualTo(5);
    assertThat(same.verdictChanged()).isFalse();
  }

  @Test
  void aWidenedDraftNamesTheNewlyAllowedRequests() throws Exception {
    ReplayReport report = Replay.run(traffic(), policy(WIDENED), ROUTER, 5);
    assertThat(report.newlyAllowed().exampleRequestIds()).containsExactly("r4");
    assertThat(report.newlyDenied().count()).isZero();
    assertThat(report.unchanged()).as("r3 is still denied, for the same reason").isEqualTo(4);
    assertThat(report.ruleChangedSameVerdict()).isZero();
  }

  @Test
  void syncModeDecisionAndExchangeRecordsCountOnceAndACrashedDecisionStillCounts() throws Exception {
    List<ObjectNode> records = new ArrayList<>();
    ObjectNode decision = exchange("s1", FORECASTING, "countTokens", "allow");
    decision.put("type", "decision");
    decision.put("reason", "allowed");
    ObjectNode other = exchange("s2", FORECASTING, "countTokens", "allow");
    other.put("type", "decision");
    records.add(decision);
    records.add(other); // its exchange never came: the proxy crashed after deciding
    records.add(exchange("s1", FORECASTING, "countTokens", "allow"));
    // the same request id on another replica's chain is another request
    ObjectNode replica = exchange("s1", FORECASTING, "countTokens", "allow");
    replica.put("chain_id", "replica-b");
    records.add(replica);

    ReplayReport report = Replay.run(records, policy(NARROWED), ROUTER, 5);
    assertThat(report.replayed()).isEqualTo(3);
    assertThat(report.newlyDenied().count()).isEqualTo(3);
    assertThat(report.newlyDenied().exampleRequestIds()).containsExactlyInAnyOrder("s1", "s1", "s2");
  }

  @Test
  void aDecisionThatDependsOnARedactedClaimIsUndecidableNeverGuessed() throws Exception {
    ObjectNode r = exchange("x1", FORECASTING, "generateContent", "allow");
    ((ObjectNode) r.path("caller").path("claims")).put("job_token_kind", SecretNames.REDACTED);
    ObjectNode nested = exchange("x2", FORECASTING, "generateContent", "allow");
    ((ObjectNode) nested.path("caller").path("claims")).putObject("job_token_kind").putArray("v")
        .add("prefix " + SecretNames.REDACTED);

    ReplayReport pinning = Replay.run(List.of(r, nested), policy(PINS_A_SECRET_CLAIM), ROUTER, 5);
    assertThat(pinning.undecidable().exampleRequestIds()).containsExactly("x1", "x2");
    assertThat(pinning.undecidable().groups().get(0).examples().get(0).draft()).isNull();
    assertThat(pinning.newlyDenied().count() + pinning.newlyAllowed().count() + pinning.unchanged()).isZero();
    assertThat(pinning.undecidableDenied()).as("both were allowed when recorded: no widening possible").isZero();
    ObjectNode denied = exchange("x3", FORECASTING, "generateContent", "deny");
    ((ObjectNode) denied.path("caller").path("claims")).put("job_token_kind", SecretNames.REDACTED);
    assertThat(Replay.run(List.of(denied), policy(PINS_A_SECRET_CLAIM), ROUTER, 5).undecidableDenied())
        .as("denied then, undecidable now: the draft may allow it").isEqualTo(1);

    // a draft whose rules never look at the redacted claim decides these requests as usual
    ReplayReport plain = Replay.run(List.of(r, nested), policy(RECORDED), ROUTER, 5);
    assertThat(plain.unchanged()).isEqualTo(2);
    assertThat(plain.undecidable().count()).isZero();
  }

  @Test
  void recordsThePolicyNeverDecidedAreSkippedAndCountedByReason() throws Exception {
    Map<String, Object> claims = Map.of("project_path", FORECASTING);
    ObjectNode checkpoint = JSON.createObjectNode().put("type", "checkpoint").put("seq", 7);
    ObjectNode noCaller = record("u1", "exchange", null, null, "POST", MODEL_PATH + "generateContent",
        "publishers.models.generateContent", "deny", null, "token-expired");
    ObjectNode reserved = record("u2", "exchange", "alice", claims, "GET", "/_proxy/login", "proxy.login", "deny",
        null, "login-failed");
    ObjectNode notRouted = record("u3", "exchange", "alice", claims, "GET", "/v1/nothing/here", null, "deny", null,
        "route-not-found");
    ObjectNode guard = exchange("u4", FORECASTING, "generateContent", "deny");
    guard.put("reason", "body-too-large");
    ObjectNode left = exchange("u5", FORECASTING, "generateContent", "allow");
    left.remove("decision");
    ObjectNode catalogChanged = exchange("u6", FORECASTING, "generateContent", "allow");
    catalogChanged.put("path", "/v1/projects/p/locations/l/noSuchCollection/x:generateContent");

    ReplayReport report = Replay.run(List.of(checkpoint, JSON.createArrayNode(), noCaller, reserved, notRouted, guard,
        left, catalogChanged), policy(RECORDED), ROUTER, 5);
    assertThat(report.replayed()).isZero();
    assertThat(report.skipped()).containsEntry(ReplayReport.Skip.NOT_A_REQUEST, 2L)
        .containsEntry(ReplayReport.Skip.UNAUTHENTICATED, 1L)
        .containsEntry(ReplayReport.Skip.RESERVED_ROUTE, 1L)
        .containsEntry(ReplayReport.Skip.NOT_ROUTED, 2L)
        .containsEntry(ReplayReport.Skip.NOT_DECIDED_BY_POLICY, 2L);
    assertThat(report.recordedVersions()).isEmpty();
  }

  @Test
  void hugeClaimValuesAreDecidedAndCutInTheReport() throws Exception {
    String huge = "g".repeat(2_000_000);
    ObjectNode r = exchange("h1", FORECASTING, "countTokens", "allow");
    ((ObjectNode) r.path("caller")).put("subject", huge);
    ((ObjectNode) r.path("caller").path("claims")).putArray("groups").add(huge).add(huge);

    ReplayReport report = Replay.run(List.of(r), policy(NARROWED), ROUTER, 5);
    assertThat(report.newlyDenied().exampleRequestIds()).containsExactly("h1");
    assertThat(report.newlyDenied().groups().get(0).key().subject()).hasSizeLessThan(300).endsWith("...");
  }

  @Test
  void examplesPerGroupAreBoundedButEveryRequestIsCounted() throws Exception {
    List<ObjectNode> records = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      records.add(exchange("e" + i, FORECASTING, "countTokens", "allow"));
    }
    ReplayReport report = Replay.run(records, policy(NARROWED), ROUTER, 2);
    assertThat(report.newlyDenied().groups()).singleElement().satisfies(g -> {
      assertThat(g.count()).isEqualTo(50);
      assertThat(g.examples()).hasSize(2);
    });
  }

  // --- the command, on directories ---------------------------------------------------------------------------

  private record Run(int exit, String out, String err) {
    JsonNode json() throws Exception {
      return JSON.readTree(out);
    }
  }

  private Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = new CommandLine(new PolicyCommand(() -> CATALOG, c -> ROUTER));
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    return new Run(cli.execute(args), out.toString(), err.toString());
  }

  private static String lines(List<ObjectNode> records) throws Exception {
    StringBuilder s = new StringBuilder();
    for (ObjectNode r : records) {
      s.append(JSON.writeValueAsString(r)).append('\n');
    }
    return s.toString();
  }

  /** Replica a: a rotated, compressed file, then a live one with broken lines; replica b: one file. */
  private List<String> twoReplicas() throws Exception {
    Path a = Files.createDirectories(dir.resolve("a"));
    Path b = Files.createDirectories(dir.resolve("b"));
    List<ObjectNode> t = traffic();
    try (OutputStream gz = new GZIPOutputStream(Files.newOutputStream(a.resolve("audit-20260501T110000Z-1.jsonl.gz")))) {
      gz.write(lines(List.of(t.get(0), t.get(1))).getBytes(StandardCharsets.UTF_8));
    }
    Files.writeString(a.resolve("audit-20260501T120000Z-3.jsonl"), lines(List.of(t.get(2)))
        + "{\"type\":\"exchange\",\"request_id\":\"torn\n" + "not json at all\n" + "[1,2]\n" + lines(List.of(t.get(3))));
    ObjectNode onB = t.get(4).deepCopy();
    onB.put("chain_id", "replica-b");
    onB.put("policy_version", "sha256:000000000002");
    Files.writeString(b.resolve("audit-20260501T120000Z-1.jsonl"), lines(List.of(onB)));
    return List.of("--audit", a.toString(), "--audit", b.toString());
  }

  private Run replay(List<String> audit, String draftYaml, String... more) throws Exception {
    Path draft = Files.writeString(dir.resolve("draft-" + Integer.toHexString(draftYaml.hashCode()) + ".yaml"),
        draftYaml);
    List<String> args = new ArrayList<>(List.of("replay", "--policy", draft.toString(), "--issuers", "gitlab"));
    args.addAll(audit);
    args.addAll(List.of(more));
    return run(args.toArray(String[]::new));
  }

  @Test
  void theCommandReadsTwoReplicasAndARotatedGzipAndCountsBrokenLines() throws Exception {
    List<String> audit = twoReplicas();
    Run unchanged = replay(audit, RECORDED, "--json");
    assertThat(unchanged.exit()).as(unchanged.err()).isZero();
    JsonNode totals = unchanged.json().path("totals");
    assertThat(totals.path("replayed").asLong()).isEqualTo(5);
    assertThat(totals.path("unchanged").asLong()).isEqualTo(5);
    assertThat(totals.path("broken_lines").asLong()).as("a torn line, a line that is not JSON, a JSON array")
        .isEqualTo(3);
    assertThat(unchanged.json().path("recorded_policy_versions").toString())
        .isEqualTo("{\"sha256:000000000001\":4,\"sha256:000000000002\":1}");

    Run narrowed = replay(audit, NARROWED, "--json");
    assertThat(narrowed.exit()).as("a verdict changed").isEqualTo(1);
    JsonNode denied = narrowed.json().path("newly_denied");
    assertThat(denied.path("count").asLong()).isEqualTo(2);
    List<String> ids = new ArrayList<>();
    denied.path("groups").forEach(g -> g.path("examples").forEach(e -> ids.add(e.path("request_id").asText())));
    assertThat(ids).containsExactly("r2", "r5");
    assertThat(denied.path("groups").path(0).path("examples").path(0).path("draft").path("reason").asText())
        .isEqualTo("method-not-granted");

    assertThat(replay(audit, NARROWED, "--fail-on-widen").exit()).as("narrowing passes the gate").isZero();
    Run widened = replay(audit, WIDENED, "--fail-on-widen");
    assertThat(widened.exit()).isEqualTo(1);
    assertThat(widened.out()).contains("newly allowed  ", "newly allowed (1):", "r4", "project_path acme/other");
  }

  @Test
  void recordedTextCannotDriveTheTerminal() throws Exception {
    Path a = Files.createDirectories(dir.resolve("escapes"));
    ObjectNode r = exchange("esc", FORECASTING, "countTokens", "allow");
    ((ObjectNode) r.path("caller")).put("subject", "alice\u001b]0;owned\u0007\u001b[2J");
    Files.writeString(a.resolve("audit-20260501T120000Z-1.jsonl"), lines(List.of(r)));
    Run text = replay(List.of("--audit", a.toString()), NARROWED);
    assertThat(text.exit()).isEqualTo(1);
    assertThat(text.out()).contains("alice?]0;owned??[2J").doesNotContain("\u001b", "\u0007");
  }

  @Test
  void theTimeWindowLimitsWhatIsReplayed() throws Exception {
    List<String> audit = twoReplicas();
    Run none = replay(audit, NARROWED, "--json", "--since", "2026-05-02");
    assertThat(none.exit()).isZero();
    assertThat(none.json().path("totals").path("replayed").asLong()).isZero();
  }

  @Test
  void unusableInputExitsTwo() throws Exception {
    List<String> audit = twoReplicas();
    Run bad = replay(audit, RECORDED.replace("methods:", "method:"));
    assertThat(bad.exit()).isEqualTo(2);
    assertThat(bad.err()).contains("draft-", ":");
    Run missing = replay(List.of("--audit", dir.resolve("nope").toString()), RECORDED);
    assertThat(missing.exit()).isEqualTo(2);
    assertThat(missing.err()).contains("no such directory");
    Run unknownIssuer = replay(audit, RECORDED.replace("issuer: gitlab", "issuer: gitlub"));
    assertThat(unknownIssuer.exit()).isEqualTo(2);
  }
}

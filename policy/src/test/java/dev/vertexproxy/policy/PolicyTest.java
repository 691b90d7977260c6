package dev.vertexproxy.policy;

import static dev.vertexproxy.policy.TestCatalog.CATALOG;
import static dev.vertexproxy.policy.TestCatalog.route;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.vertexproxy.policy.route.Route;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PolicyTest {
  static final String SA = "trainer@acme-ml-prod.iam.gserviceaccount.com";

  static final String POLICY = """
      version: 1
      rules:
        - name: forecasting-ci-trains
          description: the forecasting project trains models from protected refs
          effect: allow
          identity:
            issuer: gitlab
            subject: "project_path:acme/ml/*:ref_type:branch:ref:*"
            claims:
              namespace_path: acme/ml
              project_path: acme/ml/forecasting
              ref_protected: true
          methods: [customJobs.create, customJobs.get, "customJobs.operations.*", models.upload]
          resources:
            projects: [acme-ml-prod]
            locations: [us-central1]
          service_account: trainer@acme-ml-prod.iam.gserviceaccount.com
        - name: predict-endpoint-42
          effect: allow
          identity:
            issuer: [gitlab, humans]
            claims:
              groups: [ml-team, "acme/**"]
          methods: [aiplatform.projects.locations.endpoints.predict]
          resources:
            projects: ["acme-*"]
            names: ["projects/*/locations/*/endpoints/42*"]
          service_account: predictor@acme-ml-prod.iam.gserviceaccount.com
        - name: no-uploads-from-sandbox
          effect: deny
          identity:
            claims:
              project_path: "acme/sandbox/**"
          methods: [models.upload]
      """;

  static Policy policy(String yaml) throws PolicyException {
    return Policy.parse(yaml, "policy.yaml", CATALOG, Set.of("gitlab", "humans"));
  }

  static Caller forecasting(Map<String, Object> overrides) {
    Map<String, Object> claims = new HashMap<>(Map.of(
        "namespace_path", "acme/ml", "project_path", "acme/ml/forecasting", "ref_protected", "true",
        "user_login", "alice"));
    claims.putAll(overrides);
    return new Caller("gitlab", "project_path:acme/ml/forecasting:ref_type:branch:ref:main", claims);
  }

  @Test
  void theIdentityPartAloneSaysWhichRulesAPersonFallsUnderWithTheirResourcesAsWritten() throws Exception {
    Policy p = policy(POLICY);
    Rule predict = p.rules().get(1);
    Rule sandbox = p.rules().get(2);
    Caller member = new Caller("humans", "alice", Map.of("groups", List.of("ml-team")));
    Caller outsider = new Caller("humans", "bob", Map.of("groups", List.of("finance")));
    assertThat(predict.matchesIdentity(member)).isTrue();
    assertThat(predict.matchesIdentity(outsider)).isFalse();
    assertThat(p.rules().get(0).matchesIdentity(member)).as("issuer gitlab only").isFalse();
    assertThat(sandbox.matchesIdentity(member)).as("a claim the person does not have").isFalse();
    assertThat(predict.projectPatterns()).containsExactly("acme-*");
    assertThat(predict.locationPatterns()).isEmpty();
    assertThat(predict.namePatterns()).containsExactly("projects/*/locations/*/endpoints/42*");
    assertThat(p.rules().get(0).locationPatterns()).containsExactly("us-central1");
  }

  @Test
  void allowRuleGrantsItsMethodsAndNamesItsServiceAccount() throws Exception {
    Decision d = policy(POLICY).decide(forecasting(Map.of()), route("customJobs.create", "acme-ml-prod", "us-central1"));
    assertThat(d).isEqualTo(new Decision(true, "forecasting-ci-trains", Reasons.ALLOWED, SA,
        "allowed by rule forecasting-ci-trains"));
  }

  @Test
  void denyRulesByProjectFailClosedForProjectNumbersAndPathsWithoutAProject() throws Exception {
    Policy p = policy("""
        version: 1
        rules:
          - name: broad
            effect: allow
            identity: { issuer: gitlab }
            methods: [endpoints.predict]
            service_account: sa@p.iam.gserviceaccount.com
          - name: not-prod
            effect: deny
            identity: { issuer: gitlab }
            resources:
              projects: [secret-prod]
        """);
    Caller c = forecasting(Map.of());
    assertThat(p.decide(c, route("endpoints.predict", "other-project", "us-central1")).allowed()).isTrue();
    assertThat(p.decide(c, route("endpoints.predict", "secret-prod", "us-central1")).reason()).isEqualTo(Reasons.DENIED_BY_RULE);
    // the same project by number, or a path that names none, cannot be shown to be outside secret-prod
    assertThat(p.decide(c, route("endpoints.predict", "123456789012", "us-central1")).reason()).isEqualTo(Reasons.DENIED_BY_RULE);
    assertThat(p.decide(c, route("endpoints.predict", null, "global", "endpoints/42")).reason())
        .isEqualTo(Reasons.DENIED_BY_RULE);
  }

  @Test
  void explanationsRememberedPerCallerStayRightAcrossRequests() throws Exception {
    Policy p = policy(POLICY);
    Caller stranger = forecasting(Map.of("project_path", "acme/other"));
    Caller trainer = forecasting(Map.of());
    // same caller instances, many requests: the remembered identity verdict must not leak between callers or methods
    for (int i = 0; i < 3; i++) {
      assertThat(p.decide(stranger, route("customJobs.create", "acme-ml-prod", "us-central1")).reason())
          .isEqualTo(Reasons.IDENTITY_NOT_MATCHED);
      assertThat(p.decide(stranger, route("endpoints.predict", "acme-ml-prod", "us-central1")).reason())
          .isEqualTo(Reasons.IDENTITY_NOT_MATCHED);
      assertThat(p.decide(trainer, route("endpoints.predict", "acme-ml-prod", "us-central1")).reason())
          .isEqualTo(Reasons.METHOD_NOT_GRANTED);
      assertThat(p.decide(trainer, route("customJobs.create", "acme-ml-prod", "us-central1")).allowed()).isTrue();
      assertThat(p.decide(forecasting(Map.of("project_path", "acme/other")),
          route("models.upload", "acme-ml-prod", "us-central1")).reason()).isEqualTo(Reasons.IDENTITY_NOT_MATCHED);
    }
  }

  @Test
  void methodGlobStarStaysWithinOnePartAndDoubleStarCrossesParts() throws Exception {
    Policy p = policy(POLICY);
    assertThat(p.rules().get(0).methods()).containsExactlyInAnyOrder("customJobs.create", "customJobs.get",
        "customJobs.operations.get", "customJobs.operations.cancel", "models.upload");
    Policy star = policy(POLICY.replace("\"customJobs.operations.*\"", "\"customJobs.*\""));
    assertThat(star.rules().get(0).methods()).doesNotContain("customJobs.operations.get").contains("customJobs.cancel");
    Policy doubleStar = policy(POLICY.replace("\"customJobs.operations.*\"", "\"customJobs.**\""));
    assertThat(doubleStar.rules().get(0).methods()).contains("customJobs.operations.get", "customJobs.cancel");
  }

  @Test
  void fullDiscoveryIdsAndTheirGlobsNameTheSameMethods() throws Exception {
    assertThat(policy(POLICY).rules().get(1).methods()).containsExactly("endpoints.predict");
    Policy p = policy(POLICY.replace("aiplatform.projects.locations.endpoints.predict",
        "\"aiplatform.publishers.models.*\""));
    assertThat(p.rules().get(1).methods()).containsExactlyInAnyOrder("publishers.models.generateContent",
        "publishers.models.countTokens");
  }

  @Test
  void denyWinsRegardlessOfOrder() throws Exception {
    Caller sandbox = forecasting(Map.of("project_path", "acme/sandbox/x/y"));
    Policy onlyAllow = policy(POLICY.replace("project_path: acme/ml/forecasting", "project_path: \"acme/**\""));
    Route upload = route("models.upload", "acme-ml-prod", "us-central1");
    assertThat(onlyAllow.decide(sandbox, upload).reason()).isEqualTo(Reasons.DENIED_BY_RULE);
    assertThat(onlyAllow.decide(sandbox, upload).rule()).isEqualTo("no-uploads-from-sandbox");

    String denyFirst = """
        version: 1
        rules:
          - name: deny-everything-to-sandbox
            effect: deny
            identity: { claims: { project_path: "acme/sandbox/**" } }
          - name: allow-all-acme
            effect: allow
            identity: { issuer: gitlab, claims: { project_path: "acme/**" } }
            methods: [models.upload, customJobs.get]
            service_account: x-sa-123@p-123456.iam.gserviceaccount.com
        """;
    Policy p = policy(denyFirst);
    assertThat(p.decide(sandbox, upload)).isEqualTo(new Decision(false, "deny-everything-to-sandbox",
        Reasons.DENIED_BY_RULE, null, "denied by rule deny-everything-to-sandbox"));
    assertThat(p.decide(forecasting(Map.of()), upload).allowed()).isTrue();
  }

  @Test
  void defaultDenyNamesTheFirstCheckTheClosestAllowRuleFailed() throws Exception {
    Policy p = policy(POLICY);
    Route create = route("customJobs.create", "acme-ml-prod", "us-central1");

    Decision untrusted = p.decide(new Caller("other", "x", Map.of()), create);
    assertThat(untrusted.reason()).isEqualTo(Reasons.ISSUER_NOT_TRUSTED);
    assertThat(untrusted.rule()).isNull();
    assertThat(untrusted.serviceAccount()).isNull();

    Decision unprotected = p.decide(forecasting(Map.of("ref_protected", false)), create);
    assertThat(unprotected.reason()).isEqualTo(Reasons.IDENTITY_NOT_MATCHED);
    assertThat(unprotected.message()).contains("claims.ref_protected").doesNotContain("false");

    assertThat(p.decide(forecasting(Map.of()), route("endpoints.deployModel", "acme-ml-prod", "us-central1")).reason())
        .isEqualTo(Reasons.METHOD_NOT_GRANTED);
    assertThat(p.decide(forecasting(Map.of()), route("customJobs.create", "acme-dev", "us-central1")).reason())
        .isEqualTo(Reasons.PROJECT_NOT_GRANTED);
    assertThat(p.decide(forecasting(Map.of()), route("customJobs.create", "acme-ml-prod", "europe-west4")).reason())
        .isEqualTo(Reasons.LOCATION_NOT_GRANTED);

    Caller team = new Caller("humans", "alice", Map.of("groups", List.of("other", "ml-team")));
    Route endpoint42 = route("endpoints.predict", "acme-ml-prod", "us-central1",
        "projects/acme-ml-prod/locations/us-central1/endpoints/4217");
    Route endpoint7 = route("endpoints.predict", "acme-ml-prod", "us-central1",
        "projects/acme-ml-prod/locations/us-central1/endpoints/7");
    assertThat(p.decide(team, endpoint42).allowed()).isTrue();
    assertThat(p.decide(team, endpoint7).reason()).isEqualTo(Reasons.RESOURCE_NOT_GRANTED);
    assertThat(p.decide(new Caller("humans", "bob", Map.of()), endpoint42).reason())
        .isEqualTo(Reasons.IDENTITY_NOT_MATCHED);
  }

  @Test
  void expressModeRoutesNeverMatchRulesThatListProjects() throws Exception {
    String yaml = """
        version: 1
        rules:
          - name: express
            effect: allow
            identity: { issuer: gitlab }
            methods: [publishers.models.generateContent]
            service_account: gemini@acme-ml-prod.iam.gserviceaccount.com
          - name: projects-only
            effect: allow
            identity: { issuer: humans }
            methods: [publishers.models.generateContent]
            resources: { projects: ["**"] }
            service_account: gemini@acme-ml-prod.iam.gserviceaccount.com
        """;
    Policy p = policy(yaml);
    Route express = new Route(CATALOG.byName("publishers.models.generateContent").stream()
        .filter(m -> m.id().equals("aiplatform.publishers.models.generateContent")).findFirst().orElseThrow(),
        "publishers/google/models/gemini-2.0-flash", null, "global", false);
    assertThat(p.decide(new Caller("gitlab", "s", Map.of()), express).allowed()).isTrue();
    assertThat(p.decide(new Caller("humans", "s", Map.of()), express).reason()).isEqualTo(Reasons.PROJECT_NOT_GRANTED);
  }

  @Test
  void claimsCompareByStringFormAndListClaimsMatchAnyElement() throws Exception {
    Policy p = policy(POLICY);
    Route create = route("customJobs.create", "acme-ml-prod", "us-central1");
    assertThat(p.decide(forecasting(Map.of("ref_protected", true)), create).allowed()).isTrue();
    assertThat(p.decide(forecasting(Map.of("ref_protected", "true")), create).allowed()).isTrue();
    assertThat(p.decide(forecasting(Map.of("ref_protected", "True")), create).allowed()).isFalse();
    Map<String, Object> missing = new HashMap<>(forecasting(Map.of()).claims());
    missing.remove("ref_protected");
    assertThat(p.decide(new Caller("gitlab", forecasting(Map.of()).subject(), missing), create).reason())
        .isEqualTo(Reasons.IDENTITY_NOT_MATCHED);
    assertThat(p.decide(forecasting(Map.of("project_path", List.of("x", "acme/ml/forecasting"))), create).allowed())
        .isTrue();

    String numbers = """
        version: 1
        rules:
          - name: numeric
            effect: allow
            identity: { issuer: gitlab, claims: { project_id: 42, ratio: 1.5 } }
            methods: [customJobs.get]
            service_account: a-sa-1@p-123456.iam.gserviceaccount.com
        """;
    Route get = route("customJobs.get", "p", "l");
    assertThat(policy(numbers).decide(new Caller("gitlab", "s", Map.of("project_id", 42L, "ratio", 1.5)), get)
        .allowed()).isTrue();
    assertThat(policy(numbers).decide(new Caller("gitlab", "s", Map.of("project_id", 42.0, "ratio", "1.5")), get)
        .allowed()).isTrue();
    assertThat(policy(numbers).decide(new Caller("gitlab", "s", Map.of("project_id", Map.of("a", 42), "ratio", 1.5)),
        get).allowed()).isFalse();
  }

  @Test
  void globsMatchWithinAndAcrossSlashSeparatedParts() {
    assertThat(Glob.compile("acme/*", '/').matches("acme/ml")).isTrue();
    assertThat(Glob.compile("acme/*", '/').matches("acme/ml/x")).isFalse();
    assertThat(Glob.compile("acme/**", '/').matches("acme/ml/x")).isTrue();
    assertThat(Glob.compile("acme/?l", '/').matches("acme/ml")).isTrue();
    assertThat(Glob.compile("acme/?", '/').matches("acme/ml")).isFalse();
    assertThat(Glob.compile("a.b(c)+", '/').matches("a.b(c)+")).isTrue();
    assertThat(Glob.compile("a.*", '/').matches("aXb")).isFalse();
    assertThat(Glob.compile("customJobs.*", '.').matches("customJobs.operations.get")).isFalse();
    assertThat(Glob.compile("**.get", '.').matches("customJobs.operations.get")).isTrue();
  }

  @Test
  void versionIsTheShortSha256OfTheFileBytes(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("policy.yaml");
    Files.writeString(file, POLICY);
    byte[] digest = MessageDigest.getInstance("SHA-256").digest(POLICY.getBytes(StandardCharsets.UTF_8));
    String expected = "sha256:" + HexFormat.of().formatHex(digest).substring(0, 12);
    assertThat(Policy.load(file, CATALOG, null).version()).isEqualTo(expected);
    assertThat(policy(POLICY).version()).isEqualTo(expected);
    assertThat(policy(POLICY + "\n").version()).isNotEqualTo(expected);
  }

  @Test
  void explainTracesEveryRuleWithItsFirstFailedCriterion() throws Exception {
    List<RuleTrace> traces = policy(POLICY).explain(forecasting(Map.of("ref_protected", "false")),
        route("models.upload", "acme-ml-prod", "us-central1"));
    assertThat(traces).containsExactly(
        new RuleTrace("forecasting-ci-trains", "allow", false, "claims.ref_protected", 3),
        new RuleTrace("predict-endpoint-42", "allow", false, "claims.groups", 18),
        new RuleTrace("no-uploads-from-sandbox", "deny", false, "claims.project_path", 29));
    assertThat(policy(POLICY).explain(forecasting(Map.of()), route("customJobs.get", "acme-ml-prod", "asia-east1")))
        .extracting(RuleTrace::failed).containsExactly("resources.locations", "claims.groups", "claims.project_path");
  }

  @Test
  void loadReportsAnUnreadableFileAsAProblem(@TempDir Path dir) {
    assertThatThrownBy(() -> Policy.load(dir.resolve("absent.yaml"), CATALOG, null))
        .isInstanceOf(PolicyException.class).hasMessageContaining("absent.yaml:1:1: cannot read");
  }
}

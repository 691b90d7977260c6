package dev.vertexproxy.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vertexproxy.policy.catalog.MethodCatalog;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The findings that need the catalog's path templates, the issuers' claims or the other rules, each triggered at its
 * line and each next to a near miss that must not trigger it. Against the bundled catalog: its real path shapes are
 * what the checks reason about.
 */
class PolicyLinterReachTest {
  private static final MethodCatalog CATALOG = MethodCatalog.bundled();
  private static final LintContext NO_CONFIG = LintContext.withoutConfig(CATALOG);
  /** A GitLab issuer and a people's issuer whose sessions carry only these claims. */
  private static final LintContext CONFIG = new LintContext(CATALOG, Map.of("gitlab", LintContext.KnownClaims.GITLAB,
      "humans", new LintContext.KnownClaims(Set.of("sub", "iss", "aud", "groups", "email", "email_verified"),
          "sessions.claims and the session's own")));

  /** A tight GitLab rule with {@code extra} spliced in after {@code methods}; line 3 is the rule, 8 is {@code methods}. */
  private static final String HEAD = """
      version: 1
      rules:
        - name: r
          effect: allow
          identity:
            issuer: gitlab
            claims: { project_path: acme/ml/forecasting, ref_protected: "true" }
      """;

  private static Policy policy(String yaml) throws PolicyException {
    return Policy.parse(yaml, "policy.yaml", CATALOG, Set.of("gitlab", "humans"));
  }

  private static List<String> lint(String yaml, LintContext context) throws PolicyException {
    return PolicyLinter.lint(policy(yaml), context).stream().map(PolicyLinter.Warning::toString).toList();
  }

  private static List<String> rule(String methodsAndMore) throws PolicyException {
    return lint(HEAD + "    " + methodsAndMore.strip().replace("\n", "\n    ") + "\n"
        + "    service_account: sa@acme-ml-prod.iam.gserviceaccount.com\n", NO_CONFIG);
  }

  @Test
  void aNamesGlobOfAnotherResourceShapeNeverMatchesTheMethod() throws Exception {
    assertThat(rule("""
        methods: [customJobs.create, endpoints.predict]
        resources: { projects: [acme-ml-prod], names: ["projects/*/locations/*/endpoints/*"] }
        """)).containsExactly("9:5: rule r: no resources.names glob [projects/*/locations/*/endpoints/*] can match the"
        + " resource of customJobs.create, so the rule never allows it [names-never-match]");
    assertThat(rule("""
        methods: [customJobs.create]
        resources: { projects: [acme-ml-prod], names: ["publishers/**"] }
        """)).singleElement().asString().startsWith("9:5:").endsWith("[names-never-match]");
  }

  @Test
  void namesGlobsThatFitTheShapeAreReachable() throws Exception {
    assertThat(rule("""
        methods: [customJobs.create, customJobs.get, endpoints.predict]
        resources:
          projects: [acme-ml-prod]
          names: ["projects/*/locations/us-central1/customJobs", "projects/*/locations/*/customJobs/12*",
                  "projects/**/endpoints/42"]
        """)).isEmpty();
    assertThat(rule("""
        methods: [customJobs.create]
        resources: { projects: [acme-ml-prod], names: ["**"] }
        """)).isEmpty();
  }

  @Test
  void projectsNeverMatchAMethodWhosePathsNameNoProject() throws Exception {
    assertThat(rule("""
        methods: [publishers.models.get]
        resources: { projects: [acme-ml-prod] }
        """)).containsExactly("9:5: rule r: publishers.models.get name no project in the path (express mode), so"
        + " resources.projects never matches it [projects-never-match]");
    // generateContent has an express shape too, but also the regional one: reachable
    assertThat(rule("""
        methods: [publishers.models.generateContent]
        resources: { projects: [acme-ml-prod] }
        models: [gemini-2.5-flash]
        """)).isEmpty();
  }

  @Test
  void modelsNeverMatchMethodsWhosePathsNameNoModel() throws Exception {
    assertThat(rule("""
        methods: [endpoints.predict, customJobs.create, endpoints.chat.completions, publishers.models.generateContent]
        resources: { projects: [acme-ml-prod] }
        models: [gemini-2.5-flash]
        """)).containsExactly("10:5: rule r: customJobs.create, endpoints.chat.completions, endpoints.predict name no"
        + " model in the path (an endpoint, a job, or the model in the body), so models never matches them"
        + " [models-never-match]");
    assertThat(rule("""
        methods: [models.get, publishers.models.streamGenerateContent]
        resources: { projects: [acme-ml-prod] }
        models: ["models/123*", "gemini-2.5-*"]
        """)).noneMatch(w -> w.contains("models-never-match"));
  }

  @Test
  void withoutAConfigurationOnlyNearMissesOfGitlabClaimsAreReported() throws Exception {
    String yaml = HEAD.replace("project_path:", "project_pth:") + """
            methods: [customJobs.get]
            resources: { projects: [acme-ml-prod] }
            service_account: sa@acme-ml-prod.iam.gserviceaccount.com
          - name: people
            effect: allow
            identity: { issuer: humans, claims: { groups: ml-team, email_verified: true, department: ml } }
            methods: [customJobs.get]
            resources: { projects: [acme-ml-prod] }
            service_account: sa@acme-ml-prod.iam.gserviceaccount.com
        """;
    assertThat(lint(yaml, NO_CONFIG)).filteredOn(w -> w.contains("claim-never-issued")).containsExactly(
        "5:5: rule r: claim project_pth is no GitLab ID token claim; did you mean project_path? (give --issuers"
            + " proxy.yaml to check every claim) [claim-never-issued]");
  }

  @Test
  void withAConfigurationEveryClaimIsCheckedAgainstItsIssuer() throws Exception {
    String yaml = HEAD.replace("ref_protected: \"true\"", "ref_protected: \"true\", groups: ml") + """
            methods: [customJobs.get]
            resources: { projects: [acme-ml-prod] }
            service_account: sa@acme-ml-prod.iam.gserviceaccount.com
          - name: people
            effect: allow
            identity: { issuer: humans, claims: { groups: ml-team, email_verifed: true } }
            methods: [customJobs.get]
            resources: { projects: [acme-ml-prod] }
            service_account: sa@acme-ml-prod.iam.gserviceaccount.com
        """;
    assertThat(lint(yaml, CONFIG)).filteredOn(w -> w.contains("claim-never-issued")).containsExactly(
        "5:5: rule r: claim groups is not among the claims of gitlab's tokens (GitLab ID tokens), so the rule never"
            + " matches [claim-never-issued]",
        "13:5: rule people: claim email_verifed is not among the claims of humans's tokens (sessions.claims and the"
            + " session's own), so the rule never matches; did you mean email_verified? [claim-never-issued]");
    assertThat(lint(yaml.replace(", groups: ml", "").replace("email_verifed", "email_verified"), CONFIG))
        .noneMatch(w -> w.contains("claim-never-issued"));
  }

  @Test
  void aDenyThatCoversEveryRequestOfAnAllowShadowsIt() throws Exception {
    String allow = HEAD + """
            methods: [customJobs.create, customJobs.get]
            resources: { projects: [acme-ml-prod], locations: [us-central1] }
            service_account: sa@acme-ml-prod.iam.gserviceaccount.com
        """;
    assertThat(lint(allow + """
          - name: no-forecasting
            effect: deny
            identity: { claims: { project_path: [acme/ml/forecasting, acme/ml/other] } }
            methods: [customJobs.create, customJobs.get, customJobs.cancel]
            resources: { locations: ["*"] }
        """, NO_CONFIG)).filteredOn(w -> w.contains("shadowed")).containsExactly("3:5: rule r: deny rule"
        + " no-forecasting (line 11) matches every request this rule allows, so it never allows anything"
        + " [shadowed-by-deny]");
  }

  @Test
  void aDenyThatLeavesSomeRequestOfTheAllowDoesNotShadowIt() throws Exception {
    String allow = HEAD + """
            methods: [customJobs.create, customJobs.get]
            resources: { projects: [acme-ml-prod] }
            service_account: sa@acme-ml-prod.iam.gserviceaccount.com
        """;
    for (String deny : List.of(
        "identity: { claims: { pipeline_source: merge_request_event } }",   // a claim the allow does not pin
        "identity: { claims: { project_path: \"acme/**\" } }",              // a glob: not compared, so not proven
        "identity: { issuer: gitlab }\n    methods: [customJobs.create]",  // fewer methods
        "identity: { issuer: gitlab }\n    resources: { locations: [europe-west4] }",
        "identity: { issuer: humans }",
        "identity: { subject: \"project_path:acme/ml/forecasting:*\" }",
        "identity: { issuer: gitlab }\n    models: [gemini-2.5-pro]")) {
      assertThat(lint(allow + "  - name: d\n    effect: deny\n    " + deny + "\n", NO_CONFIG)).as(deny)
          .noneMatch(w -> w.contains("shadowed-by-deny"));
    }
  }

  @Test
  void globsThatGrantWritesAreErrorsAndReadOnlyGlobsAreNot() throws Exception {
    List<PolicyLinter.Warning> findings = PolicyLinter.lint(policy(HEAD + """
            methods: ["customJobs.*"]
            resources: { projects: [acme-ml-prod] }
            service_account: sa@acme-ml-prod.iam.gserviceaccount.com
        """), NO_CONFIG);
    assertThat(findings).filteredOn(w -> w.code().equals("broad-write-grant")).singleElement().satisfies(w -> {
      assertThat(w.severity()).isEqualTo(PolicyLinter.Severity.ERROR);
      assertThat(w.line()).isEqualTo(8);
      assertThat(w.message()).contains("customJobs.create", "customJobs.cancel");
      assertThat(w.fix()).isNotBlank();
    });
    assertThat(rule("methods: [\"publishers.models.*Content\"]\nresources: { projects: [acme-ml-prod] }"))
        .noneMatch(w -> w.contains("broad-write-grant")).anyMatch(w -> w.contains("broad-method-glob"));
  }

  @Test
  void ciWritesNeedAProtectedRefUnlessTheRuleSaysWhy() throws Exception {
    String yaml = HEAD.replace(", ref_protected: \"true\"", "") + """
            methods: [customJobs.create, customJobs.get, publishers.models.generateContent]
            resources: { projects: [acme-ml-prod] }
            service_account: sa@acme-ml-prod.iam.gserviceaccount.com
        """;
    assertThat(lint(yaml, NO_CONFIG)).containsExactly("8:5: rule r: grants write methods customJobs.create without"
        + " requiring ref_protected: \"true\"; a pipeline on any branch could call them [unprotected-write]");
    Policy policy = policy(yaml.replace("    methods:", "    # lint-ignore: unprotected-write (any branch trains)\n"
        + "    methods:"));
    assertThat(PolicyLinter.withoutIgnored(PolicyLinter.lint(policy, NO_CONFIG), policy,
        List.of(yaml.replace("    methods:", "    # lint-ignore: unprotected-write (any branch trains)\n    methods:")
            .split("\n")))).isEmpty();
    // people have no refs: a person's rule for the same methods is not asked for one
    assertThat(lint("""
        version: 1
        rules:
          - name: alice
            effect: allow
            identity: { issuer: humans, subject: alice@acme.example }
            methods: [customJobs.create]
            resources: { projects: [acme-ml-sandbox] }
            service_account: sa@acme-ml-sandbox.iam.gserviceaccount.com
        """, CONFIG)).isEmpty();
  }

  @Test
  void aLintIgnoreSilencesOnlyTheCodesItNamesInItsOwnRule() throws Exception {
    String yaml = """
        version: 1
        rules:
          - name: a
            effect: allow
            # lint-ignore: no-project-constraint
            identity: { issuer: gitlab, claims: { project_path: acme/a, ref_protected: "true" } }
            methods: [customJobs.get]
            service_account: sa@acme-ml-prod.iam.gserviceaccount.com
          - name: b
            effect: allow
            identity: { issuer: gitlab, claims: { project_path: acme/b, ref_protected: "true" } }
            methods: ["customJobs.g*"]  # lint-ignore: unprotected-write
            service_account: sa@acme-ml-prod.iam.gserviceaccount.com
        """;
    Policy policy = policy(yaml);
    assertThat(PolicyLinter.withoutIgnored(PolicyLinter.lint(policy, NO_CONFIG), policy, List.of(yaml.split("\n"))))
        .extracting(w -> w.rule() + " " + w.code())
        .containsExactly("b broad-method-glob", "b no-project-constraint");
  }

  /** What {@code policy suggest} writes: exact methods, projects, locations, pinned claims or subject, exact models. */
  @Test
  void suggestedRulesPassStrictLint() throws Exception {
    String yaml = """
        version: 1
        rules:
          - name: gitlab-acme-ml-forecasting
            effect: allow
            identity:
              issuer: gitlab
              claims: { namespace_path: acme/ml, project_path: acme/ml/forecasting, ref_protected: "true" }
            methods: [customJobs.create, customJobs.get, models.upload]
            resources: { projects: [dev-project], locations: [us-central1] }
            service_account: vertex-trainer@dev-project.iam.gserviceaccount.com
          - name: gitlab-acme-ml-forecasting-models
            # models: only on methods whose path names the model, or those methods would never be allowed
            effect: allow
            identity:
              issuer: gitlab
              claims: { namespace_path: acme/ml, project_path: acme/ml/forecasting, ref_protected: "true" }
            methods: [publishers.models.generateContent]
            resources: { projects: [dev-project], locations: [us-central1] }
            models: [gemini-2.5-flash]
            service_account: vertex-caller@dev-project.iam.gserviceaccount.com
          - name: humans-alice
            effect: allow
            identity: { issuer: humans, subject: alice@acme.example }
            methods: [publishers.models.generateContent, publishers.models.countTokens]
            resources: { projects: [dev-project], locations: [global, us-central1] }
            models: [gemini-2.5-flash, gemini-2.5-pro]
            credentials: { mode: impersonate }
            service_account: notebooks@dev-project.iam.gserviceaccount.com
        """;
    assertThat(lint(yaml, NO_CONFIG)).isEmpty();
    assertThat(lint(yaml, new LintContext(CATALOG, Map.of("gitlab", LintContext.KnownClaims.GITLAB)))).isEmpty();
  }
}

package dev.vertexproxy.policy;

import static dev.vertexproxy.policy.TestCatalog.CATALOG;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.vertexproxy.policy.yaml.Problem;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PolicyValidationTest {
  private static final String VALID_RULE = """
        - name: ok
          effect: allow
          identity: { issuer: gitlab, claims: { project_path: acme/ml } }
          methods: [customJobs.get]
          service_account: ok-sa-1@acme-ml-prod.iam.gserviceaccount.com
      """;

  private static List<String> problems(String yaml) {
    PolicyException e = catchThrowableOfType(PolicyException.class,
        () -> Policy.parse(yaml, "policy.yaml", CATALOG, Set.of("gitlab", "humans")));
    assertThat(e).as("expected the policy to be refused").isNotNull();
    assertThat(e.getMessage()).contains(e.problems().size() + " problem");
    return e.problems().stream().map(Problem::toString).toList();
  }

  @Test
  void unknownMethodNamesFileLineColumnPathValueAndSuggestion() {
    String yaml = """
        version: 1
        rules:
          - name: trains
            effect: allow
            identity: { issuer: gitlab }
            methods:
              - customJobs.get
              - customJobs.create
              - customJobs.creat
              - projects.locations.models.upload
              - "nothing.*"
            service_account: trainer@acme-ml-prod.iam.gserviceaccount.com
        """;
    assertThat(problems(yaml)).containsExactly(
        "policy.yaml:9:9: rules[0].methods[2]: \"customJobs.creat\" matches no Vertex method"
            + " (did you mean customJobs.create?)",
        "policy.yaml:10:9: rules[0].methods[3]: \"projects.locations.models.upload\" matches no Vertex method"
            + " (did you mean models.upload?)",
        "policy.yaml:11:9: rules[0].methods[4]: \"nothing.*\" matches no Vertex method");
  }

  @Test
  void unknownKeysAnywhereAreErrors() {
    String yaml = """
        version: 1
        extra: true
        rules:
          - name: ok
            effect: allow
            identity: { issuer: gitlab, claimz: { a: b } }
            methods: [customJobs.get]
            resources: { projects: [p], regions: [us] }
            service_acount: x@y.iam.gserviceaccount.com
        """;
    assertThat(problems(yaml)).containsExactly(
        "policy.yaml:2:1: extra: unknown key \"extra\" (expected one of: version, rules)",
        "policy.yaml:9:5: rules[0].service_acount: unknown key \"service_acount\" (did you mean service_account? expected"
            + " one of: name, description, effect, identity, methods, resources, models, credentials, service_account)",
        "policy.yaml:6:33: rules[0].identity.claimz: unknown key \"claimz\" (did you mean claims? expected one of: issuer,"
            + " subject, claims)",
        "policy.yaml:8:33: rules[0].resources.regions: unknown key \"regions\" (expected one of: projects, locations, names)",
        "policy.yaml:4:5: rules[0].service_account: missing (an allow rule must name the service account to act as, unless"
            + " its credentials: { mode: sts } lets the call run as the federated caller)");
  }

  @Test
  void versionMustBeOne() {
    assertThat(problems("version: 2\nrules: []\n"))
        .containsExactly("policy.yaml:1:10: version: the number 2 is not a supported version (expected: 1)");
    assertThat(problems("version: \"1\"\nrules: []\n"))
        .containsExactly("policy.yaml:1:10: version: \"1\" is not a supported version (expected: 1)");
    assertThat(problems("rules: []\n")).containsExactly("policy.yaml:1:1: version: missing (expected: version: 1)");
  }

  @Test
  void wrongTypesAreErrors() {
    String yaml = """
        version: 1
        rules:
          - name: [a]
            effect: true
            identity: { issuer: gitlab, claims: [a] }
            methods: customJobs.get
            resources: { projects: { a: b } }
            service_account: 12
          - just a string
        """;
    assertThat(problems(yaml)).containsExactly(
        "policy.yaml:3:11: rules[0].name: expected a string, got a list",
        "policy.yaml:4:13: rules[0].effect: expected a string, got the boolean true (quote it)",
        "policy.yaml:5:41: rules[0].identity.claims: expected a mapping, got a list",
        "policy.yaml:6:14: rules[0].methods: expected a list, got \"customJobs.get\"",
        "policy.yaml:7:28: rules[0].resources.projects: expected a list or a string, got a mapping",
        "policy.yaml:8:22: rules[0].service_account: expected a string, got the number 12 (quote it)",
        "policy.yaml:9:5: rules[1]: expected a mapping, got \"just a string\"");
  }

  @Test
  void duplicateRuleNamesAreErrors() {
    String yaml = "version: 1\nrules:\n" + VALID_RULE + VALID_RULE;
    assertThat(problems(yaml)).containsExactly(
        "policy.yaml:8:11: rules[1].name: duplicate rule name \"ok\" (first at line 3)");
  }

  @Test
  void unknownIssuerIsAnErrorOnlyWhenIssuerNamesAreGiven() throws Exception {
    String yaml = "version: 1\nrules:\n" + VALID_RULE.replace("issuer: gitlab", "issuer: [gitlab, gitlb]");
    assertThat(problems(yaml)).containsExactly(
        "policy.yaml:5:34: rules[0].identity.issuer: \"gitlb\" is not a configured issuer (configured: gitlab, humans)");
    assertThat(Policy.parse(yaml, "policy.yaml", CATALOG, null).rules()).hasSize(1);
  }

  @Test
  void allowRulesNeedIssuerMethodsAndAValidServiceAccount() {
    String yaml = """
        version: 1
        rules:
          - name: bare
            effect: allow
            identity: { subject: "x" }
          - name: empty-methods
            effect: allow
            identity: { issuer: gitlab }
            methods: []
            service_account: someone@gmail.com
        """;
    assertThat(problems(yaml)).containsExactly(
        "policy.yaml:5:15: rules[0].identity.issuer: missing (an allow rule must name the issuer it trusts)",
        "policy.yaml:3:5: rules[0].methods: missing (an allow rule must list the methods it grants)",
        "policy.yaml:3:5: rules[0].service_account: missing (an allow rule must name the service account to act as, unless"
            + " its credentials: { mode: sts } lets the call run as the federated caller)",
        "policy.yaml:9:14: rules[1].methods: expected a non-empty list; an empty list matches nothing (omit the key instead)",
        "policy.yaml:10:22: rules[1].service_account: \"someone@gmail.com\" is not a service account email "
            + "(expected NAME@PROJECT.iam.gserviceaccount.com)");
  }

  @Test
  void denyRulesNeedIdentityOrMethodsAndActAsNoOne() throws Exception {
    String yaml = """
        version: 1
        rules:
          - name: deny-all
            effect: deny
          - name: deny-with-sa
            effect: deny
            methods: [models.upload]
            service_account: x-sa-1@p-123456.iam.gserviceaccount.com
          - name: effect-typo
            effect: alow
        """;
    assertThat(problems(yaml)).containsExactly(
        "policy.yaml:3:5: rules[0]: a deny rule needs identity or methods (a rule that denies everything to everyone "
            + "is the default; delete the allow rules instead)",
        "policy.yaml:8:5: rules[1].service_account: a deny rule acts as no one; remove the key",
        "policy.yaml:10:13: rules[2].effect: \"alow\" is not an effect (expected: allow or deny)");
    Policy ok = PolicyTest.policy("version: 1\nrules:\n  - name: d\n    effect: deny\n    methods: [models.upload]\n");
    assertThat(ok.rules().get(0).anyMethod()).isFalse();
    assertThat(ok.rules().get(0).issuers()).isEmpty();
  }

  @Test
  void anchorsAliasesMergeKeysAndDuplicateKeysAreRefused() {
    String anchors = """
        version: 1
        rules:
          - &base
            name: a
            effect: allow
            identity: { issuer: gitlab }
            methods: [customJobs.get]
            service_account: ok-sa-1@acme-ml-prod.iam.gserviceaccount.com
          - <<: *base
            name: b
        """;
    List<String> anchorProblems = problems(anchors);
    assertThat(anchorProblems).anyMatch(p -> p.startsWith("policy.yaml:3:5: rules[0]: anchor &base is not allowed"));
    assertThat(anchorProblems).anyMatch(p -> p.startsWith("policy.yaml:9:5: rules[1]: merge keys (<<) are not allowed"));

    String alias = "version: 1\nrules:\n  - name: a\n    effect: deny\n    methods: &m [models.upload]\n"
        + "  - name: b\n    effect: deny\n    methods: *m\n";
    assertThat(problems(alias)).anyMatch(p -> p.contains("rules[1].methods: aliases are not allowed"));

    String duplicate = "version: 1\nrules:\n  - name: a\n    effect: deny\n    methods: [models.upload]\n"
        + "    methods: [customJobs.get]\n";
    assertThat(problems(duplicate)).containsExactly(
        "policy.yaml:6:5: rules[0].methods: duplicate key \"methods\" (first at line 5)");

    assertThat(problems("version: 1\nrules: !!python/object:os.system []\n"))
        .containsExactly("policy.yaml:2:8: invalid YAML: Global tag is not allowed: tag:yaml.org,2002:python/object:os.system");
    assertThat(problems("version: 1\nrules: !local []\n"))
        .containsExactly("policy.yaml:2:8: rules: explicit tag !local is not allowed");
  }

  @Test
  void syntaxErrorsAndEmptyDocumentsAreLocated() {
    assertThat(problems("version: 1\nrules: [\n")).singleElement().asString().startsWith("policy.yaml:3:1: invalid YAML");
    assertThat(problems("")).containsExactly("policy.yaml:1:1: the document is empty");
    assertThat(problems("- a\n")).containsExactly("policy.yaml:1:1: expected a mapping, got a list");
  }

  @Test
  void everyProblemIsReportedAtOnce() {
    String yaml = """
        version: 3
        rules:
          - name: one
            effect: allow
            identity: { issuer: nobody }
            methods: [nope.nope]
            service_account: bad
        """;
    assertThat(problems(yaml)).hasSize(4);
  }
}

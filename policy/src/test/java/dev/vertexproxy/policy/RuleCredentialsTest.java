package dev.vertexproxy.policy;

import static dev.vertexproxy.policy.TestCatalog.CATALOG;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.vertexproxy.policy.route.RouteException;
import dev.vertexproxy.policy.route.Router;
import dev.vertexproxy.policy.yaml.Problem;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** A rule's own {@code credentials:} block: parsed, validated with a line, and carried on the decision. */
class RuleCredentialsTest {
  private static final String PROVIDER =
      "//iam.googleapis.com/projects/123456789/locations/global/workloadIdentityPools/gitlab-pool/providers/gitlab";
  private static final String REQUEST_PATH =
      "/v1/projects/acme-ml-prod/locations/us-central1/publishers/google/models/gemini-2.5-flash:generateContent";

  private static Policy parse(String rule) throws PolicyException {
    return Policy.parse("version: 1\nrules:\n" + rule, "policy.yaml", CATALOG, Set.of("gitlab"));
  }

  private static List<String> problems(String rule) {
    PolicyException e = catchThrowableOfType(PolicyException.class, () -> parse(rule));
    assertThat(e).as("expected the policy to be refused").isNotNull();
    return e.problems().stream().map(Problem::toString).toList();
  }

  private static Decision decide(Policy policy) {
    Caller caller = new Caller("gitlab", "project_path:acme/ml:ref_type:branch:ref:main",
        Map.of("project_path", "acme/ml"));
    try {
      return policy.decide(caller, new Router(CATALOG).route("POST", REQUEST_PATH));
    } catch (RouteException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void anStsRuleWithoutAServiceAccountRunsAsTheFederatedCaller() throws Exception {
    Policy policy = parse("""
          - name: federated
            effect: allow
            identity: { issuer: gitlab, claims: { project_path: acme/ml } }
            methods: [publishers.models.generateContent]
            credentials: { mode: sts, audience: "%s" }
        """.formatted(PROVIDER));
    Decision d = decide(policy);
    assertThat(d.allowed()).isTrue();
    assertThat(d.serviceAccount()).isNull();
    assertThat(d.credentials()).isEqualTo(new RuleCredentials(RuleCredentials.Mode.STS, PROVIDER));
  }

  @Test
  void aRuleWithoutABlockCarriesNoneSoProxyYamlDecides() throws Exception {
    Policy policy = parse("""
          - name: plain
            effect: allow
            identity: { issuer: gitlab, claims: { project_path: acme/ml } }
            methods: [publishers.models.generateContent]
            service_account: caller@acme-ml-prod.iam.gserviceaccount.com
        """);
    assertThat(decide(policy).credentials()).isNull();
    assertThat(decide(policy).serviceAccount()).isEqualTo("caller@acme-ml-prod.iam.gserviceaccount.com");
  }

  @Test
  void stsFollowedByImpersonationKeepsTheServiceAccount() throws Exception {
    Policy policy = parse("""
          - name: federated-then-sa
            effect: allow
            identity: { issuer: gitlab, claims: { project_path: acme/ml } }
            methods: [publishers.models.generateContent]
            credentials: { mode: sts }
            service_account: caller@acme-ml-prod.iam.gserviceaccount.com
        """);
    Decision d = decide(policy);
    assertThat(d.credentials()).isEqualTo(new RuleCredentials(RuleCredentials.Mode.STS, null));
    assertThat(d.serviceAccount()).isEqualTo("caller@acme-ml-prod.iam.gserviceaccount.com");
  }

  @Test
  void impersonationStillNeedsItsServiceAccountAndTakesNoAudience() {
    assertThat(problems("""
          - name: no-sa
            effect: allow
            identity: { issuer: gitlab, claims: { project_path: acme/ml } }
            methods: [publishers.models.generateContent]
            credentials: { mode: impersonate }
        """)).containsExactly("policy.yaml:3:5: rules[0].service_account: missing (an allow rule must name the service"
        + " account to act as, unless its credentials: { mode: sts } lets the call run as the federated caller)");
    assertThat(problems("""
          - name: audience-without-sts
            effect: allow
            identity: { issuer: gitlab, claims: { project_path: acme/ml } }
            methods: [publishers.models.generateContent]
            credentials: { mode: impersonate, audience: "%s" }
            service_account: caller@acme-ml-prod.iam.gserviceaccount.com
        """.formatted(PROVIDER))).containsExactly("policy.yaml:7:39: rules[0].credentials.audience: only with mode: sts"
        + " (impersonation exchanges no caller token)");
  }

  @Test
  void badModesAudiencesKeysAndDenyRulesAreLocated() {
    assertThat(problems("""
          - name: bad
            effect: allow
            identity: { issuer: gitlab, claims: { project_path: acme/ml } }
            methods: [publishers.models.generateContent]
            credentials: { mode: federate, audience: "https://iam.googleapis.com/projects/1/x", pool: p }
            service_account: caller@acme-ml-prod.iam.gserviceaccount.com
        """)).containsExactly(
        "policy.yaml:7:89: rules[0].credentials.pool: unknown key \"pool\" (expected one of: mode, audience)",
        "policy.yaml:7:26: rules[0].credentials.mode: \"federate\" is not a mode (expected: impersonate or sts)",
        "policy.yaml:7:46: rules[0].credentials.audience: \"https://iam.googleapis.com/projects/1/x\" is not a workload"
            + " identity provider (expected: " + RuleCredentials.AUDIENCE_EXAMPLE + ")");
    assertThat(problems("""
          - name: bad
            effect: allow
            identity: { issuer: gitlab, claims: { project_path: acme/ml } }
            methods: [publishers.models.generateContent]
            credentials: { mode: federate }
            service_account: caller@acme-ml-prod.iam.gserviceaccount.com
        """)).containsExactly(
        "policy.yaml:7:26: rules[0].credentials.mode: \"federate\" is not a mode (expected: impersonate or sts)");
    assertThat(problems("""
          - name: bad
            effect: allow
            identity: { issuer: gitlab, claims: { project_path: acme/ml } }
            methods: [publishers.models.generateContent]
            credentials: { mode: sts, audience: "https://iam.googleapis.com/projects/1/x" }
        """)).containsExactly("policy.yaml:7:41: rules[0].credentials.audience: \"https://iam.googleapis.com/projects/1/x\""
        + " is not a workload identity provider (expected: " + RuleCredentials.AUDIENCE_EXAMPLE + ")");
    assertThat(problems("""
          - name: deny
            effect: deny
            identity: { issuer: gitlab }
            credentials: { mode: sts }
        """)).containsExactly("policy.yaml:6:5: rules[0].credentials: a deny rule obtains no credentials; remove the key");
  }

  @Test
  void theFederatedPrincipalIsTheOneGooglesLogsName() {
    assertThat(RuleCredentials.federatedPrincipal(PROVIDER, "project_path:acme/ml:ref_type:branch:ref:main"))
        .isEqualTo("principal://iam.googleapis.com/projects/123456789/locations/global/workloadIdentityPools/gitlab-pool"
            + "/subject/project_path:acme/ml:ref_type:branch:ref:main");
    assertThat(RuleCredentials.federatedPrincipal("not-a-provider", "s")).isNull();
    assertThatThrownBy(() -> new RuleCredentials(RuleCredentials.Mode.IMPERSONATE, PROVIDER))
        .isInstanceOf(IllegalArgumentException.class);
  }
}

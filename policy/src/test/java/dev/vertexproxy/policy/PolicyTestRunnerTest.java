package dev.vertexproxy.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.vertexproxy.policy.yaml.Problem;
import java.util.List;
import org.junit.jupiter.api.Test;

class PolicyTestRunnerTest {
  private static PolicyTestRunner runner() throws PolicyException {
    return new PolicyTestRunner(PolicyTest.policy(PolicyTest.POLICY), TestCatalog::routeRequest);
  }

  @Test
  void casesPassWhenDecisionReasonAndRuleMatchAndFailWithTheDifference() throws Exception {
    String tests = """
        cases:
          - name: forecasting trains
            identity:
              issuer: gitlab
              subject: "project_path:acme/ml/forecasting:ref_type:branch:ref:main"
              claims: { namespace_path: acme/ml, project_path: acme/ml/forecasting, ref_protected: true }
            request: { method: POST, path: /v1/projects/acme-ml-prod/locations/us-central1/customJobs }
            expect: allow
            rule: forecasting-ci-trains
          - name: wrong region
            identity: { issuer: gitlab, subject: "project_path:acme/ml/f:ref_type:branch:ref:main",
                        claims: { namespace_path: acme/ml, project_path: acme/ml/forecasting, ref_protected: "true" } }
            request: { method: POST, path: /v1/projects/acme-ml-prod/locations/europe-west4/customJobs }
            expect: deny
            reason: location-not-granted
          - name: team predicts on 42
            identity: { issuer: humans, subject: alice, claims: { groups: [x, ml-team] } }
            request: { method: POST, path: "/v1/projects/acme-ml-prod/locations/us-central1/endpoints/4201:predict?alt=json" }
            expect: allow
          - name: unknown path is refused by the router
            identity: { issuer: humans, subject: alice }
            request: { method: GET, path: /v1/projects/p/locations/l/nothing }
            expect: deny
            reason: route-not-found
          - name: a wrong expectation
            identity: { issuer: other }
            request: { method: GET, path: /v1/projects/p/locations/l/customJobs/1 }
            expect: allow
            rule: forecasting-ci-trains
        """;
    List<PolicyTestRunner.Result> results = runner().run(tests, "tests.yaml");
    assertThat(results).extracting(PolicyTestRunner.Result::passed).containsExactly(true, true, true, true, false);
    assertThat(results.get(4)).isEqualTo(new PolicyTestRunner.Result("a wrong expectation", 25, false, "deny",
        Reasons.ISSUER_NOT_TRUSTED, null,
        "expected allow, got deny (issuer-not-trusted); expected rule forecasting-ci-trains, got none"));
  }

  @Test
  void aCaseCanExpectModelNotGranted() throws Exception {
    Policy policy = PolicyTest.policy("""
        version: 1
        rules:
          - name: flash
            effect: allow
            identity: { issuer: gitlab }
            methods: [publishers.models.generateContent]
            models: [gemini-2.5-flash]
            service_account: ml@acme.iam.gserviceaccount.com
        """);
    String tests = """
        cases:
          - name: flash is granted
            identity: { issuer: gitlab }
            request: { method: POST, path: /v1/projects/p/locations/l/publishers/google/models/gemini-2.5-flash:generateContent }
            expect: allow
            rule: flash
          - name: pro is not
            identity: { issuer: gitlab }
            request: { method: POST, path: /v1/projects/p/locations/l/publishers/google/models/gemini-2.5-pro:generateContent }
            expect: deny
            reason: model-not-granted
          - name: a wrong reason fails
            identity: { issuer: gitlab }
            request: { method: POST, path: /v1/projects/p/locations/l/publishers/google/models/gemini-2.5-pro:generateContent }
            expect: deny
            reason: method-not-granted
        """;
    List<PolicyTestRunner.Result> results = new PolicyTestRunner(policy, TestCatalog::routeRequest).run(tests, "t.yaml");
    assertThat(results).extracting(PolicyTestRunner.Result::passed).containsExactly(true, true, false);
    assertThat(results.get(2).reason()).isEqualTo(Reasons.MODEL_NOT_GRANTED);
  }

  @Test
  void malformedTestFilesAreRefusedWithLocatedProblems() throws Exception {
    String tests = """
        cases:
          - name: x
            identity: { issuer: gitlab, claimz: {} }
            request: { method: GET }
            expect: maybe
        """;
    PolicyException e = catchThrowableOfType(PolicyException.class, () -> runner().run(tests, "tests.yaml"));
    assertThat(e.problems()).extracting(Problem::toString).containsExactlyInAnyOrder(
        "tests.yaml:5:13: cases[0].expect: \"maybe\" (expected: allow or deny)",
        "tests.yaml:3:33: cases[0].identity.claimz: unknown key \"claimz\" (did you mean claims? expected one of: issuer,"
            + " subject, claims)",
        "tests.yaml:4:14: cases[0].request.path: missing");
  }
}

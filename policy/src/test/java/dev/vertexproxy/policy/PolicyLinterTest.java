package dev.vertexproxy.policy;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class PolicyLinterTest {
  private static List<String> lint(String yaml) throws PolicyException {
    return PolicyLinter.lint(PolicyTest.policy(yaml), LintContext.withoutConfig(TestCatalog.CATALOG)).stream()
        .map(PolicyLinter.Warning::toString).toList();
  }

  @Test
  void aTightRuleHasNoWarnings() throws Exception {
    String yaml = """
        version: 1
        rules:
          - name: deploy
            effect: allow
            identity:
              issuer: gitlab
              claims: { project_path: acme/ml/serving, ref_protected: "true" }
            methods: [endpoints.deployModel]
            resources: { projects: [acme-ml-prod] }
            service_account: deployer@acme-ml-prod.iam.gserviceaccount.com
        """;
    assertThat(lint(yaml)).isEmpty();
  }

  @Test
  void broadGrantsAreFlaggedAtTheirLines() throws Exception {
    String yaml = """
        version: 1
        rules:
          - name: too-broad
            effect: allow
            identity: { issuer: gitlab }
            methods: ["customJobs.**", endpoints.deployModel]
            service_account: deployer@acme-ml-prod.iam.gserviceaccount.com
          - name: user-only
            effect: allow
            identity: { issuer: gitlab, claims: { user_login: alice, ref_protected: [true, false] } }
            methods: [models.upload]
            resources: { projects: ["acme-*"] }
            service_account: deployer@acme-ml-prod.iam.gserviceaccount.com
        """;
    assertThat(lint(yaml)).containsExactly(
        "6:5: rule too-broad: method glob \"customJobs.**\" grants 6 methods, including any Google adds later that "
            + "match; list them [broad-method-glob]",
        "6:5: error: rule too-broad: method glob \"customJobs.**\" grants write methods (customJobs.cancel, "
            + "customJobs.create, customJobs.operations.cancel), and any Google adds later [broad-write-grant]",
        "3:5: rule too-broad: no resources.projects: grants these methods in every project the service account can "
            + "reach [no-project-constraint]",
        "5:5: rule too-broad: no subject or claims: every token of issuer [gitlab] matches [no-identity-constraint]",
        "6:5: rule too-broad: grants endpoints.deployModel without requiring ref_protected: \"true\"; any branch could "
            + "deploy [unprotected-deploy]",
        "6:5: rule too-broad: grants write methods customJobs.cancel, customJobs.create, customJobs.operations.cancel "
            + "without requiring ref_protected: \"true\"; a pipeline on any branch could call them [unprotected-write]",
        "12:5: rule user-only: project glob [acme-*] may match projects created later [wildcard-project]",
        "10:5: rule user-only: claims [user_login, ref_protected] are chosen by whoever runs the pipeline; also pin "
            + "project_path or namespace_path [user-controlled-claims]",
        "11:5: rule user-only: grants models.upload without requiring ref_protected: \"true\"; any branch could deploy "
            + "[unprotected-deploy]");
  }

  @Test
  void denyRulesByProjectAreFlagged() throws Exception {
    assertThat(lint("""
        version: 1
        rules:
          - name: not-prod
            effect: deny
            identity: { issuer: gitlab }
            resources: { projects: [secret-prod] }
        """)).anySatisfy(w -> assertThat(w).startsWith("6:").contains("[deny-by-project]"));
  }

  @Test
  void aPolicyWithoutAllowRulesDeniesEverything() throws Exception {
    assertThat(lint("version: 1\nrules: []\n"))
        .containsExactly("1:1: no allow rules: every request is denied [no-allow-rules]");
  }
}

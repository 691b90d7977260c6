package dev.vertexproxy.proxy.credentials;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vertexproxy.policy.Policy;
import dev.vertexproxy.policy.catalog.MethodCatalog;
import dev.vertexproxy.policy.yaml.Problem;
import dev.vertexproxy.proxy.config.ConfigLoader;
import dev.vertexproxy.proxy.config.CredentialsConfig;
import dev.vertexproxy.proxy.config.ProxyConfig;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which rules can be served under which credentials settings, decided before a policy is put in force. */
class CredentialsPlanTest {
  private static final String PROVIDER =
      "//iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/gitlab-ci/providers/gitlab";
  private static final String CONFIG = """
      listen: { address: '127.0.0.1:8443' }
      identity:
        issuers:
          - name: gitlab
            issuer: https://gitlab.example.com
            audiences: [https://vertex-proxy.example.com]
          - name: humans
            issuer: https://idp.example.com
            login: { client_id: vertex-proxy }
      sessions: { issuer: 'https://vertex-proxy.example.com', signing_keys_dir: keys/ }
      policy:  { file: policy.yaml }
      audit:   { dir: audit/ }
      credentials:
      """;
  private static final String POLICY = """
      version: 1
      rules:
        - name: ci
          effect: allow
          identity: { issuer: gitlab, claims: { project_path: acme/ml } }
          methods: [publishers.models.generateContent]
          service_account: ci@acme-ml-prod.iam.gserviceaccount.com
        - name: people
          effect: allow
          identity: { issuer: humans, claims: { groups: ml-team } }
          methods: [publishers.models.generateContent]
          service_account: people@acme-ml-prod.iam.gserviceaccount.com
      """;

  private static List<String> problems(String credentials, String policy) throws Exception {
    ProxyConfig config = new ConfigLoader().parse(CONFIG + credentials, "proxy.yaml", Path.of("/etc/vertex-proxy"));
    Policy p = Policy.parse(policy, "policy.yaml", MethodCatalog.bundled(), config.identity().issuerNames());
    return CredentialsPlan.problems(config, p, "policy.yaml").stream().map(Problem::toString).toList();
  }

  @Test
  void impersonationServesEveryRule() throws Exception {
    assertThat(problems("  mode: impersonate\n", POLICY)).isEmpty();
  }

  @Test
  void stsByDefaultRefusesTheRuleForPeopleWithItsLine() throws Exception {
    assertThat(problems("  mode: sts\n  sts: { audience: '" + PROVIDER + "' }\n", POLICY)).containsExactly(
        "policy.yaml:8:5: rules[people]: in sts mode but allows people of issuer humans: their proxy session tokens"
            + " are the proxy's own, which Google STS does not accept; give this rule credentials: { mode: impersonate }"
            + " and a service_account");
    String peopleStayImpersonated = POLICY.replace("    service_account: people@", "    credentials: { mode: impersonate }\n"
        + "    service_account: people@");
    assertThat(problems("  mode: sts\n  sts: { audience: '" + PROVIDER + "' }\n", peopleStayImpersonated)).isEmpty();
  }

  @Test
  void anStsRuleNeedsAProviderFromItselfOrProxyYaml() throws Exception {
    String ciFederated = POLICY.replace("    service_account: ci@", "    credentials: { mode: sts }\n"
        + "    service_account: ci@");
    assertThat(problems("  mode: impersonate\n", ciFederated)).singleElement().asString()
        .startsWith("policy.yaml:3:5: rules[ci]: in sts mode but no workload identity provider is configured");
    assertThat(problems("  mode: impersonate\n", ciFederated.replace("{ mode: sts }",
        "{ mode: sts, audience: '" + PROVIDER + "' }"))).isEmpty();
    assertThat(problems("  mode: impersonate\n  sts: { audience: '" + PROVIDER + "' }\n", ciFederated)).isEmpty();
  }

  @Test
  void theModeAndProviderOfARuleComeFromItsBlockFirst() throws Exception {
    ProxyConfig config = new ConfigLoader().parse(CONFIG + "  mode: sts\n  sts: { audience: '" + PROVIDER + "' }\n",
        "proxy.yaml", Path.of("/etc/vertex-proxy"));
    Policy p = Policy.parse(POLICY.replace("    service_account: people@", "    credentials: { mode: impersonate }\n"
        + "    service_account: people@"), "policy.yaml", MethodCatalog.bundled(), config.identity().issuerNames());
    assertThat(CredentialsPlan.modeOf(p.rules().get(0), config.credentials())).isEqualTo(CredentialsConfig.Mode.STS);
    assertThat(CredentialsPlan.audienceOf(p.rules().get(0), config.credentials())).isEqualTo(PROVIDER);
    assertThat(CredentialsPlan.modeOf(p.rules().get(1), config.credentials()))
        .isEqualTo(CredentialsConfig.Mode.IMPERSONATE);
  }
}

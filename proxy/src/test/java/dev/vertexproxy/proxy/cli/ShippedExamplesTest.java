package dev.vertexproxy.proxy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.Yaml;

/**
 * The files in {@code config/} pass the checks the docs tell users to run, through the real command line: a user's
 * first step is copying them, so they must never fail their own check.
 */
class ShippedExamplesTest {
  private static final Path CONFIG_DIR = Path.of("..", "config");
  private static final Path PROXY_YAML = CONFIG_DIR.resolve("proxy.yaml");
  private static final Path POLICY_YAML = CONFIG_DIR.resolve("policy.yaml");

  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int run(String... args) {
    out.getBuffer().setLength(0);
    err.getBuffer().setLength(0);
    return Main.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
  }

  /** Every file in config/ is one this class checks: a new example must come with its check. */
  @Test
  void everyExampleFileIsCovered() throws Exception {
    Set<String> files = new TreeSet<>();
    try (Stream<Path> walk = Files.walk(CONFIG_DIR)) {
      walk.filter(Files::isRegularFile)
          .filter(f -> !CONFIG_DIR.relativize(f).startsWith("terraform")) // GoogleSetupTerraformTest covers config/terraform
          .forEach(f -> files.add(CONFIG_DIR.relativize(f).toString().replace('\\', '/')));
    }
    // the schemas are kept identical to the loaders' keys by ConfigSchemaTest and ExamplePolicyTest
    assertThat(files).containsExactlyInAnyOrder("proxy.yaml", "policy.yaml", "gitlab-ci.example.yml",
        "schema/proxy.schema.json", "schema/policy.schema.json",
        // the Kubernetes manifests: rendered and checked against each other by dist's KustomizeTest; their proxy.yaml
        // and policy.yaml also pass the checks below
        "k8s/kustomization.yaml", "k8s/namespace.yaml", "k8s/serviceaccount.yaml", "k8s/statefulset.yaml",
        "k8s/service.yaml", "k8s/service-headless.yaml", "k8s/poddisruptionbudget.yaml",
        "k8s/horizontalpodautoscaler.yaml", "k8s/networkpolicy.yaml", "k8s/servicemonitor.yaml", "k8s/proxy.yaml",
        "k8s/policy.yaml");
  }

  @Test
  void theKubernetesConfigurationAndPolicyPassTheChecksDocsDeploymentShows() {
    Path k8sProxy = CONFIG_DIR.resolve("k8s/proxy.yaml");
    assertThat(run("serve", "--config", k8sProxy.toString(), "--check")).as(err.toString()).isZero();
    assertThat(out.toString()).contains("configuration and policy are valid");
    assertThat(run("policy", "check", CONFIG_DIR.resolve("k8s/policy.yaml").toString(), "--issuers", k8sProxy.toString()))
        .as(err.toString()).isZero();
    assertThat(err.toString()).isEmpty();
  }

  @Test
  void serveCheckAcceptsTheExampleConfigurationAndPolicy() {
    assertThat(run("serve", "--check", "-c", PROXY_YAML.toString())).as(err.toString()).isZero();
    assertThat(out.toString()).contains("configuration and policy are valid");
    assertThat(err.toString()).isEmpty();
  }

  @Test
  void policyCheckAcceptsTheExamplePolicyAgainstTheExampleIssuers() {
    assertThat(run("policy", "check", POLICY_YAML.toString(), "--issuers", PROXY_YAML.toString()))
        .as(err.toString()).isZero();
    assertThat(out.toString()).contains("valid, 4 rules");
    // the spellings docs/policy.md shows
    assertThat(run("policy", "check", POLICY_YAML.toString(), "--issuers", "gitlab:shared,humans"))
        .as(err.toString()).isZero();
    assertThat(run("policy", "check", POLICY_YAML.toString(), "--issuers", "gitlab,humans")).as(err.toString()).isZero();
    assertThat(run("policy", "check", POLICY_YAML.toString())).as(err.toString()).isZero();
  }

  /** Lint warns where a reviewer should look; the example is what users copy, so it must give it nothing to flag. */
  @Test
  void policyLintFindsNothingToFlagInTheExample() throws Exception {
    int code = run("policy", "lint", POLICY_YAML.toString());
    assertThat(code).as(out + "\n" + err).isZero();
  }

  /**
   * What a merge-request gate runs: --strict, with the configuration so issuers' claims and credentials are known. The
   * example's one finding (training from any branch) is deliberate and silenced in the file; the dev sample is clean.
   */
  @Test
  void theShippedPoliciesPassStrictLint() throws Exception {
    assertThat(run("policy", "lint", "--strict", POLICY_YAML.toString(), "--issuers", PROXY_YAML.toString()))
        .as(out + "\n" + err).isZero();
    assertThat(out.toString()).contains("0 warnings (1 finding silenced by lint-ignore)");
    Path dev = Path.of("..", "dist", "src", "main", "resources", "dev", "vertexproxy", "dev", "dev-policy.yaml");
    assertThat(run("policy", "lint", "--strict", dev.toString(), "--issuers", "gitlab,humans"))
        .as(out + "\n" + err).isZero();
  }

  @Test
  @SuppressWarnings("unchecked")
  void theCiExampleAsksForATokenTheExampleConfigurationAccepts() throws Exception {
    Map<String, Object> ci = new Yaml().load(Files.readString(CONFIG_DIR.resolve("gitlab-ci.example.yml")));
    Map<String, Map<String, Object>> tokens =
        (Map<String, Map<String, Object>>) ((Map<String, Object>) ci.get("summarize")).get("id_tokens");
    Object aud = tokens.get("VERTEX_PROXY_TOKEN").get("aud");
    Map<String, Object> config = new Yaml().load(Files.readString(PROXY_YAML));
    List<Map<String, Object>> issuers = (List<Map<String, Object>>) ((Map<String, Object>) config.get("identity")).get("issuers");
    assertThat(issuers).filteredOn(i -> "gitlab".equals(i.get("name"))).singleElement()
        .satisfies(i -> assertThat((List<Object>) i.get("audiences")).contains(aud));
  }

  @Test
  void serveCheckRefusesAGitlabComRuleThatPinsNoNamespaceOrProject(@TempDir Path dir) throws Exception {
    Files.copy(PROXY_YAML, dir.resolve("proxy.yaml"));
    String policy = Files.readString(POLICY_YAML);
    String pinned = "        project_path: acme/ml/forecasting\n        ref_protected: \"true\"";
    assertThat(policy).contains(pinned);
    Files.writeString(dir.resolve("policy.yaml"), policy.replace(pinned, "        ref_protected: \"true\""));

    assertThat(run("serve", "--check", "-c", dir.resolve("proxy.yaml").toString())).isNotZero();
    assertThat(out.toString()).doesNotContain("valid");
    assertThat(err.toString()).contains("invalid policy:", "rules[1].identity.claims: issuer gitlab is shared",
        "must pin namespace_id, namespace_path, project_id or project_path", "a subject glob is not a pin",
        "pin namespace_path or project_path exactly, e.g. namespace_path: acme");

    // the same through policy check, as a merge-request pipeline would run it
    assertThat(run("policy", "check", dir.resolve("policy.yaml").toString(), "--issuers",
        dir.resolve("proxy.yaml").toString())).isEqualTo(1);
    assertThat(err.toString()).contains("rules[1].identity.claims: issuer gitlab is shared");
  }
}

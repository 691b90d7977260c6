package dev.vertexproxy.proxy.docs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vertexproxy.proxy.cli.Main;
import dev.vertexproxy.proxy.docs.GoogleSetupDoc.Line;
import dev.vertexproxy.proxy.testing.Examples;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every {@code gcloud} command docs/google-setup.md shows is one the installed gcloud accepts: run with an empty
 * configuration (no account, prompts off), each must get as far as needing credentials — not stop at an unknown
 * group, command, flag or a missing argument, which gcloud reports before it looks for an account. The one command
 * that needs no account ({@code create-cred-config}, which only writes a file) must succeed and write the
 * {@code external_account} file the guide describes. What this cannot catch: a flag value gcloud checks only at the
 * server (a wrong permission name, say), and commands that are not gcloud (kubectl, jq, curl).
 *
 * <p>The {@code policy iam} output goes through the same check, so its lines are gcloud's syntax too.
 */
class GoogleSetupGcloudTest {
  /** What gcloud prints when a command got past parsing and needs an account it does not have. */
  static final String NEEDS_CREDENTIALS = "You do not currently have an active account selected.";
  /** Commands that run locally and must succeed. */
  static final String LOCAL_ONLY = "gcloud iam workload-identity-pools create-cred-config ";
  /** gcloud starts in about a CPU-second: two per core keeps the cores busy while others wait on I/O. */
  static final int PARALLEL = Math.max(2, 2 * Runtime.getRuntime().availableProcessors());

  @TempDir
  Path dir;

  /** Why {@code command} does not count as accepted by gcloud, or null when it does. */
  record Outcome(Line line, Examples.Result result) {
    String problem() {
      if (line.text().startsWith(LOCAL_ONLY)) {
        return result.exitCode() == 0 ? null : "a local command failed";
      }
      if (result.exitCode() != 0 && result.stderr().contains(NEEDS_CREDENTIALS)) {
        return null;
      }
      return "did not stop for lack of credentials";
    }

    String describe() {
      return GoogleSetupDoc.GUIDE + ":" + line.number() + ": " + problem() + "\n  " + line.text() + "\n  exit "
          + result.exitCode() + ": " + result.stderr().strip().replace("\n", "\n  ");
    }
  }

  /** Runs each line with the guide's assignments in front, in {@code dir} with a fresh gcloud config, a few at once. */
  List<Outcome> run(List<Line> lines, String prologue) throws Exception {
    Path config = Files.createDirectories(dir.resolve("gcloud-config"));
    if (!Files.exists(dir.resolve("policy-audit.json"))) {
      // What the guide's jq step leaves for set-iam-policy to read (see auditConfigFromTheGuidesJqStep).
      Files.writeString(dir.resolve("policy-audit.json"), """
          {"etag": "BwYAAAAAAAA=", "bindings": [], "auditConfigs": [{"service": "aiplatform.googleapis.com",
           "auditLogConfigs": [{"logType": "DATA_READ"}, {"logType": "DATA_WRITE"}]}]}
          """);
    }
    Map<String, String> env = Map.of(
        "CLOUDSDK_CONFIG", config.toString(),
        "CLOUDSDK_CORE_DISABLE_PROMPTS", "1",
        "CLOUDSDK_CORE_DISABLE_USAGE_REPORTING", "true",
        "CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK", "true",
        "CLOUDSDK_CORE_CHECK_GCE_METADATA", "false",
        // Nothing here may reach the network: a command that tried would fail at this proxy, not at Google.
        "HTTPS_PROXY", "http://127.0.0.1:9",
        "HTTP_PROXY", "http://127.0.0.1:9");
    ExecutorService pool = Executors.newFixedThreadPool(PARALLEL);
    try {
      List<Future<Outcome>> futures = new ArrayList<>();
      for (Line line : lines) {
        futures.add(pool.submit(() -> new Outcome(line, Examples.run(dir, env, Duration.ofSeconds(120),
            "bash", "-c", "set -euo pipefail\n" + prologue + line.text()))));
      }
      List<Outcome> outcomes = new ArrayList<>();
      for (Future<Outcome> f : futures) {
        outcomes.add(f.get());
      }
      return outcomes;
    } finally {
      pool.shutdownNow();
    }
  }

  private static List<String> problems(List<Outcome> outcomes) {
    return outcomes.stream().filter(o -> o.problem() != null).map(Outcome::describe).toList();
  }

  @Test
  void everyGcloudCommandOfTheFederationGuideFailsOnlyForLackOfCredentials() throws Exception {
    Examples.requireTool("gcloud", "check the gcloud commands of docs/federation.md");
    List<Line> federation = GoogleSetupDoc.lines(Files.readAllLines(Examples.repoRoot().resolve("docs/federation.md")));
    List<Line> gcloud = GoogleSetupDoc.gcloud(federation);
    assertThat(gcloud).as("gcloud commands in docs/federation.md").hasSizeGreaterThanOrEqualTo(4);
    // the federation guide reuses the main guide's variables
    assertThat(problems(run(gcloud, GoogleSetupDoc.assignments(GoogleSetupDoc.lines())))).isEmpty();
  }

  @Test
  void everyGcloudCommandInTheGuideFailsOnlyForLackOfCredentials() throws Exception {
    Examples.requireTool("gcloud", "check the gcloud commands of " + GoogleSetupDoc.GUIDE);
    List<Line> lines = GoogleSetupDoc.lines();
    List<Line> gcloud = GoogleSetupDoc.gcloud(lines);
    assertThat(gcloud).as("gcloud commands in the guide").hasSizeGreaterThan(15);
    jqStep(lines);
    long started = System.nanoTime();
    List<Outcome> outcomes = run(gcloud, GoogleSetupDoc.assignments(lines));
    System.out.printf("GoogleSetupGcloudTest: %d gcloud commands, %d at a time, in %d ms%n", gcloud.size(), PARALLEL,
        (System.nanoTime() - started) / 1_000_000);
    assertThat(problems(outcomes)).isEmpty();

    JsonNode credentials = new ObjectMapper().readTree(dir.resolve("external-account.json").toFile());
    assertThat(credentials.get("type").asText()).isEqualTo("external_account");
    assertThat(credentials.get("audience").asText()).isEqualTo(
        "//iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/vertex-proxy/providers/cluster");
    assertThat(credentials.get("credential_source").get("file").asText())
        .isEqualTo("/var/run/secrets/vertex-proxy/google/token");
    assertThat(credentials.get("service_account_impersonation_url").asText())
        .endsWith("/serviceAccounts/vertex-proxy@acme-ml-prod.iam.gserviceaccount.com:generateAccessToken");
  }

  /**
   * Where jq is installed, runs the guide's own jq step on a project policy that already has bindings and another
   * service's audit config, and checks what set-iam-policy will get: both kept, Vertex AI's Data Access logs added.
   */
  private void jqStep(List<Line> lines) throws Exception {
    List<Line> jq = lines.stream().filter(l -> l.text().startsWith("jq ")).toList();
    assertThat(jq).as("the guide's jq step").hasSize(1);
    Examples.Result version;
    try {
      version = Examples.run(dir, Map.of(), Duration.ofSeconds(30), "jq", "--version");
    } catch (IOException e) {
      return; // not installed: run() writes what the step would have written
    }
    assertThat(version.exitCode()).isZero();
    Files.writeString(dir.resolve("policy.json"), """
        {"etag": "BwYAAAAAAAA=", "version": 1,
         "bindings": [{"role": "roles/owner", "members": ["user:admin@example.com"]}],
         "auditConfigs": [{"service": "storage.googleapis.com", "auditLogConfigs": [{"logType": "DATA_READ"}]},
                          {"service": "aiplatform.googleapis.com", "auditLogConfigs": [{"logType": "ADMIN_READ"}]}]}
        """);
    Examples.Result r = Examples.run(dir, Map.of(), Duration.ofSeconds(30), "bash", "-c", jq.get(0).text());
    assertThat(r.exitCode()).as(r.describe("-")).isZero();
    JsonNode policy = new ObjectMapper().readTree(dir.resolve("policy-audit.json").toFile());
    assertThat(policy.get("etag").asText()).isEqualTo("BwYAAAAAAAA=");
    assertThat(policy.get("bindings").toString()).contains("user:admin@example.com");
    assertThat(policy.get("auditConfigs").toString()).isEqualTo("[{\"service\":\"storage.googleapis.com\","
        + "\"auditLogConfigs\":[{\"logType\":\"DATA_READ\"}]},{\"service\":\"aiplatform.googleapis.com\","
        + "\"auditLogConfigs\":[{\"logType\":\"DATA_READ\"},{\"logType\":\"DATA_WRITE\"}]}]");
  }

  @Test
  void aMisspeltFlagGroupOrMissingArgumentIsCaught() throws Exception {
    Examples.requireTool("gcloud", "check the gcloud commands of " + GoogleSetupDoc.GUIDE);
    List<Line> lines = GoogleSetupDoc.lines(List.of(
        "```bash",
        "gcloud services enable aiplatform.googleapis.com \\",
        "  --projct=\"$PROJECT_ID\"",
        "gcloud iam servce-accounts create vertex-proxy --project=\"$PROJECT_ID\"",
        "gcloud iam service-accounts add-iam-policy-binding --project=\"$PROJECT_ID\" \\",
        "  --member=\"serviceAccount:$PROXY_SA\" --role=roles/iam.serviceAccountTokenCreator",
        "gcloud iam service-accounts add-iam-policy-binding \"$PROXY_SA\" --member=\"serviceAccount:$PROXY_SA\" \\",
        "  --role=roles/iam.serviceAccountTokenCreator",
        // the line before with its project: accepted, so the check is about the line, not the command
        "gcloud iam service-accounts add-iam-policy-binding \"$PROXY_SA\" --member=\"serviceAccount:$PROXY_SA\" \\",
        "  --role=roles/iam.serviceAccountTokenCreator --project=\"$PROJECT_ID\"",
        "```"));
    List<Outcome> outcomes = run(lines, "PROJECT_ID=acme-ml-prod\nPROXY_SA=vertex-proxy@acme-ml-prod.iam.gserviceaccount.com\n");
    assertThat(outcomes.subList(0, 4)).allSatisfy(o -> assertThat(o.problem()).as(o.describe()).isNotNull());
    assertThat(outcomes.get(0).result().stderr()).contains("unrecognized arguments: --projct");
    assertThat(outcomes.get(1).result().stderr()).contains("Invalid choice: 'servce-accounts'");
    assertThat(outcomes.get(2).result().stderr()).contains("argument SERVICE_ACCOUNT: Must be specified");
    assertThat(outcomes.get(3).result().stderr()).contains("Error parsing [service_account]");
    assertThat(problems(outcomes.subList(4, 5))).isEmpty();
  }

  @Test
  void policyIamPrintsLinesGcloudAccepts() throws Exception {
    Examples.requireTool("gcloud", "check the gcloud lines of vertex-proxy policy iam");
    Path root = Examples.repoRoot();
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int exit = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), "policy", "iam",
        root.resolve("config/policy.yaml").toString(), "--issuers", root.resolve("config/proxy.yaml").toString(),
        "--proxy-service-account", "vertex-proxy@acme-ops.iam.gserviceaccount.com");
    assertThat(exit).as(err.toString()).isZero();
    List<String> script = new ArrayList<>(List.of("```bash"));
    script.addAll(out.toString().lines().filter(l -> !l.startsWith("#")).toList());
    script.add("```");
    List<Line> lines = GoogleSetupDoc.gcloud(GoogleSetupDoc.lines(script));
    assertThat(lines).as(out.toString()).hasSizeGreaterThan(1);
    assertThat(lines).allSatisfy(l -> assertThat(l.text()).startsWith("gcloud iam service-accounts add-iam-policy-binding "));
    // The lines differ only in an email and a project (PolicyIamCommandTest pins the text): one stands for all, and
    // keeps this test to one gcloud start on a busy machine.
    assertThat(problems(run(lines.subList(0, 1), ""))).isEmpty();
  }
}

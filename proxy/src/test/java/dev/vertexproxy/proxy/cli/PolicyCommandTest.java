package dev.vertexproxy.proxy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vertexproxy.policy.RequestRouter;
import dev.vertexproxy.policy.catalog.MethodCatalog;
import dev.vertexproxy.policy.catalog.VertexMethod;
import dev.vertexproxy.policy.route.Route;
import dev.vertexproxy.policy.route.RouteException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class PolicyCommandTest {
  private static final MethodCatalog CATALOG = MethodCatalog.of(List.of(
      method("POST", "aiplatform.projects.locations.customJobs.create",
          "v1/projects/{projectsId}/locations/{locationsId}/customJobs"),
      method("POST", "aiplatform.projects.locations.endpoints.deployModel",
          "v1/projects/{projectsId}/locations/{locationsId}/endpoints/{endpointsId}:deployModel")));
  private static final Pattern PATH =
      Pattern.compile("/v1/(projects/([^/]+)/locations/([^/]+)(/customJobs|/endpoints/[^/:]+))(:deployModel)?");

  /** Routes the two catalog methods above; everything else is route-not-found, as the real router would say. */
  private static final RequestRouter ROUTER = (httpMethod, path) -> {
    Matcher m = PATH.matcher(path);
    if (!"POST".equals(httpMethod) || !m.matches()) {
      throw new RouteException("route-not-found", "no Vertex method for " + httpMethod + " " + path);
    }
    String name = m.group(5) != null ? "endpoints.deployModel" : "customJobs.create";
    return new Route(CATALOG.byName(name).get(0), m.group(1), m.group(2), m.group(3), false);
  };

  private static final String POLICY = """
      version: 1
      rules:
        - name: ci-trains
          effect: allow
          identity:
            issuer: gitlab
            claims: { project_path: acme/ml/forecasting }
          methods: [customJobs.create]
          resources: { projects: [acme-ml-prod] }
          service_account: trainer@acme-ml-prod.iam.gserviceaccount.com
        - name: deploys
          effect: allow
          identity:
            issuer: gitlab
            claims: { project_path: acme/ml/forecasting, ref_protected: "true" }
          methods: [endpoints.deployModel]
          resources: { projects: [acme-ml-prod] }
          service_account: deployer@acme-ml-prod.iam.gserviceaccount.com
      """;

  @TempDir
  Path dir;
  Path policy;
  final StringWriter out = new StringWriter();
  final StringWriter err = new StringWriter();

  private static VertexMethod method(String http, String id, String flatPath) {
    return new VertexMethod(id, MethodCatalog.shortName(id), "v1", http, flatPath, null);
  }

  @BeforeEach
  void writePolicy() throws Exception {
    policy = Files.writeString(dir.resolve("policy.yaml"), POLICY);
  }

  private int run(String... args) {
    CommandLine cli = new CommandLine(new PolicyCommand(() -> CATALOG, catalog -> ROUTER));
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    return cli.execute(args);
  }

  @Test
  void checkAcceptsAValidPolicy() {
    assertThat(run("check", policy.toString(), "--issuers", "gitlab,humans")).isZero();
    assertThat(out.toString()).startsWith(policy + ": valid, 2 rules, version sha256:");
    assertThat(err.toString()).isEmpty();
  }

  @Test
  void checkPrintsEveryProblemAndExitsOne() throws Exception {
    Path bad = Files.writeString(dir.resolve("bad.yaml"), POLICY.replace("customJobs.create", "customJobs.creat")
        .replace("version: 1", "version: 2"));
    assertThat(run("check", bad.toString(), "--issuers", "humans")).isEqualTo(1);
    assertThat(err.toString()).contains(
        bad + ":1:10: version: the number 2 is not a supported version (expected: 1)",
        bad + ":6:15: rules[0].identity.issuer: \"gitlab\" is not a configured issuer (configured: humans)",
        bad + ":8:15: rules[0].methods[0]: \"customJobs.creat\" matches no Vertex method (did you mean customJobs.create?)",
        "4 problems");
    assertThat(out.toString()).isEmpty();
  }

  /** {@link #POLICY} with the first rule pinning no project: acceptable on a private GitLab, not on gitlab.com. */
  private Path unpinned() throws Exception {
    return Files.writeString(dir.resolve("unpinned.yaml"),
        POLICY.replace("claims: { project_path: acme/ml/forecasting }", "claims: { ref_protected: \"true\" }"));
  }

  private Path proxyYaml(String issuerLines) throws Exception {
    return Files.writeString(dir.resolve("proxy.yaml"), """
        listen: { address: 127.0.0.1:8443 }
        identity:
          issuers:
        ISSUERS
        policy: { file: policy.yaml }
        audit: { dir: audit }
        """.replace("ISSUERS", issuerLines.indent(4).stripTrailing()));
  }

  @Test
  void checkRefusesAnUnpinnedRuleForAnIssuerMarkedShared() throws Exception {
    Path loose = unpinned();
    assertThat(run("check", loose.toString(), "--issuers", "gitlab,humans")).isZero();
    out.getBuffer().setLength(0);
    assertThat(run("check", loose.toString(), "--issuers", "gitlab:shared,humans")).isEqualTo(1);
    assertThat(err.toString()).contains(loose + ":7:15: rules[0].identity.claims: issuer gitlab is shared by every"
        + " project on it, so an allow rule for it must pin namespace_id, namespace_path, project_id or project_path"
        + " (pin namespace_path or project_path exactly, e.g. namespace_path: acme)", "1 problem");
    assertThat(out.toString()).isEmpty();
    assertThat(run("check", policy.toString(), "--issuers", "gitlab:shared")).isZero();
  }

  @Test
  void checkReadsIssuerNamesAndSharedFlagsFromProxyYaml() throws Exception {
    Path loose = unpinned();
    Path gitlabCom = proxyYaml("- { name: gitlab, issuer: \"https://gitlab.com/\", audiences: [x] }");
    assertThat(run("check", loose.toString(), "--issuers", gitlabCom.toString())).isEqualTo(1);
    assertThat(err.toString()).contains(loose + ":7:15: rules[0].identity.claims: issuer gitlab is shared");

    err.getBuffer().setLength(0);
    Path notShared = proxyYaml("- { name: gitlab, issuer: \"https://gitlab.com\", audiences: [x], shared: false }");
    assertThat(run("check", loose.toString(), "--issuers", notShared.toString())).isZero();
    assertThat(err.toString()).isEmpty();

    Path selfManaged = proxyYaml("- { name: gitlab, issuer: \"https://gitlab.acme.example\", audiences: [x] }\n"
        + "- { name: other, issuer: \"https://ci.acme.example\", audiences: [x], shared: true }");
    assertThat(run("check", loose.toString(), "--issuers", selfManaged.toString())).isZero();
    assertThat(run("check", policy.toString(), "--issuers", selfManaged.toString())).isZero();
    Path onlyHumans = proxyYaml("- { name: humans, issuer: \"https://sso.example.com\", audiences: [x] }");
    assertThat(run("check", loose.toString(), "--issuers", onlyHumans.toString())).isEqualTo(1);
    assertThat(err.toString()).contains("\"gitlab\" is not a configured issuer (configured: humans)");
  }

  @Test
  void anUnusableProxyYamlOrAMalformedIssuerIsABadArgument() throws Exception {
    Path broken = proxyYaml("- { name: gitlab, issuer: \"https://gitlab.com\", audiences: [x], shared: yes }");
    assertThat(run("check", policy.toString(), "--issuers", broken.toString())).isEqualTo(2);
    assertThat(err.toString()).contains("invalid configuration:",
        "proxy.yaml:4:77: identity.issuers[0].shared: \"yes\" (expected: true or false, unquoted)");
    assertThat(out.toString()).isEmpty();

    assertThat(run("check", policy.toString(), "--issuers", "gitlab:public")).isEqualTo(2);
    assertThat(err.toString()).contains("--issuers gitlab:public: expected NAME, NAME:shared or the path of proxy.yaml");
  }

  @Test
  void explainShowsTheDecisionAndEveryRule() {
    int code = run("explain", policy.toString(), "--issuer", "gitlab", "--claim", "project_path=acme/ml/forecasting",
        "--claim", "ref_protected=false",
        "--request", "POST /v1/projects/acme-ml-prod/locations/us-central1/endpoints/42:deployModel");
    assertThat(code).isEqualTo(1);
    assertThat(out.toString())
        .contains("decision: deny (method-not-granted)")
        .contains("rule:     -")
        .contains("request:  endpoints.deployModel (aiplatform.projects.locations.endpoints.deployModel, v1)")
        .contains("no       allow ci-trains (line 3): methods does not match")
        .contains("no       allow deploys (line 11): claims.ref_protected does not match")
        .doesNotContain("acts as");
  }

  @Test
  void explainReadsClaimsFromJsonAndReportsTheServiceAccount() throws Exception {
    Path claims = Files.writeString(dir.resolve("claims.json"),
        "{\"sub\":\"project_path:acme/ml/forecasting\",\"project_path\":\"acme/ml/forecasting\",\"ref_protected\":true}");
    int code = run("explain", policy.toString(), "--issuer", "gitlab", "--claims", claims.toString(),
        "--request", "POST /v1/projects/acme-ml-prod/locations/us-central1/endpoints/42:deployModel");
    assertThat(code).isZero();
    assertThat(out.toString()).contains("decision: allow (allowed)", "rule:     deploys",
        "acts as:  deployer@acme-ml-prod.iam.gserviceaccount.com", "MATCH    allow deploys (line 11)");

    assertThat(run("explain", policy.toString(), "--issuer", "gitlab", "--request", "GET /v1/nothing")).isEqualTo(1);
    assertThat(out.toString()).contains("decision: deny (route-not-found)");

    Path broken = Files.writeString(dir.resolve("broken.json"), "{\"secret-ish\": ");
    assertThat(run("explain", policy.toString(), "--issuer", "gitlab", "--claims", broken.toString(),
        "--request", "GET /v1/x")).isEqualTo(2);
    assertThat(err.toString()).contains("broken.json:1:").contains("expected a JSON object of claims")
        .doesNotContain("secret-ish");
  }

  @Test
  void explainRejectsMalformedArguments() {
    assertThat(run("explain", policy.toString(), "--issuer", "gitlab", "--claim", "novalue",
        "--request", "POST /v1/x")).isEqualTo(2);
    assertThat(err.toString()).contains("--claim novalue: expected NAME=VALUE");
  }

  @Test
  void testRunsCasesAndFailsOnAnyMismatch() throws Exception {
    Path tests = Files.writeString(dir.resolve("tests.yaml"), """
        cases:
          - name: trains
            identity: { issuer: gitlab, claims: { project_path: acme/ml/forecasting } }
            request: { method: POST, path: /v1/projects/acme-ml-prod/locations/us-central1/customJobs }
            expect: allow
            rule: ci-trains
          - name: other project
            identity: { issuer: gitlab, claims: { project_path: acme/ml/forecasting } }
            request: { method: POST, path: /v1/projects/acme-dev/locations/us-central1/customJobs }
            expect: deny
            reason: project-not-granted
        """);
    assertThat(run("test", policy.toString(), tests.toString())).isZero();
    assertThat(out.toString()).contains("PASS trains", "PASS other project", "2 passed, 0 failed");

    Path wrong = Files.writeString(dir.resolve("wrong.yaml"), Files.readString(tests).replace("expect: deny", "expect: allow"));
    out.getBuffer().setLength(0);
    assertThat(run("test", policy.toString(), wrong.toString())).isEqualTo(1);
    assertThat(out.toString()).contains("FAIL other project (" + wrong + ":7): expected allow, got deny "
        + "(project-not-granted)", "1 passed, 1 failed");
  }

  /** {@link #POLICY} with the training rule also tied to protected refs: nothing for lint to flag. */
  private static final String TIGHT = POLICY.replace("claims: { project_path: acme/ml/forecasting }",
      "claims: { project_path: acme/ml/forecasting, ref_protected: \"true\" }");

  @Test
  void lintFlagsDangerousRules() throws Exception {
    Path tight = Files.writeString(dir.resolve("tight.yaml"), TIGHT);
    assertThat(run("lint", tight.toString())).isEqualTo(0);
    assertThat(out.toString()).contains("0 warnings");
    Path loose = Files.writeString(dir.resolve("loose.yaml"), TIGHT.replace(", ref_protected: \"true\"", ""));
    out.getBuffer().setLength(0);
    assertThat(run("lint", loose.toString())).isEqualTo(1);
    assertThat(out.toString()).contains(loose + ":16:5: rule deploys: grants endpoints.deployModel without "
        + "requiring ref_protected: \"true\"; any branch could deploy [unprotected-deploy]\n"
        + "    fix: add claims: { ref_protected: \"true\" }, or move these methods to a rule that has it\n",
        loose + ":8:5: rule ci-trains: grants write methods customJobs.create without requiring ref_protected:",
        "2 warnings");
  }

  @Test
  void lintStrictMakesEveryFindingAnErrorAndLintIgnoreIsCounted() throws Exception {
    assertThat(run("lint", "--strict", policy.toString())).isEqualTo(1);
    assertThat(out.toString()).contains(policy + ":8:5: error: rule ci-trains: grants write methods customJobs.create",
        "1 error\n");
    Path ignored = Files.writeString(dir.resolve("ignored.yaml"), POLICY.replace("methods: [customJobs.create]",
        "methods: [customJobs.create]   # lint-ignore: unprotected-write (every branch trains)"));
    out.getBuffer().setLength(0);
    assertThat(run("lint", "--strict", ignored.toString())).isZero();
    assertThat(out.toString()).contains("0 warnings (1 finding silenced by lint-ignore)");
  }

  @Test
  @SuppressWarnings("unchecked")
  void lintJsonHasStableFieldsAndTheFix() throws Exception {
    assertThat(run("lint", "--json", policy.toString())).isEqualTo(1);
    Map<String, Object> doc = new ObjectMapper().readValue(out.toString(), Map.class);
    assertThat(doc).containsEntry("errors", 0).containsEntry("warnings", 1).containsEntry("ignored", 0);
    List<Map<String, Object>> findings = (List<Map<String, Object>>) doc.get("findings");
    assertThat(findings).singleElement().satisfies(f -> {
      assertThat(f.keySet()).containsExactly("file", "line", "column", "rule", "code", "severity", "message", "fix");
      assertThat(f).containsEntry("file", policy.toString()).containsEntry("line", 8).containsEntry("column", 5)
          .containsEntry("rule", "ci-trains").containsEntry("code", "unprotected-write")
          .containsEntry("severity", "warning");
      assertThat((String) f.get("fix")).startsWith("add claims: { ref_protected: \"true\" }");
    });
  }

  @Test
  void lintWithProxyYamlKnowsWhatPeoplesSessionsCarry() throws Exception {
    Path config = Files.writeString(dir.resolve("proxy.yaml"), """
        listen: { address: 127.0.0.1:8443 }
        identity:
          issuers:
            - name: humans
              issuer: https://sso.example.com
              login: { client_id: vertex-proxy }
        sessions: { issuer: "https://vertex-proxy.example.com", signing_keys_dir: keys, claims: [email, groups] }
        policy: { file: policy.yaml }
        audit: { dir: audit }
        """);
    String people = """
        version: 1
        rules:
          - name: ml-team
            effect: allow
            identity: { issuer: humans, claims: { groups: ml-team, CLAIM: "true" } }
            methods: [customJobs.create]
            resources: { projects: [acme-ml-sandbox] }
            service_account: sa@acme-ml-sandbox.iam.gserviceaccount.com
        """;
    Path amr = Files.writeString(dir.resolve("amr.yaml"), people.replace("CLAIM", "email_verified"));
    assertThat(run("lint", amr.toString(), "--issuers", config.toString())).as(err.toString()).isEqualTo(1);
    assertThat(out.toString()).contains(amr + ":5:5: rule ml-team: claim email_verified is not among the claims of"
        + " humans's tokens (sessions.claims and the session's own), so the rule never matches [claim-never-issued]");
    out.getBuffer().setLength(0);
    Path ok = Files.writeString(dir.resolve("ok.yaml"), people.replace("CLAIM", "email"));
    assertThat(run("lint", "--strict", ok.toString(), "--issuers", config.toString())).as(out.toString()).isZero();
  }

  @Test
  void lintWithProxyYamlKnowsGitlabClaimsAndHowStsRulesGetTokens() throws Exception {
    Path config = proxyYaml("- { name: gitlab, issuer: \"https://gitlab.example.com\", audiences: [x] }");
    Path sts = Files.writeString(dir.resolve("sts.yaml"), """
        version: 1
        rules:
          - name: ci-trains
            effect: allow
            identity:
              issuer: gitlab
              claims: { project_path: acme/ml/forecasting, groups: ml, ref_protected: "true" }
            methods: [customJobs.create]
            resources: { projects: [acme-ml-prod] }
            credentials: { mode: sts }
        """);
    assertThat(run("lint", sts.toString(), "--issuers", config.toString())).isEqualTo(1);
    assertThat(out.toString()).contains(
        sts + ":5:5: rule ci-trains: claim groups is not among the claims of gitlab's tokens (GitLab ID tokens), so the"
            + " rule never matches [claim-never-issued]",
        sts + ":3:5: error: rule ci-trains: in sts mode and names no service_account but no workload identity provider"
            + " is configured, so it cannot obtain a Google token (serve refuses it) [sts-no-provider]",
        "    fix: set credentials.sts.audience in proxy.yaml or credentials.audience on the rule",
        "1 error, 1 warning");
    // the same rules with the provider on the rule and a claim GitLab issues: clean
    out.getBuffer().setLength(0);
    Path fixed = Files.writeString(dir.resolve("fixed.yaml"), Files.readString(sts).replace("groups: ml", "ref_type: tag")
        .replace("{ mode: sts }", "{ mode: sts, audience: \"//iam.googleapis.com/projects/123456789012/locations/global/"
            + "workloadIdentityPools/gitlab-ci/providers/gitlab\" }"));
    assertThat(run("lint", "--strict", fixed.toString(), "--issuers", config.toString())).as(out.toString()).isZero();
  }

  @Test
  void withoutASubcommandPrintsUsage() {
    assertThat(run()).isEqualTo(2);
    assertThat(err.toString()).contains("check", "explain", "test", "lint");
  }
}

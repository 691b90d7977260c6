package dev.vertexproxy.bench.sidebyside;

/** The policies the run loads: the benchmark's own CI job's rule among {@code rules - 1} rules for other teams. */
final class PolicyFiles {
  private PolicyFiles() {
  }

  static String policy(int rules) {
    StringBuilder y = new StringBuilder("version: 1\nrules:\n");
    rule(y, "forecasting-ci-gemini", Stack.PROJECT_PATH);
    for (int i = 1; i < rules; i++) {
      rule(y, "team-" + i + "-ci-gemini", "acme/team-" + i + "/app");
    }
    return y.toString();
  }

  /** One rule per line in flow style: 10,000 of them stay under the policy loader's 4 MiB limit on a YAML document. */
  private static void rule(StringBuilder y, String name, String projectPath) {
    y.append("  - {name: ").append(name).append(", effect: allow, identity: {issuer: gitlab, claims: {project_path: ")
        .append(projectPath).append(", ref_protected: \"true\"}}, methods: [publishers.models.generateContent, ")
        .append("publishers.models.streamGenerateContent], resources: {projects: [dev-project], locations: [us-central1]}, ")
        .append("models: [\"gemini-*\"], service_account: ").append(Stack.SERVICE_ACCOUNT).append("}\n");
  }
}

package dev.vertexproxy.proxy.docs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vertexproxy.proxy.docs.GoogleSetupDoc.Line;
import dev.vertexproxy.proxy.testing.Examples;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * config/terraform declares what docs/google-setup.md grants with gcloud: the same set of (what, role or name, member,
 * on what), read from the guide's gcloud lines and from the .tf files' resources, compared whole.
 *
 * <p>The HCL side is a small scan, not a parser: it reads top-level {@code resource} blocks of {@code terraform fmt}ed
 * files, their {@code key = value} lines and nested blocks, string literals inside a value (both arms of a
 * conditional count) and references to the module's own resources and variables, which {@link #SAME} names the way
 * the guide's shell variables are named. It does not see {@code count}/{@code for_each} (the toggles: every optional
 * piece counts as declared), nor evaluate any expression. On the guide's side the cluster's workload pool ({@code
 * gcloud container clusters update}: the cluster is not this module's), the credentials file ({@code
 * create-cred-config}: a local file, printed as an output) and read-only commands are left out on purpose, by name; any
 * other gcloud command or Terraform resource type the test does not know fails it, so neither side can grow unseen.
 */
class GoogleSetupTerraformTest {
  /**
   * A grant or a thing created, on the level the two sides can both say: {@code detail} is the member a binding
   * grants to, a custom role's permissions, an audit log's type or a provider's attribute mapping.
   */
  record Grant(String kind, String what, String detail, String on) implements Comparable<Grant> {
    @Override
    public int compareTo(Grant o) {
      return toString().compareTo(o.toString());
    }
  }

  /** The guide's shell variables and the module's expressions for the same thing, as one placeholder. */
  static final Map<String, String> SAME = new LinkedHashMap<>();

  static {
    SAME.put("${google_iam_workload_identity_pool.proxy[0].name}", "POOL");
    SAME.put("projects/$PROJECT_NUMBER/locations/global/workloadIdentityPools/$POOL", "POOL");
    SAME.put("${google_service_account.proxy.email}", "PROXY_SA");
    SAME.put("$PROXY_SA", "PROXY_SA");
    SAME.put("${google_service_account.rule[each.key].email}", "RULE_SA");
    SAME.put("$RULE_SA", "RULE_SA");
    SAME.put("${var.project_id}", "PROJECT");
    SAME.put("$PROJECT_ID", "PROJECT");
    SAME.put("${var.namespace}", "NS");
    SAME.put("$NAMESPACE", "NS");
    SAME.put("${var.kubernetes_service_account}", "KSA");
    SAME.put("$KSA", "KSA");
  }

  /** gcloud commands that grant or create nothing this module declares, each with why. */
  static final Map<String, String> NOT_DECLARED = Map.of(
      "gcloud container clusters update", "the cluster's workload pool: the cluster is not this module's",
      "gcloud iam workload-identity-pools create-cred-config", "a local file; output create_cred_config_command",
      "gcloud projects get-iam-policy", "read only",
      "gcloud iam service-accounts get-iam-policy", "read only",
      "gcloud services list", "read only",
      "gcloud logging read", "read only");

  static String same(String text) {
    String s = text;
    for (Map.Entry<String, String> e : SAME.entrySet()) {
      s = s.replace(e.getKey(), e.getValue());
    }
    return s;
  }

  // ---- the guide ----

  private static final Pattern FLAG = Pattern.compile("--([a-z-]+)=(\"(?:[^\"\\\\]|\\\\.)*\"|\\S+)");

  static Map<String, String> flags(String line) {
    Map<String, String> flags = new LinkedHashMap<>();
    Matcher m = FLAG.matcher(line);
    while (m.find()) {
      String v = m.group(2);
      flags.put(m.group(1), v.startsWith("\"") ? v.substring(1, v.length() - 1) : v);
    }
    return flags;
  }

  /** The words before the first flag, quotes removed. */
  static List<String> words(String line) {
    String head = line.contains(" --") ? line.substring(0, line.indexOf(" --")) : line;
    return Stream.of(head.trim().split("\\s+")).map(w -> w.replace("\"", "")).toList();
  }

  static String role(String role) {
    Matcher custom = Pattern.compile("projects/[^/]+/roles/(\\w+)").matcher(role);
    return custom.matches() ? "custom:" + custom.group(1) : role;
  }

  static String account(String email) {
    return same(email);
  }

  static Set<Grant> fromGuide(List<Line> lines, String guideText) {
    Set<Grant> grants = new TreeSet<>();
    for (Line line : GoogleSetupDoc.gcloud(lines)) {
      String t = line.text();
      List<String> w = words(t);
      Map<String, String> f = flags(t);
      String command = String.join(" ", w.subList(0, Math.min(w.size(), 6)));
      if (NOT_DECLARED.keySet().stream().anyMatch(command::startsWith)) {
        continue;
      }
      if (command.startsWith("gcloud services enable")) {
        w.subList(3, w.size()).forEach(api -> grants.add(new Grant("api", api, "-", "project")));
      } else if (command.startsWith("gcloud iam service-accounts create")) {
        grants.add(new Grant("service_account", w.get(4).equals("vertex-proxy") ? "PROXY_SA" : "RULE_SA", "-", "project"));
      } else if (command.startsWith("gcloud projects add-iam-policy-binding")) {
        grants.add(new Grant("binding", role(f.get("role")), same(f.get("member")), "project"));
      } else if (command.startsWith("gcloud iam service-accounts add-iam-policy-binding")) {
        grants.add(new Grant("binding", role(f.get("role")), same(f.get("member")), "service_account " + account(w.get(4))));
      } else if (command.startsWith("gcloud iam roles create")) {
        grants.add(new Grant("custom_role", w.get(4), f.get("permissions"), "project"));
      } else if (command.startsWith("gcloud iam workload-identity-pools create")) {
        grants.add(new Grant("workload_identity_pool", "-", "-", "project"));
      } else if (command.startsWith("gcloud iam workload-identity-pools providers create-oidc")) {
        grants.add(new Grant("oidc_provider", same(f.get("attribute-condition")), f.get("attribute-mapping"), "pool"));
      } else if (command.startsWith("gcloud projects set-iam-policy")) {
        // The audit configuration the guide's jq line merges into the policy.
        Matcher service = Pattern.compile("\"service\": \"([a-z.]+)\", \"auditLogConfigs\": \\[([^]]*)]").matcher(guideText);
        assertThat(service.find()).as("the auditConfigs the guide sets").isTrue();
        Matcher type = Pattern.compile("\"logType\": \"(\\w+)\"").matcher(service.group(2));
        while (type.find()) {
          grants.add(new Grant("audit_log", service.group(1), type.group(1), "project"));
        }
      } else {
        throw new AssertionError(GoogleSetupDoc.GUIDE + ":" + line.number() + ": the test does not know " + command
            + "; say what it declares (or why Terraform does not) in GoogleSetupTerraformTest");
      }
    }
    return grants;
  }

  // ---- the module ----

  record Block(String type, String name, Map<String, String> attributes, List<Map<String, String>> nested) {}

  private static final Pattern RESOURCE = Pattern.compile("^resource \"(\\w+)\" \"(\\w+)\" \\{$");
  private static final Pattern ATTRIBUTE = Pattern.compile("^  (\\w+)\\s*=\\s*(.*)$");
  private static final Pattern NESTED_ATTRIBUTE = Pattern.compile("^    (\\w+)\\s*=\\s*(.*)$");
  private static final Pattern NESTED_START = Pattern.compile("^  (\\w+) \\{$");
  private static final Pattern STRING = Pattern.compile("\"((?:[^\"\\\\]|\\\\.)*)\"");

  static List<Block> blocks(List<String> lines) {
    List<Block> out = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      Matcher r = RESOURCE.matcher(lines.get(i));
      if (!r.matches()) {
        continue;
      }
      Map<String, String> attributes = new LinkedHashMap<>();
      List<Map<String, String>> nested = new ArrayList<>();
      Map<String, String> current = null;
      for (i++; i < lines.size() && !lines.get(i).equals("}"); i++) {
        String l = lines.get(i).replaceAll("\\s+#.*$", "");
        Matcher n = NESTED_START.matcher(l);
        Matcher a = ATTRIBUTE.matcher(l);
        Matcher na = NESTED_ATTRIBUTE.matcher(l);
        if (n.matches()) {
          current = new LinkedHashMap<>();
          current.put("", n.group(1));
          nested.add(current);
        } else if (l.equals("  }")) {
          current = null;
        } else if (current != null && na.matches()) {
          current.put(na.group(1), na.group(2));
        } else if (current == null && a.matches()) {
          attributes.put(a.group(1), a.group(2));
        }
      }
      out.add(new Block(r.group(1), r.group(2), attributes, nested));
    }
    return out;
  }

  static List<String> strings(String expression) {
    List<String> out = new ArrayList<>();
    Matcher m = STRING.matcher(expression);
    while (m.find()) {
      out.add(m.group(1));
    }
    return out;
  }

  /** The string list a {@code locals} entry holds: {@code name = [ "a", # comment "b", ]}. */
  static List<String> localList(String tf, String name) {
    Matcher m = Pattern.compile("(?s)\\n  " + name + " = \\[(.*?)\\n  ]").matcher(tf);
    assertThat(m.find()).as("locals." + name).isTrue();
    return strings(m.group(1).replaceAll("#[^\\n]*", ""));
  }

  static Set<Grant> fromTerraform(Path dir) throws Exception {
    StringBuilder all = new StringBuilder();
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".tf")).sorted().toList()) {
        all.append(Files.readString(f)).append('\n');
      }
    }
    String tf = all.toString();
    List<Block> blocks = blocks(tf.lines().toList());
    Map<String, String> customRoles = new LinkedHashMap<>();
    for (Block b : blocks) {
      if (b.type().equals("google_project_iam_custom_role")) {
        customRoles.put(b.name(), strings(b.attributes().get("role_id")).get(0));
      }
    }
    Set<Grant> grants = new TreeSet<>();
    for (Block b : blocks) {
      Map<String, String> a = b.attributes();
      switch (b.type()) {
        case "google_project_service" -> {
          assertThat(a.get("for_each")).isEqualTo("toset(local.services)");
          localList(tf, "services").forEach(api -> grants.add(new Grant("api", api, "-", "project")));
        }
        case "google_service_account" ->
            grants.add(new Grant("service_account", b.name().equals("proxy") ? "PROXY_SA" : "RULE_SA", "-", "project"));
        case "google_project_iam_custom_role" -> grants.add(new Grant("custom_role", customRoles.get(b.name()),
            String.join(",", strings(a.get("permissions"))), "project"));
        case "google_project_iam_member", "google_service_account_iam_member" -> {
          String on = "project";
          if (b.type().equals("google_service_account_iam_member")) {
            String id = a.get("service_account_id");
            on = "service_account " + (id.equals("google_service_account.proxy.name") ? "PROXY_SA"
                : id.equals("local.rule_sa_resource[each.key]") ? "RULE_SA" : "unknown " + id);
          }
          String member = same(strings(a.get("member")).get(0));
          for (String role : roles(a.get("role"), customRoles)) {
            grants.add(new Grant("binding", role, member, on));
          }
        }
        case "google_iam_workload_identity_pool" -> grants.add(new Grant("workload_identity_pool", "-", "-", "project"));
        case "google_iam_workload_identity_pool_provider" -> {
          Matcher mapping = Pattern.compile("(?s)attribute_mapping = \\{\\s*\"([^\"]+)\"\\s*=\\s*\"([^\"]+)\"\\s*}").matcher(tf);
          assertThat(mapping.find()).as("attribute_mapping").isTrue();
          grants.add(new Grant("oidc_provider", same(strings(a.get("attribute_condition")).get(0)),
              mapping.group(1) + "=" + mapping.group(2), "pool"));
        }
        case "google_project_iam_audit_config" -> {
          String service = strings(a.get("service")).get(0);
          for (Map<String, String> n : b.nested()) {
            if (n.get("").equals("audit_log_config")) {
              grants.add(new Grant("audit_log", service, strings(n.get("log_type")).get(0), "project"));
            }
          }
        }
        default -> throw new AssertionError("the test does not know resource type " + b.type() + " (" + b.name()
            + "): say what it declares in GoogleSetupTerraformTest, and show the same in " + GoogleSetupDoc.GUIDE);
      }
    }
    return grants;
  }

  /** Every role a {@code role = …} expression may take: its string literals and the custom roles it references. */
  static List<String> roles(String expression, Map<String, String> customRoles) {
    List<String> roles = new ArrayList<>(strings(expression));
    Matcher ref = Pattern.compile("google_project_iam_custom_role\\.(\\w+)").matcher(expression);
    while (ref.find()) {
      roles.add("custom:" + customRoles.get(ref.group(1)));
    }
    return roles;
  }

  @Test
  void theModuleDeclaresWhatTheGuideGrants() throws Exception {
    Path root = Examples.repoRoot();
    Set<Grant> guide = fromGuide(GoogleSetupDoc.lines(), Files.readString(root.resolve(GoogleSetupDoc.GUIDE)));
    Set<Grant> terraform = fromTerraform(root.resolve("config/terraform"));
    assertThat(terraform).as("in config/terraform (left) vs %s (right)", GoogleSetupDoc.GUIDE)
        .containsExactlyInAnyOrderElementsOf(guide);
    // The grants the guide is about, so an extraction that found nothing cannot pass.
    assertThat(guide).contains(
        new Grant("binding", "roles/iam.serviceAccountTokenCreator", "serviceAccount:PROXY_SA", "service_account RULE_SA"),
        new Grant("binding", "roles/iam.workloadIdentityUser", "serviceAccount:PROJECT.svc.id.goog[NS/KSA]",
            "service_account PROXY_SA"),
        new Grant("binding", "roles/iam.workloadIdentityUser",
            "principal://iam.googleapis.com/POOL/subject/system:serviceaccount:NS:KSA", "service_account PROXY_SA"),
        new Grant("oidc_provider", "assertion.sub == 'system:serviceaccount:NS:KSA'", "google.subject=assertion.sub",
            "pool"),
        new Grant("audit_log", "aiplatform.googleapis.com", "DATA_READ", "project"),
        new Grant("audit_log", "aiplatform.googleapis.com", "DATA_WRITE", "project"),
        new Grant("custom_role", "geminiOnly", "aiplatform.endpoints.predict", "project"));
    // The proxy's account holds nothing on the project, on either side.
    assertThat(guide).noneMatch(g -> g.on().equals("project") && g.detail().equals("serviceAccount:PROXY_SA"));
  }

  @Test
  void aGrantOnlyOneSideHasIsCaught() throws Exception {
    Path root = Examples.repoRoot();
    List<String> guide = Files.readAllLines(root.resolve(GoogleSetupDoc.GUIDE));
    // The token creator moved to the project in the guide: no longer what the module declares.
    List<String> drifted = guide.stream().map(l -> l.replace(
        "gcloud iam service-accounts add-iam-policy-binding \"$RULE_SA\" --project=\"$PROJECT_ID\" \\",
        "gcloud projects add-iam-policy-binding \"$PROJECT_ID\" \\")).toList();
    assertThat(drifted).isNotEqualTo(guide);
    Set<Grant> fromDrifted = fromGuide(GoogleSetupDoc.lines(drifted), String.join("\n", drifted));
    assertThat(fromDrifted).contains(
        new Grant("binding", "roles/iam.serviceAccountTokenCreator", "serviceAccount:PROXY_SA", "project"));
    assertThat(fromTerraform(root.resolve("config/terraform"))).isNotEqualTo(fromDrifted);

    // A module with a resource the test does not know fails instead of passing unseen.
    Path tf = Files.createTempDirectory("tf");
    Files.writeString(tf.resolve("main.tf"), "resource \"google_project_iam_binding\" \"wide\" {\n  role = \"roles/owner\"\n}\n");
    try {
      fromTerraform(tf);
      throw new IllegalStateException("an unknown resource type passed");
    } catch (AssertionError expected) {
      assertThat(expected).hasMessageContaining("google_project_iam_binding");
    }
  }

  @Test
  void theModuleIsTerraformFormatted() throws Exception {
    File terraform = new File("/usr/local/bin/terraform");
    String onPath = Stream.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator))
        .map(d -> new File(d, "terraform")).filter(File::canExecute).map(File::getPath).findFirst()
        .orElse(terraform.canExecute() ? terraform.getPath() : null);
    // terraform is not a build requirement: where it is installed, it has the last word on the layout.
    Assumptions.assumeTrue(onPath != null, "terraform is not installed: config/terraform's layout is not checked");
    Process p = new ProcessBuilder(onPath, "fmt", "-check", "-recursive", "-diff")
        .directory(Examples.repoRoot().resolve("config/terraform").toFile()).redirectErrorStream(true).start();
    String said = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(said).isZero();
  }
}

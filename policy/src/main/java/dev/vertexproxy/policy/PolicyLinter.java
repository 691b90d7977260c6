package dev.vertexproxy.policy;

import dev.vertexproxy.policy.catalog.MethodCatalog;
import dev.vertexproxy.policy.yaml.YamlReader;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Flags valid but dangerous rules: grants broader than they look. Warnings, not errors — a reviewer decides.
 *
 * <p>Checks (each warning's {@code code}): {@code broad-method-glob} (an allow rule with a {@code *}/{@code **}
 * method entry), {@code no-project-constraint} (an allow rule without {@code resources.projects}),
 * {@code wildcard-project} (a project glob), {@code no-identity-constraint} (an allow rule with neither subject nor
 * claims: every token of the issuer matches), {@code user-controlled-claims} (only claims that any user influences,
 * such as {@code user_login} or {@code ref}, and nothing that pins the project), {@code unprotected-deploy} (deploy-
 * like methods without {@code ref_protected: "true"}), {@code no-allow-rules}; and, with the catalog's path templates
 * ({@link LintContext}): {@code names-never-match}, {@code projects-never-match}, {@code models-never-match} (a method
 * of the rule that the rule's {@code resources.names}, {@code resources.projects} or {@code models} can never match),
 * {@code claim-never-issued} (a claim the issuer's tokens do not carry), {@code shadowed-by-deny} (an allow rule a deny
 * rule always overrides), {@code broad-write-grant} (a method glob that grants write methods: an error) and
 * {@code unprotected-write} (CI write methods without {@code ref_protected: "true"}). docs/policy.md lists each with
 * its fix.
 *
 * <p>A rule opts out of named checks with a comment inside it: {@code # lint-ignore: unprotected-write (why)}.
 *
 * <p>Stateless and thread-safe.
 */
public final class PolicyLinter {
  /** How bad a finding is; {@code --strict} treats every finding as an error. */
  public enum Severity {
    WARNING, ERROR;

    /** The name in reports: {@code warning}, {@code error}. */
    public String key() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /**
   * One finding, located at the rule key it is about, with what to do about it.
   *
   * @param rule     the rule's name, or {@code null} for a finding about the whole file
   * @param code     the stable check name ({@code unprotected-write})
   * @param severity how bad it is
   * @param fix      what to change so the finding goes away
   */
  public record Warning(int line, int column, String rule, String code, Severity severity, String message, String fix) {
    /** A warning-level finding. */
    public Warning(int line, int column, String rule, String code, String message, String fix) {
      this(line, column, rule, code, Severity.WARNING, message, fix);
    }

    @Override
    public String toString() {
      return line + ":" + column + ": " + (severity == Severity.ERROR ? "error: " : "")
          + (rule == null ? "" : "rule " + rule + ": ") + message + " [" + code + "]";
    }
  }

  /** {@code # lint-ignore: code[, code…] (reason)} inside a rule. */
  private static final Pattern IGNORE = Pattern.compile("#\\s*lint-ignore:\\s*([a-z-]+(?:\\s*,\\s*[a-z-]+)*)");

  /** Claims that pin where a GitLab job runs: a rule constraining one of them is anchored to a project or group. */
  private static final Set<String> ANCHOR_CLAIMS = Set.of("project_path", "project_id", "namespace_path",
      "namespace_id", "sub", "ci_config_ref_uri", "job_workflow_ref");
  /** Claims a user who can push or run pipelines anywhere on the instance chooses for themselves. */
  private static final Set<String> USER_CONTROLLED_CLAIMS = Set.of("user_login", "user_email", "user_id", "ref",
      "ref_path", "ref_type", "sha", "pipeline_source", "environment", "environment_protected", "runner_id",
      "runner_environment", "deployment_tier", "user_access_level");

  private PolicyLinter() {
  }

  /** Lints against the bundled catalog, without the proxy's configuration. */
  public static List<Warning> lint(Policy policy) {
    return lint(policy, LintContext.withoutConfig(MethodCatalog.bundled()));
  }

  public static List<Warning> lint(Policy policy, LintContext context) {
    List<Warning> warnings = new ArrayList<>();
    MethodCatalog catalog = context.catalog();
    boolean anyAllow = false;
    for (Rule r : policy.rules()) {
      claimsNeverIssued(warnings, r, context);
      if (r.effect() != Rule.Effect.ALLOW) {
        if (r.constrainsProjects()) {
          warn(warnings, r, "resources", "deny-by-project", "a deny rule by project also denies every request that names"
              + " its project by number or names none (the proxy cannot tell which project a number is); prefer"
              + " allow rules that list projects", "list the projects to allow in allow rules instead of denying others");
        }
        continue;
      }
      anyAllow = true;
      for (String pattern : r.methodPatterns()) {
        if (Glob.isGlob(pattern)) {
          Glob glob = Glob.compile(pattern, '.');
          List<String> granted = r.methods().stream().filter(glob::matches).sorted().toList();
          warn(warnings, r, "methods", "broad-method-glob", "method glob \"" + pattern + "\" grants "
              + (pattern.startsWith("aiplatform.") ? "several" : String.valueOf(granted.size()))
              + " methods, including any Google adds later that match; list them",
              "replace \"" + pattern + "\" by the exact method names the callers use");
          List<String> writes = granted.stream().filter(m -> WriteMethods.isWrite(catalog, m)).toList();
          if (!writes.isEmpty()) {
            add(warnings, r, "methods", "broad-write-grant", Severity.ERROR, "method glob \"" + pattern
                + "\" grants write methods (" + summarize(writes) + "), and any Google adds later",
                "name each write method the callers need exactly; keep globs, if any, to read methods");
          }
        }
      }
      if (!r.constrainsProjects()) {
        warn(warnings, r, "rule", "no-project-constraint",
            "no resources.projects: grants these methods in every project the service account can reach",
            "add resources: { projects: [PROJECT_ID] }");
      } else if (r.projects().hasWildcard()) {
        warn(warnings, r, "resources", "wildcard-project", "project glob " + r.projects() + " may match projects "
            + "created later", "list the project ids exactly");
      }
      List<String> claims = r.claimNames();
      boolean subjectConstrained = r.constrainsSubject() && !onlyStars(r.subject());
      if (!subjectConstrained && claims.isEmpty()) {
        warn(warnings, r, "identity", "no-identity-constraint",
            "no subject or claims: every token of issuer " + r.issuers() + " matches",
            "pin the caller: claims project_path or namespace_path (CI), or an exact subject (people)");
      } else if (!subjectConstrained && claims.stream().noneMatch(ANCHOR_CLAIMS::contains)
          && claims.stream().anyMatch(USER_CONTROLLED_CLAIMS::contains)) {
        warn(warnings, r, "identity", "user-controlled-claims", "claims " + claims + " are chosen by whoever runs "
            + "the pipeline; also pin project_path or namespace_path", "add claims: { project_path: GROUP/PROJECT }");
      }
      boolean protectedRef = requiresProtectedRef(r);
      List<String> deployish = r.methods().stream().filter(PolicyLinter::isDeployLike).sorted().toList();
      if (!deployish.isEmpty() && !protectedRef) {
        warn(warnings, r, "methods", "unprotected-deploy", "grants " + summarize(deployish)
            + " without requiring ref_protected: \"true\"; any branch could deploy",
            "add claims: { ref_protected: \"true\" }, or move these methods to a rule that has it");
      }
      List<String> writes = r.methods().stream().filter(m -> !isDeployLike(m) && WriteMethods.isWrite(catalog, m))
          .sorted().toList();
      if (!writes.isEmpty() && !protectedRef && isCiRule(r, context)) {
        warn(warnings, r, "methods", "unprotected-write", "grants write methods " + summarize(writes)
            + " without requiring ref_protected: \"true\"; a pipeline on any branch could call them",
            "add claims: { ref_protected: \"true\" }, or, if any branch should, say so: # lint-ignore: unprotected-write");
      }
      neverMatches(warnings, r, catalog);
    }
    shadowed(warnings, policy);
    if (!anyAllow) {
      warnings.add(new Warning(1, 1, null, "no-allow-rules", "no allow rules: every request is denied",
          "add an allow rule for each caller that needs Vertex AI"));
    }
    return warnings;
  }

  /**
   * The findings without those a rule's {@code # lint-ignore: CODE} comment names; {@code source} is the policy file's
   * lines. A rule spans from its own line to the line before the next rule.
   */
  public static List<Warning> withoutIgnored(List<Warning> findings, Policy policy, List<String> source) {
    List<Rule> rules = policy.rules();
    Map<String, Set<String>> ignored = new HashMap<>();
    for (int i = 0; i < rules.size(); i++) {
      int from = rules.get(i).line();
      int to = i + 1 < rules.size() ? rules.get(i + 1).line() - 1 : source.size();
      Set<String> codes = new HashSet<>();
      for (int line = from; line <= to && line <= source.size(); line++) {
        Matcher m = IGNORE.matcher(source.get(line - 1));
        if (m.find()) {
          for (String code : m.group(1).split(",")) {
            codes.add(code.strip());
          }
        }
      }
      ignored.put(rules.get(i).name(), codes);
    }
    return findings.stream().filter(w -> w.rule() == null || !ignored.getOrDefault(w.rule(), Set.of()).contains(w.code()))
        .toList();
  }

  private static void neverMatches(List<Warning> into, Rule r, MethodCatalog catalog) {
    if (!r.namePatterns().isEmpty()) {
      List<String> unnamed = RuleReach.unnamed(catalog, r);
      if (!unnamed.isEmpty()) {
        warn(into, r, "resources", "names-never-match", "no resources.names glob " + r.namePatterns() + " can match the "
            + "resource of " + summarize(unnamed) + ", so the rule never allows " + (unnamed.size() == 1 ? "it" : "them"),
            "add a glob of that method's resource shape (" + shape(catalog, unnamed.get(0)) + ") or remove the method");
      }
    }
    if (r.constrainsProjects()) {
      List<String> projectless = RuleReach.projectless(catalog, r);
      if (!projectless.isEmpty()) {
        warn(into, r, "resources", "projects-never-match", summarize(projectless) + " name no project in the path "
            + "(express mode), so resources.projects never matches " + (projectless.size() == 1 ? "it" : "them"),
            "remove " + (projectless.size() == 1 ? "it" : "them") + " from this rule");
      }
    }
    if (!r.modelPatterns().isEmpty()) {
      List<String> modelless = RuleReach.modelless(catalog, r);
      if (!modelless.isEmpty()) {
        warn(into, r, "models", "models-never-match", summarize(modelless) + " name no model in the path (an endpoint,"
            + " a job, or the model in the body), so models never matches " + (modelless.size() == 1 ? "it" : "them"),
            "move " + (modelless.size() == 1 ? "it" : "them") + " to a rule without models:, pinned by resources.names");
      }
    }
  }

  private static String shape(MethodCatalog catalog, String method) {
    List<String[]> templates = RuleReach.resourceTemplates(catalog, method);
    return templates.isEmpty() ? "?" : String.join("/", templates.get(0));
  }

  private static void claimsNeverIssued(List<Warning> into, Rule r, LintContext context) {
    for (String claim : r.claimNames()) {
      if (context.configKnown()) {
        for (String issuer : r.issuers()) {
          LintContext.KnownClaims known = context.issuerClaims().get(issuer);
          if (known != null && !known.names().contains(claim)) {
            String close = YamlReader.closest(claim, known.names());
            warn(into, r, "identity", "claim-never-issued", "claim " + claim + " is not among the claims of " + issuer
                + "'s tokens (" + known.what() + "), so the rule never matches"
                + (close == null ? "" : "; did you mean " + close + "?"),
                close == null ? "remove claims." + claim : "rename claims." + claim + " to " + close);
            break;
          }
        }
      } else if (!LintContext.GITLAB_CLAIMS.contains(claim) && claim.length() > 4) {
        String close = YamlReader.closest(claim, LintContext.GITLAB_CLAIMS);
        if (close != null) {
          warn(into, r, "identity", "claim-never-issued", "claim " + claim + " is no GitLab ID token claim; did you mean "
              + close + "? (give --issuers proxy.yaml to check every claim)", "rename claims." + claim + " to " + close);
        }
      }
    }
  }

  /** A rule for CI jobs: its issuer is known as GitLab, or (no configuration) it names GitLab-only claims or issuer. */
  private static boolean isCiRule(Rule r, LintContext context) {
    if (context.configKnown()) {
      return r.issuers().stream().map(context.issuerClaims()::get)
          .anyMatch(LintContext.KnownClaims.GITLAB::equals);
    }
    return r.issuers().stream().anyMatch(i -> i.toLowerCase(Locale.ROOT).contains("gitlab"))
        || r.claimNames().stream().anyMatch(c -> ANCHOR_CLAIMS.contains(c) && !c.equals("sub")
            || USER_CONTROLLED_CLAIMS.contains(c));
  }

  private static void shadowed(List<Warning> into, Policy policy) {
    for (Rule allow : policy.rules()) {
      if (allow.effect() != Rule.Effect.ALLOW) {
        continue;
      }
      for (Rule deny : policy.rules()) {
        if (deny.effect() == Rule.Effect.DENY && RuleReach.shadows(deny, allow)) {
          warn(into, allow, "rule", "shadowed-by-deny", "deny rule " + deny.name() + " (line " + deny.line()
              + ") matches every request this rule allows, so it never allows anything",
              "remove this rule, or narrow deny rule " + deny.name() + " so it no longer covers it");
          break;
        }
      }
    }
  }

  private static boolean onlyStars(ValueMatcher m) {
    return m.values().stream().anyMatch(v -> v.replace("*", "").isEmpty());
  }

  private static boolean requiresProtectedRef(Rule r) {
    ValueMatcher m = r.claim("ref_protected");
    return m != null && m.matchesClaim("true") && !m.matchesClaim("false");
  }

  /** Methods that change what serves traffic or who may act: worth tying to protected refs. */
  static boolean isDeployLike(String methodName) {
    if (methodName.contains("operations.")) {
      return false; // managing a long-running operation changes nothing that serves traffic
    }
    String verb = methodName.substring(methodName.lastIndexOf('.') + 1).toLowerCase(Locale.ROOT);
    return verb.contains("deploy") || verb.equals("upload") || verb.equals("setiampolicy")
        || verb.equals("delete") || verb.equals("mutatedeployedmodel");
  }

  private static String summarize(List<String> names) {
    return names.size() <= 3 ? String.join(", ", names)
        : String.join(", ", names.subList(0, 3)) + " and " + (names.size() - 3) + " more";
  }

  private static void warn(List<Warning> into, Rule r, String key, String code, String message, String fix) {
    add(into, r, key, code, Severity.WARNING, message, fix);
  }

  private static void add(List<Warning> into, Rule r, String key, String code, Severity severity, String message,
      String fix) {
    int[] p = r.position(key);
    into.add(new Warning(p[0], p[1], r.name(), code, severity, message, fix));
  }
}

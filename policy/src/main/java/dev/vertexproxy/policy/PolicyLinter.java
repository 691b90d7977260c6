package dev.vertexproxy.policy;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Flags valid but dangerous rules: grants broader than they look. Warnings, not errors — a reviewer decides.
 *
 * <p>Checks (each warning's {@code code}): {@code broad-method-glob} (an allow rule with a {@code *}/{@code **}
 * method entry), {@code no-project-constraint} (an allow rule without {@code resources.projects}),
 * {@code wildcard-project} (a project glob), {@code no-identity-constraint} (an allow rule with neither subject nor
 * claims: every token of the issuer matches), {@code user-controlled-claims} (only claims that any user influences,
 * such as {@code user_login} or {@code ref}, and nothing that pins the project), {@code unprotected-deploy} (deploy-
 * like methods without {@code ref_protected: "true"}), {@code no-allow-rules}.
 *
 * <p>Stateless and thread-safe.
 */
public final class PolicyLinter {
  /** One warning, located at the rule key it is about. */
  public record Warning(int line, int column, String rule, String code, String message) {
    @Override
    public String toString() {
      return line + ":" + column + ": " + (rule == null ? "" : "rule " + rule + ": ") + message + " [" + code + "]";
    }
  }

  /** Claims that pin where a GitLab job runs: a rule constraining one of them is anchored to a project or group. */
  private static final Set<String> ANCHOR_CLAIMS = Set.of("project_path", "project_id", "namespace_path",
      "namespace_id", "sub", "ci_config_ref_uri", "job_workflow_ref");
  /** Claims a user who can push or run pipelines anywhere on the instance chooses for themselves. */
  private static final Set<String> USER_CONTROLLED_CLAIMS = Set.of("user_login", "user_email", "user_id", "ref",
      "ref_path", "ref_type", "sha", "pipeline_source", "environment", "environment_protected", "runner_id",
      "runner_environment", "deployment_tier", "user_access_level");

  private PolicyLinter() {
  }

  public static List<Warning> lint(Policy policy) {
    List<Warning> warnings = new ArrayList<>();
    boolean anyAllow = false;
    for (Rule r : policy.rules()) {
      if (r.effect() != Rule.Effect.ALLOW) {
        if (r.constrainsProjects()) {
          warn(warnings, r, "resources", "deny-by-project", "a deny rule by project also denies every request that names"
              + " its project by number or names none (the proxy cannot tell which project a number is); prefer"
              + " allow rules that list projects");
        }
        continue;
      }
      anyAllow = true;
      for (String pattern : r.methodPatterns()) {
        if (Glob.isGlob(pattern)) {
          Glob glob = Glob.compile(pattern, '.');
          long granted = r.methods().stream().filter(glob::matches).count();
          warn(warnings, r, "methods", "broad-method-glob", "method glob \"" + pattern + "\" grants "
              + (pattern.startsWith("aiplatform.") ? "several" : String.valueOf(granted))
              + " methods, including any Google adds later that match; list them");
        }
      }
      if (!r.constrainsProjects()) {
        warn(warnings, r, "rule", "no-project-constraint",
            "no resources.projects: grants these methods in every project the service account can reach");
      } else if (r.projects().hasWildcard()) {
        warn(warnings, r, "resources", "wildcard-project", "project glob " + r.projects() + " may match projects "
            + "created later");
      }
      List<String> claims = r.claimNames();
      boolean subjectConstrained = r.constrainsSubject() && !onlyStars(r.subject());
      if (!subjectConstrained && claims.isEmpty()) {
        warn(warnings, r, "identity", "no-identity-constraint",
            "no subject or claims: every token of issuer " + r.issuers() + " matches");
      } else if (!subjectConstrained && claims.stream().noneMatch(ANCHOR_CLAIMS::contains)
          && claims.stream().anyMatch(USER_CONTROLLED_CLAIMS::contains)) {
        warn(warnings, r, "identity", "user-controlled-claims", "claims " + claims + " are chosen by whoever runs "
            + "the pipeline; also pin project_path or namespace_path");
      }
      List<String> deployish = r.methods().stream().filter(PolicyLinter::isDeployLike).sorted().toList();
      if (!deployish.isEmpty() && !requiresProtectedRef(r)) {
        warn(warnings, r, "methods", "unprotected-deploy", "grants " + summarize(deployish)
            + " without requiring ref_protected: \"true\"; any branch could deploy");
      }
    }
    if (!anyAllow) {
      warnings.add(new Warning(1, 1, null, "no-allow-rules", "no allow rules: every request is denied"));
    }
    return warnings;
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

  private static void warn(List<Warning> into, Rule r, String key, String code, String message) {
    int[] p = r.position(key);
    into.add(new Warning(p[0], p[1], r.name(), code, message));
  }
}

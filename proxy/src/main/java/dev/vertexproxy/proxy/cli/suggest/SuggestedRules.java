package dev.vertexproxy.proxy.cli.suggest;

import java.time.Instant;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What {@link PolicySuggester} gathered, per identity and rule, and how it is written as policy YAML: rules in identity
 * order, methods and values sorted, so the same trail always gives the same text. Every attacker-chosen value goes
 * through {@link YamlText#quote}; comments hold only counts, times, catalog method names and rule names. Not
 * thread-safe.
 */
final class SuggestedRules {
  private SuggestedRules() {
  }

  /** The policy text and the number of rules in it. */
  record Written(String yaml, int rules) {
  }

  /** Who a rule is for: a project (issuer, namespace, project) or a subject (issuer, subject). */
  record IdentityKey(String issuer, String namespacePath, String projectPath, String subject) {
    /** By issuer; projects before subjects; then by the pinned values. */
    static final Comparator<IdentityKey> ORDER = Comparator.comparing(IdentityKey::issuer)
        .thenComparing(k -> !k.project())
        .thenComparing(k -> Objects.toString(k.projectPath(), ""))
        .thenComparing(k -> Objects.toString(k.namespacePath(), ""))
        .thenComparing(k -> Objects.toString(k.subject(), ""));

    boolean project() {
      return projectPath != null;
    }
  }

  /** Counts and times of one method. */
  static final class Seen {
    int count;
    Instant first;
    Instant last;

    void add(Instant time) {
      count++;
      if (time != null) {
        first = first == null || time.isBefore(first) ? time : first;
        last = last == null || time.isAfter(last) ? time : last;
      }
    }
  }

  /** What one identity did as one service account. */
  static final class Grant {
    final Map<String, Seen> methods = new TreeMap<>();
    final Seen all = new Seen();
    final Set<String> projects = new TreeSet<>();
    final Set<String> locations = new TreeSet<>();
    final Set<String> models = new TreeSet<>();
    final Set<String> sourceRules = new TreeSet<>();
    boolean withoutProject;
    boolean withoutModel;
    int denied;
  }

  /** One rule of an identity: its service account, and whether it is for the methods called without a model. */
  record GrantKey(String account, boolean anyModel) {
    static final Comparator<GrantKey> ORDER = Comparator.comparing(GrantKey::account)
        .thenComparing(GrantKey::anyModel);
  }

  static final class Identity {
    final Map<GrantKey, Grant> grants = new TreeMap<>(GrantKey.ORDER);
    boolean allProtected = true;
    final Set<String> writeMethods = new TreeSet<>();
  }

  static Written write(List<String> header, Map<IdentityKey, Identity> identities, Set<String> warnings) {
    StringBuilder y = new StringBuilder();
    header.forEach(line -> y.append("# ").append(line).append('\n'));
    y.append("version: 1\n");
    int rules = 0;
    Set<String> names = new LinkedHashSet<>();
    StringBuilder body = new StringBuilder();
    for (Map.Entry<IdentityKey, Identity> e : identities.entrySet()) {
      IdentityKey key = e.getKey();
      Identity identity = e.getValue();
      long accounts = identity.grants.keySet().stream().map(GrantKey::account).distinct().count();
      for (Map.Entry<GrantKey, Grant> a : identity.grants.entrySet()) {
        GrantKey gk = a.getKey();
        boolean twoForAccount = gk.anyModel() && identity.grants.containsKey(new GrantKey(gk.account(), false));
        String name = unique(names, ruleName(key, accounts > 1 ? gk.account() : null, twoForAccount));
        rules++;
        writeRule(body, name, key, identity, gk.account(), a.getValue());
        if (key.project() && !identity.allProtected && !identity.writeMethods.isEmpty()) {
          warnings.add("rule " + name + ": " + identity.writeMethods + " were called from unprotected refs, so the"
              + " rule cannot require ref_protected: \"true\"; run those jobs on protected refs, then suggest again");
        }
        if (a.getValue().withoutProject) {
          warnings.add("rule " + name + ": some calls named no project (express mode), so the rule has no"
              + " resources.projects");
        }
      }
    }
    y.append(rules == 0 ? "rules: []\n" : "rules:\n").append(body);
    return new Written(y.toString(), rules);
  }

  private static void writeRule(StringBuilder y, String name, IdentityKey key, Identity identity, String account,
      Grant g) {
    y.append('\n');
    y.append("  # ").append(g.all.count).append(g.all.count == 1 ? " request" : " requests");
    if (g.denied > 0) {
      y.append(" (").append(g.denied).append(" of them denied, granted on request)");
    }
    y.append(", first ").append(when(g.all.first)).append(", last ").append(when(g.all.last)).append('\n');
    if (!g.sourceRules.isEmpty()) {
      y.append("  # replaces: ").append(String.join(", ", g.sourceRules)).append('\n');
    }
    y.append("  - name: ").append(name).append('\n');
    y.append("    effect: allow\n");
    y.append("    identity:\n");
    y.append("      issuer: ").append(YamlText.quote(key.issuer())).append('\n');
    if (key.project()) {
      y.append("      claims:\n");
      if (key.namespacePath() != null) {
        y.append("        namespace_path: ").append(YamlText.quote(key.namespacePath())).append('\n');
      }
      y.append("        project_path: ").append(YamlText.quote(key.projectPath())).append('\n');
      if (identity.allProtected) {
        y.append("        ref_protected: \"true\"\n");
      }
    } else {
      y.append("      subject: ").append(YamlText.quote(key.subject())).append('\n');
    }
    y.append("    methods:\n");
    for (Map.Entry<String, Seen> m : g.methods.entrySet()) {
      Seen s = m.getValue();
      y.append("      - ").append(m.getKey()).append("  # ").append(s.count).append(s.count == 1 ? " call" : " calls")
          .append(", ").append(when(s.first)).append(" .. ").append(when(s.last)).append('\n');
    }
    y.append("    resources:\n");
    if (!g.withoutProject) {
      y.append("      projects: ").append(list(g.projects)).append('\n');
    }
    y.append("      locations: ").append(list(g.locations)).append('\n');
    if (!g.withoutModel && !g.models.isEmpty()) {
      y.append("    models: ").append(list(g.models)).append('\n');
    }
    y.append("    service_account: ").append(YamlText.quote(account)).append('\n');
  }

  /** A time for a comment: records without a readable {@code time} show as "-". */
  private static String when(Instant time) {
    return time == null ? "-" : time.toString();
  }

  private static String list(Set<String> values) {
    List<String> quoted = values.stream().map(YamlText::quote).toList();
    return "[" + String.join(", ", quoted) + "]";
  }

  private static String ruleName(IdentityKey key, String account, boolean noModel) {
    String base = key.issuer() + "-" + (key.project() ? key.projectPath() : key.subject());
    if (account != null) {
      base += "-as-" + account.substring(0, account.indexOf('@'));
    }
    if (noModel) {
      base += "-no-model";
    }
    String name = base.replaceAll("[^A-Za-z0-9._-]+", "-").replaceAll("^[^A-Za-z0-9]+", "");
    return name.isEmpty() ? "observed" : name.substring(0, Math.min(name.length(), 90));
  }

  private static String unique(Set<String> names, String name) {
    String candidate = name;
    for (int i = 2; !names.add(candidate); i++) {
      candidate = name + "-" + i;
    }
    return candidate;
  }
}

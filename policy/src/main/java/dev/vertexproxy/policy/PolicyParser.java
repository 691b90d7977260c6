package dev.vertexproxy.policy;

import dev.vertexproxy.policy.catalog.MethodCatalog;
import dev.vertexproxy.policy.catalog.VertexMethod;
import dev.vertexproxy.policy.yaml.DeclaredKeys;
import dev.vertexproxy.policy.yaml.YamlReader;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

/**
 * Turns policy YAML into compiled {@link Rule}s, validating everything (keys, types, method names against the catalog,
 * issuer names, service accounts) and reporting every problem at once.
 *
 * <p>Not thread-safe: one instance parses one document.
 */
final class PolicyParser {
  /**
   * Every mapping of a policy and its keys: what the parser accepts and what {@code config/schema/policy.schema.json}
   * must document (a test compares them). {@code identity.claims} is open: any claim name.
   */
  static final DeclaredKeys KEYS = DeclaredKeys.builder()
      .mapping("", "version", "rules")
      .mapping("rules[]", "name", "description", "effect", "identity", "methods", "resources", "models", "credentials",
          "service_account")
      .mapping("rules[].identity", "issuer", "subject", "claims")
      .mapping("rules[].credentials", "mode", "audience")
      .mapping("rules[].resources", "projects", "locations", "names")
      .build();
  static final List<String> TOP_KEYS = KEYS.of("");
  static final List<String> RULE_KEYS = KEYS.of("rules[]");
  static final List<String> IDENTITY_KEYS = KEYS.of("rules[].identity");
  static final List<String> RESOURCE_KEYS = KEYS.of("rules[].resources");
  static final List<String> CREDENTIALS_KEYS = KEYS.of("rules[].credentials");

  private static final Pattern RULE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,99}");
  private static final Pattern CLAIM_NAME = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.:-]*");
  // user-managed (name@project.iam…, domain-scoped projects have dots), Google-managed (service-…@gcp-sa-….iam…)
  // and the Compute Engine default account.
  private static final Pattern SERVICE_ACCOUNT = Pattern.compile(
      "[a-z0-9][a-z0-9-]{0,62}@[a-z0-9][a-z0-9.-]{0,126}\\.iam\\.gserviceaccount\\.com"
          + "|[0-9]{1,20}-compute@developer\\.gserviceaccount\\.com");
  private static final String FULL_ID_PREFIX = "aiplatform.";

  /** The claims that say where a GitLab job runs; on a shared issuer an allow rule must pin one of them. */
  static final List<String> PIN_CLAIMS = List.of("namespace_id", "namespace_path", "project_id", "project_path");

  private final YamlReader yaml;
  private final MethodCatalog catalog;
  private final Set<String> issuerNames;
  private final Set<String> sharedIssuers;

  PolicyParser(String source, MethodCatalog catalog, Set<String> issuerNames, Set<String> sharedIssuers) {
    this.yaml = new YamlReader(source);
    this.catalog = catalog;
    this.issuerNames = issuerNames;
    this.sharedIssuers = Set.copyOf(sharedIssuers);
  }

  List<Rule> parse(String text) throws PolicyException {
    Node root = yaml.read(text);
    List<Rule> rules = new ArrayList<>();
    if (root != null) {
      Map<String, NodeTuple> top = yaml.mapping(root, "", TOP_KEYS);
      if (top != null) {
        parseVersion(root, top.get("version"));
        NodeTuple rulesEntry = top.get("rules");
        if (rulesEntry == null) {
          yaml.problem(root, "rules", "missing (a list of rules; an empty list denies everything)");
        } else if (!(rulesEntry.getValueNode() instanceof SequenceNode seq)) {
          yaml.problem(rulesEntry.getValueNode(), "rules",
              "expected a list of rules, got " + YamlReader.describe(rulesEntry.getValueNode()));
        } else {
          Map<String, Node> names = new HashMap<>();
          for (int i = 0; i < seq.getValue().size(); i++) {
            Rule rule = parseRule(seq.getValue().get(i), "rules[" + i + "]", rules.size(), names);
            if (rule != null) {
              rules.add(rule);
            }
          }
        }
      }
    }
    if (!yaml.problems().isEmpty()) {
      throw new PolicyException(yaml.problems());
    }
    return rules;
  }

  private void parseVersion(Node root, NodeTuple entry) {
    if (entry == null) {
      yaml.problem(root, "version", "missing (expected: version: 1)");
      return;
    }
    Node v = entry.getValueNode();
    if (!(v instanceof ScalarNode s) || !s.getTag().equals(Tag.INT) || !"1".equals(s.getValue())) {
      yaml.problem(v, "version", YamlReader.describe(v) + " is not a supported version (expected: 1)");
    }
  }

  private Rule parseRule(Node node, String path, int index, Map<String, Node> seenNames) {
    int before = yaml.problems().size();
    Map<String, NodeTuple> keys = yaml.mapping(node, path, RULE_KEYS);
    if (keys == null) {
      return null;
    }
    Map<String, int[]> positions = new HashMap<>();
    keys.forEach((k, t) -> positions.put(k, new int[] {YamlReader.line(t.getKeyNode()), YamlReader.column(t.getKeyNode())}));

    String name = null;
    NodeTuple nameEntry = keys.get("name");
    if (nameEntry == null) {
      yaml.problem(node, path + ".name", "missing (every rule needs a unique name; it appears in audit records)");
    } else {
      name = yaml.string(nameEntry.getValueNode(), path + ".name", false);
      if (name != null && !RULE_NAME.matcher(name).matches()) {
        yaml.problem(nameEntry.getValueNode(), path + ".name",
            "\"" + name + "\" is not a valid rule name (letters, digits, '.', '_', '-'; at most 100)");
      } else if (name != null) {
        Node first = seenNames.putIfAbsent(name, nameEntry.getValueNode());
        if (first != null) {
          yaml.problem(nameEntry.getValueNode(), path + ".name",
              "duplicate rule name \"" + name + "\" (first at line " + YamlReader.line(first) + ")");
        }
      }
    }
    String description = null;
    if (keys.containsKey("description")) {
      description = yaml.string(keys.get("description").getValueNode(), path + ".description", false);
    }

    Rule.Effect effect = null;
    NodeTuple effectEntry = keys.get("effect");
    if (effectEntry == null) {
      yaml.problem(node, path + ".effect", "missing (expected: allow or deny)");
    } else {
      String e = yaml.string(effectEntry.getValueNode(), path + ".effect", false);
      if ("allow".equals(e)) {
        effect = Rule.Effect.ALLOW;
      } else if ("deny".equals(e)) {
        effect = Rule.Effect.DENY;
      } else if (e != null) {
        yaml.problem(effectEntry.getValueNode(), path + ".effect", "\"" + e + "\" is not an effect (expected: allow or deny)");
      }
    }
    boolean allow = effect == Rule.Effect.ALLOW;

    Set<String> issuers = new LinkedHashSet<>();
    ValueMatcher subject = null;
    Map<String, ValueMatcher> claims = new LinkedHashMap<>();
    NodeTuple identityEntry = keys.get("identity");
    if (identityEntry == null) {
      if (allow) {
        yaml.problem(node, path + ".identity", "missing (an allow rule must name at least identity.issuer)");
      }
    } else {
      Map<String, NodeTuple> identity = yaml.mapping(identityEntry.getValueNode(), path + ".identity", IDENTITY_KEYS);
      if (identity != null) {
        if (identity.isEmpty()) {
          yaml.problem(identityEntry.getValueNode(), path + ".identity", "empty (name an issuer, subject or claims)");
        }
        NodeTuple issuerEntry = identity.get("issuer");
        if (issuerEntry == null) {
          if (allow) {
            yaml.problem(identityEntry.getValueNode(), path + ".identity.issuer",
                "missing (an allow rule must name the issuer it trusts)");
          }
        } else {
          parseIssuers(issuerEntry.getValueNode(), path + ".identity.issuer", issuers);
        }
        NodeTuple subjectEntry = identity.get("subject");
        if (subjectEntry != null) {
          List<String> s = yaml.strings(subjectEntry.getValueNode(), path + ".identity.subject", true, false);
          subject = s == null ? null : new ValueMatcher(s, '/');
        }
        NodeTuple claimsEntry = identity.get("claims");
        if (claimsEntry != null) {
          parseClaims(claimsEntry.getValueNode(), path + ".identity.claims", claims);
        }
        if (allow) {
          requirePinOnSharedIssuers(identityEntry.getValueNode(), path + ".identity", issuers, subjectEntry != null,
              claimsEntry, claims);
        }
      }
    }

    List<String> methodPatterns = new ArrayList<>();
    Set<String> methods = new TreeSet<>();
    NodeTuple methodsEntry = keys.get("methods");
    if (methodsEntry == null) {
      if (allow) {
        yaml.problem(node, path + ".methods", "missing (an allow rule must list the methods it grants)");
      }
    } else {
      List<String> entries = yaml.strings(methodsEntry.getValueNode(), path + ".methods", false, false);
      if (entries != null) {
        List<Node> items = ((SequenceNode) methodsEntry.getValueNode()).getValue();
        for (int i = 0; i < entries.size(); i++) {
          Set<String> expanded = expand(entries.get(i));
          if (expanded.isEmpty()) {
            yaml.problem(items.get(i), path + ".methods[" + i + "]",
                "\"" + entries.get(i) + "\" matches no Vertex method" + suggestion(entries.get(i)));
          }
          methodPatterns.add(entries.get(i));
          methods.addAll(expanded);
        }
      }
    }
    if (effect == Rule.Effect.DENY && identityEntry == null && methodsEntry == null) {
      yaml.problem(node, path, "a deny rule needs identity or methods (a rule that denies everything to everyone "
          + "is the default; delete the allow rules instead)");
    }

    ValueMatcher projects = null;
    ValueMatcher locations = null;
    ValueMatcher names = null;
    NodeTuple resourcesEntry = keys.get("resources");
    if (resourcesEntry != null) {
      Map<String, NodeTuple> resources = yaml.mapping(resourcesEntry.getValueNode(), path + ".resources", RESOURCE_KEYS);
      if (resources != null) {
        if (resources.isEmpty()) {
          yaml.problem(resourcesEntry.getValueNode(), path + ".resources", "empty (omit the key to mean any resource)");
        }
        projects = resourceMatcher(resources.get("projects"), path + ".resources.projects");
        locations = resourceMatcher(resources.get("locations"), path + ".resources.locations");
        names = resourceMatcher(resources.get("names"), path + ".resources.names");
      }
    }

    ModelMatcher models = parseModels(keys.get("models"), path + ".models");

    RuleCredentials credentials = parseCredentials(keys.get("credentials"), path + ".credentials", effect);
    boolean federated = credentials != null && credentials.mode() == RuleCredentials.Mode.STS;
    String serviceAccount = null;
    NodeTuple saEntry = keys.get("service_account");
    if (saEntry == null) {
      if (allow && !federated) {
        yaml.problem(node, path + ".service_account", "missing (an allow rule must name the service account to act as,"
            + " unless its credentials: { mode: sts } lets the call run as the federated caller)");
      }
    } else if (effect == Rule.Effect.DENY) {
      yaml.problem(saEntry.getKeyNode(), path + ".service_account", "a deny rule acts as no one; remove the key");
    } else {
      serviceAccount = yaml.string(saEntry.getValueNode(), path + ".service_account", false);
      if (serviceAccount != null && !SERVICE_ACCOUNT.matcher(serviceAccount).matches()) {
        yaml.problem(saEntry.getValueNode(), path + ".service_account", "\"" + serviceAccount
            + "\" is not a service account email (expected NAME@PROJECT.iam.gserviceaccount.com)");
      }
    }

    if (yaml.problems().size() != before) {
      return null;
    }
    return new Rule(index, name, description, effect, issuers, subject, claims, methodPatterns, methods, projects,
        locations, names, models, serviceAccount, credentials, YamlReader.line(node), YamlReader.column(node), positions);
  }

  /**
   * A rule's {@code models:} list: model ids or globs ({@code gemini-2.5-*}: Google's and the project's own models) or
   * qualified names ({@code publishers/anthropic/models/claude-*}); {@code null} when absent or wrong.
   */
  private ModelMatcher parseModels(NodeTuple entry, String path) {
    if (entry == null) {
      return null;
    }
    List<String> values = yaml.strings(entry.getValueNode(), path, true, false);
    if (values == null) {
      return null;
    }
    Node node = entry.getValueNode();
    boolean ok = true;
    for (int i = 0; i < values.size(); i++) {
      String v = values.get(i);
      Node at = node instanceof SequenceNode seq ? seq.getValue().get(i) : node;
      if (v.contains("**")) {
        yaml.problem(at, path, "\"" + v + "\": '**' is not allowed in a model (a model name has no '/'; use '*')");
        ok = false;
      } else if (!ModelMatcher.BARE.matcher(v).matches() && !ModelMatcher.QUALIFIED.matcher(v).matches()) {
        yaml.problem(at, path, "\"" + v + "\" is not a model (expected a model id such as gemini-2.5-flash, a glob "
            + "such as \"gemini-2.5-*\", or publishers/PUBLISHER/models/MODEL)");
        ok = false;
      }
    }
    return ok ? new ModelMatcher(values) : null;
  }

  /** A rule's {@code credentials:} block; {@code null} when absent or wrong (the problem is recorded). */
  private RuleCredentials parseCredentials(NodeTuple entry, String path, Rule.Effect effect) {
    if (entry == null) {
      return null;
    }
    if (effect == Rule.Effect.DENY) {
      yaml.problem(entry.getKeyNode(), path, "a deny rule obtains no credentials; remove the key");
      return null;
    }
    Map<String, NodeTuple> block = yaml.mapping(entry.getValueNode(), path, CREDENTIALS_KEYS);
    if (block == null) {
      return null;
    }
    NodeTuple modeEntry = block.get("mode");
    RuleCredentials.Mode mode = null;
    if (modeEntry == null) {
      yaml.problem(entry.getValueNode(), path + ".mode", "missing (expected: impersonate or sts)");
    } else {
      String m = yaml.string(modeEntry.getValueNode(), path + ".mode", false);
      if ("impersonate".equals(m)) {
        mode = RuleCredentials.Mode.IMPERSONATE;
      } else if ("sts".equals(m)) {
        mode = RuleCredentials.Mode.STS;
      } else if (m != null) {
        yaml.problem(modeEntry.getValueNode(), path + ".mode", "\"" + m + "\" is not a mode (expected: impersonate or sts)");
      }
    }
    String audience = null;
    NodeTuple audienceEntry = block.get("audience");
    if (audienceEntry != null) {
      audience = yaml.string(audienceEntry.getValueNode(), path + ".audience", false);
      if (mode == RuleCredentials.Mode.IMPERSONATE) {
        yaml.problem(audienceEntry.getKeyNode(), path + ".audience",
            "only with mode: sts (impersonation exchanges no caller token)");
        audience = null;
      }
      if (audience != null && !RuleCredentials.PROVIDER_AUDIENCE.matcher(audience).matches()) {
        yaml.problem(audienceEntry.getValueNode(), path + ".audience", "\"" + audience
            + "\" is not a workload identity provider (expected: " + RuleCredentials.AUDIENCE_EXAMPLE + ")");
        audience = null; // the mode stands, so that the rule's other keys are judged by it

      }
    }
    return mode == null ? null : new RuleCredentials(mode, audience);
  }

  private void parseIssuers(Node node, String path, Set<String> into) {
    List<String> values = yaml.strings(node, path, true, false);
    if (values == null) {
      return;
    }
    for (int i = 0; i < values.size(); i++) {
      String issuer = values.get(i);
      Node at = node instanceof SequenceNode seq ? seq.getValue().get(i) : node;
      if (Glob.isGlob(issuer)) {
        yaml.problem(at, path, "\"" + issuer + "\": issuer names are exact, not globs");
      } else if (issuerNames != null && !issuerNames.contains(issuer)) {
        yaml.problem(at, path, "\"" + issuer + "\" is not a configured issuer (configured: "
            + String.join(", ", new TreeSet<>(issuerNames)) + ")");
      } else {
        into.add(issuer);
      }
    }
  }

  /**
   * On an issuer that gives tokens to projects that do not trust each other (gitlab.com), an allow rule that pins no
   * namespace or project admits every project there: refuse it. Only the four {@link #PIN_CLAIMS} count. A subject
   * glob such as {@code project_path:acme/*:*} is not accepted as a pin: it is easy to get wrong and hard to review.
   */
  private void requirePinOnSharedIssuers(Node identity, String path, Set<String> issuers, boolean hasSubject,
      NodeTuple claimsEntry, Map<String, ValueMatcher> claims) {
    List<String> shared = issuers.stream().filter(sharedIssuers::contains).toList();
    if (shared.isEmpty()) {
      return;
    }
    Node at = claimsEntry != null ? claimsEntry.getValueNode() : identity;
    String where = claimsEntry != null ? path + ".claims" : path;
    String loose = null;
    for (String claim : PIN_CLAIMS) {
      ValueMatcher m = claims.get(claim);
      if (m == null) {
        continue;
      }
      String notAPin = notAPin(claim, m);
      if (notAPin == null) {
        return;
      }
      if (loose == null) {
        loose = notAPin;
        for (NodeTuple t : ((MappingNode) claimsEntry.getValueNode()).getValue()) {
          if (claim.equals(((ScalarNode) t.getKeyNode()).getValue())) {
            at = t.getValueNode();
            where = path + ".claims." + claim;
          }
        }
      }
    }
    boolean one = shared.size() == 1;
    yaml.problem(at, where, (one ? "issuer " : "issuers ") + String.join(", ", shared) + (one ? " is" : " are")
        + " shared by every project on " + (one ? "it" : "them") + ", so an allow rule for " + (one ? "it" : "them")
        + " must pin namespace_id, namespace_path, project_id or project_path" + (loose == null ? "" : "; " + loose)
        + (hasSubject ? "; a subject glob is not a pin" : "")
        + " (pin namespace_path or project_path exactly, e.g. namespace_path: acme)");
  }

  /** Null when {@code m} pins {@code claim}; else why not. Any alternative that does not pin opens the rule. */
  private static String notAPin(String claim, ValueMatcher m) {
    boolean path = claim.endsWith("_path");
    for (String v : m.values()) {
      if (!Glob.isGlob(v)) {
        continue;
      }
      if (!path) {
        return "\"" + v + "\" is a glob, and ids pin only exactly";
      }
      int wildcard = Math.min(v.indexOf('*') < 0 ? v.length() : v.indexOf('*'),
          v.indexOf('?') < 0 ? v.length() : v.indexOf('?'));
      String literal = v.substring(0, wildcard);
      if (literal.length() < 2 || literal.startsWith("/") || !literal.endsWith("/")) {
        return "\"" + v + "\" does not pin a namespace: a path glob pins only when its literal start ends at a"
            + " '/' (acme/* or acme/ml/**, not acme*)";
      }
    }
    return null;
  }

  private void parseClaims(Node node, String path, Map<String, ValueMatcher> into) {
    Map<String, NodeTuple> claims = yaml.mapping(node, path, null);
    if (claims == null) {
      return;
    }
    if (claims.isEmpty()) {
      yaml.problem(node, path, "empty (omit the key to constrain no claim)");
    }
    claims.forEach((claim, t) -> {
      String claimPath = path + "." + claim;
      if (!CLAIM_NAME.matcher(claim).matches()) {
        yaml.problem(t.getKeyNode(), claimPath, "\"" + claim + "\" is not a claim name");
        return;
      }
      List<String> values = yaml.claimValues(t.getValueNode(), claimPath);
      if (values != null) {
        into.put(claim, new ValueMatcher(values, '/'));
      }
    });
  }

  private ValueMatcher resourceMatcher(NodeTuple entry, String path) {
    if (entry == null) {
      return null;
    }
    List<String> values = yaml.strings(entry.getValueNode(), path, true, false);
    return values == null ? null : new ValueMatcher(values, '/');
  }

  /** The policy-facing names a method entry stands for: a name, a full discovery id, or a glob over either. */
  private Set<String> expand(String entry) {
    Set<String> names = new TreeSet<>();
    boolean fullId = entry.startsWith(FULL_ID_PREFIX);
    if (!Glob.isGlob(entry)) {
      if (fullId) {
        for (VertexMethod m : catalog.methods()) {
          if (m.id().equals(entry)) {
            names.add(m.name());
          }
        }
      } else if (!catalog.byName(entry).isEmpty()) {
        names.add(entry);
      }
      return names;
    }
    Glob glob = Glob.compile(entry, '.');
    if (fullId) {
      for (VertexMethod m : catalog.methods()) {
        if (glob.matches(m.id())) {
          names.add(m.name());
        }
      }
    } else {
      for (String name : catalog.names()) {
        if (glob.matches(name)) {
          names.add(name);
        }
      }
    }
    return names;
  }

  private String suggestion(String entry) {
    if (Glob.isGlob(entry)) {
      return "";
    }
    String shortName = MethodCatalog.shortName(entry);
    if (!shortName.equals(entry) && !catalog.byName(shortName).isEmpty()) {
      return " (did you mean " + shortName + "?)";
    }
    String best = null;
    int bestDistance = Math.max(2, shortName.length() / 5) + 1;
    for (String name : catalog.names()) {
      if (Math.abs(name.length() - shortName.length()) >= bestDistance) {
        continue;
      }
      int d = editDistance(shortName, name, bestDistance);
      if (d < bestDistance) {
        bestDistance = d;
        best = name;
      }
    }
    return best == null ? "" : " (did you mean " + best + "?)";
  }

  /** Levenshtein distance, giving up (returning {@code limit}) once every path exceeds it. */
  static int editDistance(String a, String b, int limit) {
    return YamlReader.editDistance(a, b, limit);
  }
}

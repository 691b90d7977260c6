package dev.vertexproxy.policy;

import dev.vertexproxy.policy.route.Route;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * One compiled policy rule: its identity criteria (issuer names, subject glob, claim matchers), the method names its
 * patterns expanded to against the catalog, its resource constraints and, for allow rules, the service account.
 * Criteria are checked in a fixed order (issuer, subject, claims, method, project, location, resource name, model) so a
 * refusal can name the first one that failed.
 *
 * <p>Immutable and thread-safe; built only by {@link Policy}.
 */
public final class Rule {
  /** What a matching rule does. */
  public enum Effect {
    ALLOW, DENY;

    /** The policy-file spelling: {@code allow} or {@code deny}. */
    public String key() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  static final String ISSUER = "issuer";
  static final String SUBJECT = "subject";
  static final String METHODS = "methods";
  static final String PROJECTS = "resources.projects";
  static final String LOCATIONS = "resources.locations";
  static final String NAMES = "resources.names";
  static final String MODELS = "models";

  private final int index;
  private final String name;
  private final String description;
  private final Effect effect;
  private final Set<String> issuers;
  private final ValueMatcher subject;
  private final String[] claimNames;
  private final String[] claimCriteria;
  private final ValueMatcher[] claimMatchers;
  private final List<String> methodPatterns;
  private final Set<String> methods;
  private final ValueMatcher projects;
  private final ValueMatcher locations;
  private final ValueMatcher names;
  private final ModelMatcher models;
  private final String serviceAccount;
  private final RuleCredentials credentials;
  private final int line;
  private final int column;
  private final Map<String, int[]> keyPositions;

  Rule(int index, String name, String description, Effect effect, Set<String> issuers, ValueMatcher subject,
      Map<String, ValueMatcher> claims, List<String> methodPatterns, Set<String> methods, ValueMatcher projects,
      ValueMatcher locations, ValueMatcher names, ModelMatcher models, String serviceAccount, RuleCredentials credentials,
      int line, int column, Map<String, int[]> keyPositions) {
    this.index = index;
    this.name = name;
    this.description = description;
    this.effect = effect;
    this.issuers = Set.copyOf(issuers);
    this.subject = subject;
    this.claimNames = claims.keySet().toArray(String[]::new);
    this.claimCriteria = claims.keySet().stream().map(k -> "claims." + k).toArray(String[]::new);
    this.claimMatchers = claims.values().toArray(ValueMatcher[]::new);
    this.methodPatterns = List.copyOf(methodPatterns);
    this.methods = Set.copyOf(methods);
    this.projects = projects;
    this.locations = locations;
    this.names = names;
    this.models = models;
    this.serviceAccount = serviceAccount;
    this.credentials = credentials;
    this.line = line;
    this.column = column;
    this.keyPositions = Map.copyOf(keyPositions);
  }

  public String name() {
    return name;
  }

  /** Free text from the file, or {@code null}. */
  public String description() {
    return description;
  }

  public Effect effect() {
    return effect;
  }

  /** Issuer names the rule accepts; empty means any issuer (deny rules only). */
  public Set<String> issuers() {
    return issuers;
  }

  /** The method entries as written in the file. */
  public List<String> methodPatterns() {
    return methodPatterns;
  }

  /** The policy-facing method names the patterns expanded to; empty with {@link #anyMethod()} for deny rules. */
  public Set<String> methods() {
    return methods;
  }

  /** True for a deny rule without {@code methods}: it applies to every method. */
  public boolean anyMethod() {
    return methodPatterns.isEmpty();
  }

  /**
   * The service account an allow rule acts as; {@code null} for deny rules and for an {@code sts} rule that runs as
   * the federated caller itself.
   */
  public String serviceAccount() {
    return serviceAccount;
  }

  /** The rule's own {@code credentials:} block; {@code null} when it has none (proxy.yaml's mode applies). */
  public RuleCredentials credentials() {
    return credentials;
  }

  /** 1-based line of the rule in its file. */
  public int line() {
    return line;
  }

  public int column() {
    return column;
  }

  /** Claim names the rule constrains, in file order. */
  public List<String> claimNames() {
    return List.of(claimNames);
  }

  /**
   * Whether {@code caller} satisfies the rule's identity part (issuer, subject, claims), whatever the request: what
   * the proxy's page for people lists as "what I may call".
   */
  public boolean matchesIdentity(Caller caller) {
    return identityMismatch(caller) == null;
  }

  /** The {@code resources.projects} values as written; empty when the rule allows any project. */
  public List<String> projectPatterns() {
    return projects == null ? List.of() : projects.values();
  }

  /** The {@code resources.locations} values as written; empty when the rule allows any location. */
  public List<String> locationPatterns() {
    return locations == null ? List.of() : locations.values();
  }

  /** The {@code resources.names} globs as written; empty when the rule constrains no resource name. */
  public List<String> namePatterns() {
    return names == null ? List.of() : names.values();
  }

  /** The {@code models} entries as written; empty when the rule constrains no model. */
  public List<String> modelPatterns() {
    return models == null ? List.of() : models.values();
  }

  /** Position in file order among all rules. */
  int index() {
    return index;
  }

  boolean constrainsSubject() {
    return subject != null;
  }

  ValueMatcher subject() {
    return subject;
  }

  ValueMatcher claim(String claimName) {
    for (int i = 0; i < claimNames.length; i++) {
      if (claimNames[i].equals(claimName)) {
        return claimMatchers[i];
      }
    }
    return null;
  }

  boolean constrainsProjects() {
    return projects != null;
  }

  ValueMatcher projects() {
    return projects;
  }

  /** {line, column} of a key inside the rule ({@code methods}, {@code identity}, …), else the rule's own. */
  int[] position(String key) {
    int[] p = keyPositions.get(key);
    return p != null ? p : new int[] {line, column};
  }

  /** The first identity criterion that fails ({@code issuer}, {@code subject}, {@code claims.X}), or null. */
  String identityMismatch(Caller caller) {
    if (!issuers.isEmpty() && !issuers.contains(caller.issuer())) {
      return ISSUER;
    }
    if (subject != null && !subject.matchesString(caller.subject())) {
      return SUBJECT;
    }
    Map<String, Object> claims = caller.claims();
    for (int i = 0; i < claimNames.length; i++) {
      if (!claimMatchers[i].matchesClaim(claims.get(claimNames[i]))) {
        return claimCriteria[i];
      }
    }
    return null;
  }

  boolean grantsMethod(String methodName) {
    return methodPatterns.isEmpty() || methods.contains(methodName);
  }

  /**
   * The first resource criterion that fails, or null. For an allow rule, a route without a project (express mode)
   * fails any project list. A deny rule must fail closed instead: Vertex also accepts a project's <em>number</em> in
   * the path, and some paths name no project, so neither can prove that a request is outside the denied projects —
   * such routes match a deny rule's {@code projects} and {@code names} criteria. Likewise a route whose path names no
   * model (an endpoint, or a method that takes the model in its body) fails an allow rule's {@code models} and matches a
   * deny rule's.
   */
  String resourceMismatch(Route route) {
    boolean unprovable = effect == Effect.DENY && (route.project() == null || isProjectNumber(route.project()));
    if (projects != null && !unprovable && (route.project() == null || !projects.matchesString(route.project()))) {
      return PROJECTS;
    }
    if (locations != null && !locations.matchesString(route.location())) {
      return LOCATIONS;
    }
    if (names != null && !unprovable && !names.matchesString(route.resource())) {
      return NAMES;
    }
    if (models != null && !models.matches(route) && !(effect == Effect.DENY && route.model() == null)) {
      return MODELS;
    }
    return null;
  }

  private static boolean isProjectNumber(String project) {
    if (project.isEmpty()) {
      return false;
    }
    for (int i = 0; i < project.length(); i++) {
      if (project.charAt(i) < '0' || project.charAt(i) > '9') {
        return false;
      }
    }
    return true;
  }

  /** The first criterion that fails for this request, or null when the rule matches. */
  String mismatch(Caller caller, Route route) {
    String identity = identityMismatch(caller);
    if (identity != null) {
      return identity;
    }
    if (!grantsMethod(route.method().name())) {
      return METHODS;
    }
    return resourceMismatch(route);
  }

  @Override
  public String toString() {
    return effect.key() + " rule " + name;
  }
}

package dev.vertexproxy.policy;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.vertexproxy.policy.catalog.MethodCatalog;
import dev.vertexproxy.policy.route.Route;
import dev.vertexproxy.policy.yaml.Problem;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * A compiled least-privilege policy: default deny; a request is allowed only if an allow rule matches and no deny rule
 * does, whatever their order.
 *
 * <p>Design note: the identity part of every rule is a function of the caller alone, so the first decision for a
 * {@link Caller} instance compiles a {@link CallerView}: the allow and deny rules whose identity accepts it, and the
 * default deny it gets if none does. That first decision is linear in the rules of the caller's issuer; every later one
 * for the same instance (the verified-token cache hands out one per token) looks only at the caller's own rules, so
 * deciding and explaining a default deny cost the same at 100 and 10,000 rules. Method patterns are expanded against
 * the catalog at load. A new {@code Caller} per call (the CLI, replay) gets the same answers at the first-call cost.
 *
 * <p>Thread-safe, and immutable but for the bounded memo of caller views; {@link #decide} does no I/O and, for a
 * caller seen before, allocates only the messages of method, project, location, resource and model refusals.
 */
public final class Policy {
  private static final Rule[] NONE = new Rule[0];

  private final String version;
  private final List<Rule> rules;
  private final Map<String, Rule[]> allowByIssuer;
  /** Deny rules that name the issuer or name none, in file order, per issuer named anywhere in the policy. */
  private final Map<String, Rule[]> denyByIssuer;
  /** Deny rules that name no issuer: all that can apply to a caller of an issuer no rule names. */
  private final Rule[] denyAnyIssuer;
  private final Decision[] allowedDecisions;
  private final Decision[] deniedDecisions;

  /**
   * Caller views keyed by caller instance (identity, not equality), held weakly so they go when the caller does.
   * Bounded, so a flood of distinct callers cannot grow it without limit; each view is linear in the rules that accept
   * its caller. Upkeep runs on the deciding thread: a flood of new callers then cannot outrun a busy common pool and
   * make every decision wait for it.
   */
  private final Cache<Caller, CallerView> views =
      Caffeine.newBuilder().weakKeys().maximumSize(10_000).executor(Runnable::run).build();
  private final Function<Caller, CallerView> viewOf = this::viewOf;

  private Policy(String version, List<Rule> rules) {
    this.version = version;
    this.rules = List.copyOf(rules);
    Map<String, List<Rule>> byIssuer = new LinkedHashMap<>();
    Map<String, List<Rule>> denyOfIssuer = new LinkedHashMap<>();
    List<Rule> anyIssuer = new ArrayList<>();
    allowedDecisions = new Decision[rules.size()];
    deniedDecisions = new Decision[rules.size()];
    Set<String> issuerNames = new LinkedHashSet<>();
    for (Rule r : rules) {
      issuerNames.addAll(r.issuers());
    }
    for (Rule r : rules) {
      if (r.effect() == Rule.Effect.ALLOW) {
        allowedDecisions[r.index()] = new Decision(true, r.name(), Reasons.ALLOWED, r.serviceAccount(),
            "allowed by rule " + r.name(), r.credentials());
        for (String issuer : r.issuers()) {
          byIssuer.computeIfAbsent(issuer, k -> new ArrayList<>()).add(r);
        }
      } else {
        deniedDecisions[r.index()] = new Decision(false, r.name(), Reasons.DENIED_BY_RULE, null,
            "denied by rule " + r.name());
        if (r.issuers().isEmpty()) {
          anyIssuer.add(r);
        }
        for (String issuer : r.issuers().isEmpty() ? issuerNames : r.issuers()) {
          denyOfIssuer.computeIfAbsent(issuer, k -> new ArrayList<>()).add(r);
        }
      }
    }
    this.allowByIssuer = freeze(byIssuer);
    this.denyByIssuer = freeze(denyOfIssuer);
    this.denyAnyIssuer = anyIssuer.toArray(NONE);
  }

  private static Map<String, Rule[]> freeze(Map<String, List<Rule>> index) {
    Map<String, Rule[]> frozen = new HashMap<>();
    index.forEach((k, v) -> frozen.put(k, v.toArray(NONE)));
    return Map.copyOf(frozen);
  }

  /**
   * Reads and compiles a policy file.
   *
   * @param issuerNames   the issuer names configured in proxy.yaml, or {@code null} not to check them
   * @param sharedIssuers the names of issuers marked {@code shared} (gitlab.com by default): every allow rule naming
   *                      one must pin namespace_id, namespace_path, project_id or project_path
   * @throws PolicyException with every problem found (an unreadable file is one problem)
   */
  public static Policy load(Path file, MethodCatalog catalog, Set<String> issuerNames, Set<String> sharedIssuers)
      throws PolicyException {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (IOException e) {
      throw new PolicyException(List.of(new Problem(file.toString(), 1, 1, "", "cannot read: " + e)));
    }
    return compile(bytes, file.toString(), catalog, issuerNames, sharedIssuers);
  }

  /** {@link #load(Path, MethodCatalog, Set, Set)} with no issuer shared. */
  public static Policy load(Path file, MethodCatalog catalog, Set<String> issuerNames) throws PolicyException {
    return load(file, catalog, issuerNames, Set.of());
  }

  /** Compiles policy text; {@code sourceName} names it in problems. See {@link #load(Path, MethodCatalog, Set, Set)}. */
  public static Policy parse(String yaml, String sourceName, MethodCatalog catalog, Set<String> issuerNames,
      Set<String> sharedIssuers) throws PolicyException {
    return compile(yaml.getBytes(StandardCharsets.UTF_8), sourceName, catalog, issuerNames, sharedIssuers);
  }

  /** {@link #parse(String, String, MethodCatalog, Set, Set)} with no issuer shared. */
  public static Policy parse(String yaml, String sourceName, MethodCatalog catalog, Set<String> issuerNames)
      throws PolicyException {
    return parse(yaml, sourceName, catalog, issuerNames, Set.of());
  }

  private static Policy compile(byte[] bytes, String source, MethodCatalog catalog, Set<String> issuerNames,
      Set<String> sharedIssuers) throws PolicyException {
    String text = new String(bytes, StandardCharsets.UTF_8);
    List<Rule> rules = new PolicyParser(source, catalog, issuerNames, sharedIssuers).parse(text);
    return new Policy(versionOf(bytes), rules);
  }

  private static String versionOf(byte[] bytes) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(bytes);
      return "sha256:" + HexFormat.of().formatHex(digest).substring(0, 12);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every JVM", e);
    }
  }

  /** {@code sha256:} and the first 12 hex digits of the file's SHA-256: names the policy in audit records. */
  public String version() {
    return version;
  }

  /** All rules in file order. */
  public List<Rule> rules() {
    return rules;
  }

  /**
   * Decides one request. Deny rules win; without a matching allow rule, explains the closest miss. The first call for a
   * caller instance is linear in the rules of its issuer; later ones depend only on the rules accepting the caller.
   */
  public Decision decide(Caller caller, Route route) {
    CallerView view = views.get(caller, viewOf);
    String method = route.method().name();
    CallerView.Slice slice = view.forMethod(method);
    for (Rule r : slice.denies()) {
      if (r.grantsMethod(method) && r.resourceMismatch(route) == null) {
        return deniedDecisions[r.index()];
      }
    }
    Rule closest = null;
    int closestStage = -1;
    for (Rule r : slice.allows()) {
      if (r.grantsMethod(method)) {
        String mismatch = r.resourceMismatch(route);
        if (mismatch == null) {
          return allowedDecisions[r.index()];
        }
        int stage = stageOf(mismatch);
        if (stage > closestStage) {
          closest = r;
          closestStage = stage;
        }
      }
    }
    if (closest != null) {
      return resourceDeny(route, closest, closestStage);
    }
    if (!view.identityAllowed()) {
      return view.identityDeny();
    }
    return deny(Reasons.METHOD_NOT_GRANTED, "no allow rule grants " + method + " to this caller");
  }

  private CallerView viewOf(Caller caller) {
    return CallerView.of(caller, denyByIssuer.getOrDefault(caller.issuer(), denyAnyIssuer),
        allowByIssuer.getOrDefault(caller.issuer(), NONE));
  }

  /**
   * The default deny when rules accepting the caller grant the method: names the furthest resource check any of them
   * got to, and the earliest rule in file order that got there.
   */
  private static Decision resourceDeny(Route route, Rule closest, int closestStage) {
    String method = route.method().name();
    return switch (closestStage) {
      case 0 -> deny(Reasons.PROJECT_NOT_GRANTED, "project " + quote(route.project())
          + " is not granted for " + method + " (closest rule: " + closest.name() + ")");
      case 1 -> deny(Reasons.LOCATION_NOT_GRANTED, "location " + quote(route.location())
          + " is not granted for " + method + " (closest rule: " + closest.name() + ")");
      case 2 -> deny(Reasons.RESOURCE_NOT_GRANTED, "resource " + route.resource()
          + " is not granted for " + method + " (closest rule: " + closest.name() + ")");
      default -> deny(Reasons.MODEL_NOT_GRANTED, (route.model() == null ? "the request names no model in its path"
          : "model " + modelName(route)) + " is not granted for " + method + " (closest rule: " + closest.name() + ")");
    };
  }

  private static int stageOf(String resourceMismatch) {
    if (Rule.PROJECTS.equals(resourceMismatch)) {
      return 0;
    }
    if (Rule.LOCATIONS.equals(resourceMismatch)) {
      return 1;
    }
    return Rule.NAMES.equals(resourceMismatch) ? 2 : 3;
  }

  /** The model as a {@code models:} entry would name it: its id for Google's, qualified for other publishers. */
  private static String modelName(Route route) {
    String publisher = route.publisher();
    return publisher == null || publisher.equals("google") ? route.model()
        : "publishers/" + publisher + "/models/" + route.model();
  }

  private static String quote(String value) {
    return value == null ? "(none: express mode)" : value;
  }

  private static Decision deny(String reason, String message) {
    return new Decision(false, null, reason, null, message);
  }

  /** Every rule in file order with whether it matched and, if not, the first criterion that failed. */
  public List<RuleTrace> explain(Caller caller, Route route) {
    List<RuleTrace> traces = new ArrayList<>(rules.size());
    for (Rule r : rules) {
      String failed = r.mismatch(caller, route);
      traces.add(new RuleTrace(r.name(), r.effect().key(), failed == null, failed, r.line()));
    }
    return traces;
  }

  @Override
  public String toString() {
    return "Policy " + version + " (" + rules.size() + " rules)";
  }
}

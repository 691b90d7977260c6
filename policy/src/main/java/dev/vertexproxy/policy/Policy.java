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
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A compiled least-privilege policy: default deny; a request is allowed only if an allow rule matches and no deny rule
 * does, whatever their order.
 *
 * <p>Design note: method patterns are expanded against the catalog at load and rules are indexed by method name, so
 * {@link #decide} only looks at the rules that name the routed method (plus deny rules that name no method). Only a
 * default deny looks further, to explain which check the closest allow rule failed; it consults the allow rules of
 * the caller's issuer.
 *
 * <p>Thread-safe, and immutable but for a bounded memo of default-deny explanations per caller; {@link #decide} does
 * no I/O and allocates only for default-deny explanations.
 */
public final class Policy {
  private static final Rule[] NONE = new Rule[0];

  private final String version;
  private final List<Rule> rules;
  private final Map<String, Rule[]> allowByMethod;
  private final Map<String, Rule[]> denyByMethod;
  private final Rule[] denyAnyMethod;
  private final Map<String, Rule[]> allowByIssuer;
  private final Decision[] allowedDecisions;
  private final Decision[] deniedDecisions;

  /**
   * Verdicts keyed by caller identity (the verified-token cache hands out one {@link Caller} instance per token), held
   * weakly so they go when the caller does. Bounded, so a flood of distinct callers cannot grow it without limit.
   */
  private final Cache<Caller, IdentityVerdict> identityVerdicts = Caffeine.newBuilder().weakKeys().maximumSize(10_000).build();

  private Policy(String version, List<Rule> rules) {
    this.version = version;
    this.rules = List.copyOf(rules);
    Map<String, List<Rule>> allow = new LinkedHashMap<>();
    Map<String, List<Rule>> deny = new LinkedHashMap<>();
    Map<String, List<Rule>> byIssuer = new LinkedHashMap<>();
    List<Rule> anyMethod = new ArrayList<>();
    allowedDecisions = new Decision[rules.size()];
    deniedDecisions = new Decision[rules.size()];
    for (Rule r : rules) {
      if (r.effect() == Rule.Effect.ALLOW) {
        allowedDecisions[r.index()] = new Decision(true, r.name(), Reasons.ALLOWED, r.serviceAccount(),
            "allowed by rule " + r.name(), r.credentials());
        for (String m : r.methods()) {
          allow.computeIfAbsent(m, k -> new ArrayList<>()).add(r);
        }
        for (String issuer : r.issuers()) {
          byIssuer.computeIfAbsent(issuer, k -> new ArrayList<>()).add(r);
        }
      } else {
        deniedDecisions[r.index()] = new Decision(false, r.name(), Reasons.DENIED_BY_RULE, null,
            "denied by rule " + r.name());
        if (r.anyMethod()) {
          anyMethod.add(r);
        } else {
          for (String m : r.methods()) {
            deny.computeIfAbsent(m, k -> new ArrayList<>()).add(r);
          }
        }
      }
    }
    this.allowByMethod = freeze(allow);
    this.denyByMethod = freeze(deny);
    this.allowByIssuer = freeze(byIssuer);
    this.denyAnyMethod = anyMethod.toArray(NONE);
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

  /** Decides one request. Deny rules win; without a matching allow rule, explains the closest miss. */
  public Decision decide(Caller caller, Route route) {
    String method = route.method().name();
    Rule deny = firstMatch(denyByMethod.getOrDefault(method, NONE), caller, route, null);
    deny = firstMatch(denyAnyMethod, caller, route, deny);
    if (deny != null) {
      return deniedDecisions[deny.index()];
    }
    Rule[] candidates = allowByMethod.getOrDefault(method, NONE);
    Rule allow = firstMatch(candidates, caller, route, null);
    if (allow != null) {
      return allowedDecisions[allow.index()];
    }
    return explainDefaultDeny(caller, route, candidates);
  }

  /** The earliest (in file order) rule of {@code rules} that matches, or {@code earlier} if that comes first. */
  private static Rule firstMatch(Rule[] rules, Caller caller, Route route, Rule earlier) {
    for (Rule r : rules) {
      if (earlier != null && earlier.index() < r.index()) {
        return earlier;
      }
      if (r.mismatch(caller, route) == null) {
        return r;
      }
    }
    return earlier;
  }

  /**
   * The default deny, naming the furthest check any allow rule got to. Rules granting the method can fail only at
   * identity or resources; if one passes identity its resource miss is the answer. Otherwise an allow rule of the
   * caller's issuer that accepts the identity means the method was not granted.
   */
  private Decision explainDefaultDeny(Caller caller, Route route, Rule[] grantingMethod) {
    String method = route.method().name();
    Rule closest = null;
    int closestStage = -1;
    for (Rule r : grantingMethod) {
      if (r.identityMismatch(caller) == null) {
        int stage = stageOf(r.resourceMismatch(route));
        if (stage > closestStage) {
          closest = r;
          closestStage = stage;
        }
      }
    }
    if (closest != null) {
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
    Rule[] ofIssuer = allowByIssuer.getOrDefault(caller.issuer(), NONE);
    if (ofIssuer.length == 0) {
      return deny(Reasons.ISSUER_NOT_TRUSTED, "no allow rule trusts issuer " + caller.issuer());
    }
    IdentityVerdict verdict = identityVerdicts.get(caller, c -> identityVerdict(c, ofIssuer));
    if (verdict.closest() == null) {
      return deny(Reasons.METHOD_NOT_GRANTED, "no allow rule grants " + method + " to this caller");
    }
    return deny(Reasons.IDENTITY_NOT_MATCHED,
        "caller does not match any allow rule (closest rule: " + verdict.closest().name() + ", " + verdict.failed()
            + " differs)");
  }

  /**
   * Whether any allow rule of the caller's issuer accepts this identity, whatever the method — or else the first rule
   * and the criterion it failed. Linear in the issuer's allow rules, and a function of the caller alone, so it is
   * remembered per caller: a caller who keeps sending denied requests costs one scan, not one per request.
   */
  private static IdentityVerdict identityVerdict(Caller caller, Rule[] ofIssuer) {
    Rule closest = null;
    String failed = null;
    for (Rule r : ofIssuer) {
      String mismatch = r.identityMismatch(caller);
      if (mismatch == null) {
        return IdentityVerdict.MATCHES;
      }
      if (failed == null) {
        closest = r;
        failed = mismatch;
      }
    }
    return new IdentityVerdict(closest, failed);
  }

  /** {@code closest == null}: some allow rule accepts the identity. */
  private record IdentityVerdict(Rule closest, String failed) {
    static final IdentityVerdict MATCHES = new IdentityVerdict(null, null);
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

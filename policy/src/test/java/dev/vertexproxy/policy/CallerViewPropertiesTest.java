package dev.vertexproxy.policy;

import static dev.vertexproxy.policy.TestCatalog.CATALOG;
import static org.assertj.core.api.Assertions.assertThat;

import dev.vertexproxy.policy.catalog.VertexMethod;
import dev.vertexproxy.policy.route.Route;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The per-caller view is an optimisation only: every decision, message included, must equal a plain evaluation of
 * every rule in file order — for the caller instance seen before (its view remembered), for the same instance again,
 * and for an equal but new {@code Caller} (the CLI and replay build one per call).
 *
 * <p>Generated policies use {@code models:}, project numbers, express mode, deny rules for any method and for any
 * issuer. A fixed seed makes a failure repeat; the message names the seed, try, policy, caller and route.
 */
class CallerViewPropertiesTest {
  private static final double PRESENT = 0.5;

  @Test
  void smallPoliciesDecideAsTheReferenceDoes() throws Exception {
    Map<String, Integer> outcomes = compare(0x5EED_0202L, 500, 0, 9, 6);
    assertThat(outcomes).containsKeys(Reasons.ALLOWED, Reasons.DENIED_BY_RULE, Reasons.ISSUER_NOT_TRUSTED,
        Reasons.IDENTITY_NOT_MATCHED, Reasons.METHOD_NOT_GRANTED, Reasons.PROJECT_NOT_GRANTED,
        Reasons.LOCATION_NOT_GRANTED, Reasons.RESOURCE_NOT_GRANTED, Reasons.MODEL_NOT_GRANTED);
  }

  /**
   * Policies where one caller matches more than {@link CallerView#SLICE_ABOVE} rules and calls more than
   * {@link CallerView#MAX_SLICES} methods, so the per-method subsets and the scan past their cap are both compared.
   */
  @Test
  void largePoliciesAndManyMethodsPerCallerDecideAsTheReferenceDoes() throws Exception {
    Map<String, Integer> outcomes = compare(0x5EED_0303L, 40, 30, 80, 80);
    assertThat(outcomes.get("sliced callers")).as("callers matching over %d rules", CallerView.SLICE_ABOVE).isPositive();
    assertThat(CATALOG.methods().size()).isGreaterThan(CallerView.MAX_SLICES);
    assertThat(outcomes).containsKeys(Reasons.ALLOWED, Reasons.DENIED_BY_RULE, Reasons.MODEL_NOT_GRANTED,
        Reasons.PROJECT_NOT_GRANTED);
  }

  private static Map<String, Integer> compare(long seed, int tries, int minRules, int maxRules, int maxRoutes)
      throws Exception {
    Random random = new Random(seed);
    Map<String, Integer> outcomes = new TreeMap<>();
    for (int i = 0; i < tries; i++) {
      String yaml = policy(random, minRules + random.nextInt(maxRules - minRules));
      List<Caller> callers = callers(random);
      List<Route> routes = routes(random, maxRoutes);
      Policy policy = Policy.parse(yaml, "generated.yaml", CATALOG, null);
      for (Caller caller : callers) {
        if (policy.rules().stream().filter(r -> r.identityMismatch(caller) == null).count() > CallerView.SLICE_ABOVE) {
          outcomes.merge("sliced callers", 1, Integer::sum);
        }
      }
      for (int pass = 0; pass < 2; pass++) {
        for (Caller caller : callers) {
          for (Route route : routes) {
            Decision expected = reference(policy.rules(), caller, route);
            outcomes.merge(expected.reason(), 1, Integer::sum);
            Caller fresh = new Caller(caller.issuer(), caller.subject(), caller.claims());
            for (Decision actual : List.of(policy.decide(caller, route), policy.decide(fresh, route))) {
              assertThat(actual).as("seed %d, try %d, pass %d\n%s\n%s\n%s", seed, i, pass, yaml, caller, route)
                  .isEqualTo(expected);
            }
          }
        }
      }
    }
    return outcomes;
  }

  /**
   * The semantics stated plainly: the first matching deny rule in file order; else the first matching allow rule;
   * else the furthest check any allow rule got to, naming the earliest rule that got there.
   */
  private static Decision reference(List<Rule> rules, Caller caller, Route route) {
    for (Rule r : rules) {
      if (r.effect() == Rule.Effect.DENY && r.mismatch(caller, route) == null) {
        return new Decision(false, r.name(), Reasons.DENIED_BY_RULE, null, "denied by rule " + r.name());
      }
    }
    int furthest = -1;
    Rule closest = null;
    String failedAtClosest = null;
    for (Rule r : rules) {
      if (r.effect() != Rule.Effect.ALLOW) {
        continue;
      }
      String failed = r.mismatch(caller, route);
      if (failed == null) {
        return new Decision(true, r.name(), Reasons.ALLOWED, r.serviceAccount(), "allowed by rule " + r.name(),
            r.credentials());
      }
      int stage = switch (failed) {
        case Rule.ISSUER -> 0;
        case Rule.METHODS -> 2;
        case Rule.PROJECTS -> 3;
        case Rule.LOCATIONS -> 4;
        case Rule.NAMES -> 5;
        case Rule.MODELS -> 6;
        default -> 1; // subject or a claim
      };
      if (stage > furthest) {
        furthest = stage;
        closest = r;
        failedAtClosest = failed;
      }
    }
    String method = route.method().name();
    String project = route.project() == null ? "(none: express mode)" : route.project();
    String suffix = " is not granted for " + method + " (closest rule: " + (closest == null ? "" : closest.name()) + ")";
    return switch (furthest) {
      case -1, 0 -> deny(Reasons.ISSUER_NOT_TRUSTED, "no allow rule trusts issuer " + caller.issuer());
      case 1 -> deny(Reasons.IDENTITY_NOT_MATCHED, "caller does not match any allow rule (closest rule: "
          + closest.name() + ", " + failedAtClosest + " differs)");
      case 2 -> deny(Reasons.METHOD_NOT_GRANTED, "no allow rule grants " + method + " to this caller");
      case 3 -> deny(Reasons.PROJECT_NOT_GRANTED, "project " + project + suffix);
      case 4 -> deny(Reasons.LOCATION_NOT_GRANTED, "location " + route.location() + suffix);
      case 5 -> deny(Reasons.RESOURCE_NOT_GRANTED, "resource " + route.resource() + suffix);
      default -> deny(Reasons.MODEL_NOT_GRANTED, (route.model() == null ? "the request names no model in its path"
          : "model " + qualified(route)) + suffix);
    };
  }

  private static String qualified(Route route) {
    String publisher = route.publisher();
    return publisher == null || publisher.equals("google") ? route.model()
        : "publishers/" + publisher + "/models/" + route.model();
  }

  private static Decision deny(String reason, String message) {
    return new Decision(false, null, reason, null, message);
  }

  private static String policy(Random random, int count) {
    StringBuilder yaml = new StringBuilder(count == 0 ? "version: 1\nrules: []\n" : "version: 1\nrules:\n");
    for (int i = 0; i < count; i++) {
      yaml.append("  - name: r").append(i).append('\n').append(rule(random));
    }
    return yaml.toString();
  }

  private static String rule(Random random) {
    boolean isAllow = random.nextBoolean();
    String iss = pick(random, List.of("gitlab", "humans", "[gitlab, humans]"));
    List<String> claimEntries = new ArrayList<>();
    if (present(random)) {
      claimEntries.add("a: " + pick(random, List.of("x", "\"y\"", "\"x*\"", "[x, \"y\"]", "true")));
    }
    String cl = claimEntries.isEmpty() ? "" : ", claims: {" + String.join(", ", claimEntries) + "}";
    List<String> methodChoices = new ArrayList<>(List.of("customJobs.create", "customJobs.get", "\"customJobs.*\"",
        "\"**\"", "models.upload", "models.delete", "endpoints.predict", "\"publishers.models.*\"",
        "aiplatform.publishers.models.generateContent", "publishers.models.countTokens"));
    Collections.shuffle(methodChoices, random);
    String m = "[" + String.join(", ", methodChoices.subList(0, 1 + random.nextInt(3))) + "]";
    List<String> resourceEntries = new ArrayList<>();
    if (present(random)) {
      resourceEntries.add("projects: " + pick(random, List.of("p1", "p2", "\"p*\"", "[p1, \"123\"]")));
    }
    if (present(random)) {
      resourceEntries.add("locations: " + pick(random, List.of("l1", "global", "[l1, global]")));
    }
    if (random.nextDouble() < 0.25) {
      resourceEntries.add("names: " + pick(random, List.of("\"projects/p1/**\"", "\"publishers/**\"")));
    }
    String res = resourceEntries.isEmpty() ? "" : "    resources: {" + String.join(", ", resourceEntries) + "}\n";
    String models = present(random) ? "    models: " + pick(random, List.of("[flash]", "[\"gem*\"]",
        "[flash, \"publishers/acme/models/c-*\"]", "[\"models/tuned-*\"]")) + "\n" : "";
    if (isAllow) {
      return "    effect: allow\n    identity: {issuer: " + iss + cl + "}\n    methods: " + m + "\n" + res + models
          + "    service_account: sa-" + Math.abs(m.hashCode() % 100) + "x@p-123456.iam.gserviceaccount.com\n";
    }
    boolean withMethods = random.nextBoolean();
    int identityKind = random.nextInt(3); // 0: none, 1: issuer, 2: claims of any issuer
    if (!withMethods && identityKind == 0) {
      identityKind = 1 + random.nextInt(2);
    }
    String idBlock = switch (identityKind) {
      case 0 -> "";
      case 1 -> "    identity: {issuer: " + iss + cl + "}\n";
      default -> "    identity: {claims: {a: " + pick(random, List.of("x", "\"y\"", "true")) + "}}\n";
    };
    return "    effect: deny\n" + idBlock + (withMethods ? "    methods: " + m + "\n" : "") + res + models;
  }

  private static List<Caller> callers(Random random) {
    List<Object> claimValues = List.of("x", "y", "xz", "true", true, List.of("y"));
    List<Caller> callers = new ArrayList<>();
    for (int n = 1 + random.nextInt(4); callers.size() < n; ) {
      Map<String, Object> claims = new HashMap<>();
      if (present(random)) {
        claims.put("a", pick(random, claimValues));
      }
      callers.add(new Caller(pick(random, List.of("gitlab", "humans", "other")), "s", claims));
    }
    return callers;
  }

  /** Routes on named and numbered projects, in express mode, naming Google, partner, tuned or no models. */
  private static List<Route> routes(Random random, int max) {
    List<VertexMethod> methods = CATALOG.methods();
    List<Route> routes = new ArrayList<>();
    for (int n = 1 + random.nextInt(max); routes.size() < n; ) {
      VertexMethod m = pick(random, methods);
      String project = pick(random, List.of("p1", "p2", "q", "123"));
      String location = pick(random, List.of("l1", "l2", "global"));
      String model = pick(random, List.of("/publishers/google/models/flash", "/publishers/google/models/gemini-2",
          "/publishers/acme/models/c-1", "/publishers/evil/models/flash", "/models/tuned-1", "/endpoints/42", ""));
      routes.add(random.nextInt(4) == 0
          ? new Route(m, model.isEmpty() ? "publishers/google/models/flash" : model.substring(1), null, "global", false)
          : new Route(m, "projects/" + project + "/locations/" + location + model, project, location, false));
    }
    return routes;
  }

  private static boolean present(Random random) {
    return random.nextDouble() < PRESENT;
  }

  private static <T> T pick(Random random, List<T> values) {
    return values.get(random.nextInt(values.size()));
  }
}

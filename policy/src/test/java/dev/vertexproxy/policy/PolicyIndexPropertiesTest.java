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
 * The method index is an optimisation only: its decisions must equal a plain scan over every rule in file order.
 *
 * <p>Policies, callers and routes come from a {@link Random} with a fixed seed, so a failure repeats on every run; the
 * failure message names the seed, the try and the generated policy, caller and route.
 */
class PolicyIndexPropertiesTest {
  private static final List<String> REASON_BY_STAGE = List.of(Reasons.ISSUER_NOT_TRUSTED, Reasons.IDENTITY_NOT_MATCHED,
      Reasons.METHOD_NOT_GRANTED, Reasons.PROJECT_NOT_GRANTED, Reasons.LOCATION_NOT_GRANTED,
      Reasons.RESOURCE_NOT_GRANTED);
  /**
   * Probability that an optional part (a claim, a resource constraint) is present. At one half, enough generated
   * rules match for allows and deny-rule hits to be common, not just refusals (see the coverage check).
   */
  private static final double PRESENT = 0.5;

  @Test
  void indexedDecisionEqualsNaiveScan() throws Exception {
    long seed = 0x5EED_0101L;
    Random random = new Random(seed);
    Map<String, Integer> outcomes = new TreeMap<>();
    for (int i = 0; i < 400; i++) {
      String yaml = policy(random);
      List<Caller> callers = callers(random);
      List<Route> routes = routes(random);
      Policy policy = Policy.parse(yaml, "generated.yaml", CATALOG, null);
      for (Caller caller : callers) {
        for (Route route : routes) {
          Decision indexed = policy.decide(caller, route);
          Decision naive = naiveScan(policy.rules(), caller, route);
          outcomes.merge(naive.reason(), 1, Integer::sum);
          assertThat(List.of(indexed.allowed(), String.valueOf(indexed.rule()), indexed.reason(),
              String.valueOf(indexed.serviceAccount())))
              .as("seed %d, try %d\n%s\n%s\n%s", seed, i, yaml, caller, route)
              .isEqualTo(List.of(naive.allowed(), String.valueOf(naive.rule()), naive.reason(),
                  String.valueOf(naive.serviceAccount())));
        }
      }
    }
    // Every kind of decision came up, so each branch of the index was compared with the scan.
    List<String> kinds = new ArrayList<>(REASON_BY_STAGE);
    kinds.add(Reasons.ALLOWED);
    kinds.add(Reasons.DENIED_BY_RULE);
    assertThat(outcomes).as("decisions with seed %d", seed).containsKeys(kinds.toArray(String[]::new));
  }

  /** The semantics stated plainly: first matching deny, else first matching allow, else the furthest allow miss. */
  private static Decision naiveScan(List<Rule> rules, Caller caller, Route route) {
    for (Rule r : rules) {
      if (r.effect() == Rule.Effect.DENY && r.mismatch(caller, route) == null) {
        return new Decision(false, r.name(), Reasons.DENIED_BY_RULE, null, "");
      }
    }
    for (Rule r : rules) {
      if (r.effect() == Rule.Effect.ALLOW && r.mismatch(caller, route) == null) {
        return new Decision(true, r.name(), Reasons.ALLOWED, r.serviceAccount(), "");
      }
    }
    int furthest = 0;
    for (Rule r : rules) {
      if (r.effect() == Rule.Effect.ALLOW) {
        String failed = r.mismatch(caller, route);
        int stage = switch (failed) {
          case Rule.ISSUER -> 0;
          case Rule.METHODS -> 2;
          case Rule.PROJECTS -> 3;
          case Rule.LOCATIONS -> 4;
          case Rule.NAMES -> 5;
          default -> 1; // subject or a claim
        };
        furthest = Math.max(furthest, stage);
      }
    }
    return new Decision(false, null, REASON_BY_STAGE.get(furthest), null, "");
  }

  /** A policy file of zero to eight generated rules named r0, r1... */
  private static String policy(Random random) {
    int count = random.nextInt(9);
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
      claimEntries.add("a: " + claimValue(random));
    }
    if (present(random)) {
      claimEntries.add("b: " + claimValue(random));
    }
    String cl = claimEntries.isEmpty() ? "" : ", claims: {" + String.join(", ", claimEntries) + "}";
    List<String> methodChoices = new ArrayList<>(List.of("customJobs.create", "customJobs.get", "\"customJobs.*\"",
        "\"customJobs.**\"", "models.upload", "endpoints.predict", "\"publishers.models.*\"",
        "aiplatform.publishers.models.generateContent"));
    Collections.shuffle(methodChoices, random);
    String m = "[" + String.join(", ", methodChoices.subList(0, 1 + random.nextInt(3))) + "]";
    List<String> resourceEntries = new ArrayList<>();
    if (present(random)) {
      resourceEntries.add("projects: " + pick(random, List.of("p1", "p2", "\"p*\"", "[p1, p2]")));
    }
    if (present(random)) {
      resourceEntries.add("locations: " + pick(random, List.of("l1", "l2", "global")));
    }
    if (present(random)) {
      resourceEntries.add("names: " + pick(random,
          List.of("\"projects/p1/**\"", "\"projects/*/locations/l1\"", "\"publishers/**\"")));
    }
    String res = resourceEntries.isEmpty() ? "" : "    resources: {" + String.join(", ", resourceEntries) + "}\n";
    boolean withIdentity = random.nextBoolean();
    boolean withMethods = random.nextBoolean();
    if (isAllow) {
      return "    effect: allow\n    identity: {issuer: " + iss + cl + "}\n    methods: " + m + "\n" + res
          + "    service_account: sa-" + Math.abs(m.hashCode() % 100) + "x@p-123456.iam.gserviceaccount.com\n";
    }
    boolean identity = withIdentity || !withMethods;
    String idBlock = cl.isEmpty() ? "{issuer: " + iss + "}" : "{" + cl.substring(2) + "}";
    return "    effect: deny\n" + (identity ? "    identity: " + idBlock + "\n" : "")
        + (withMethods ? "    methods: " + m + "\n" : "") + res;
  }

  /** Claim values as a policy writes them; {@code y} is quoted, since unquoted it is a YAML 1.1 boolean and refused. */
  private static String claimValue(Random random) {
    return pick(random, List.of("x", "\"y\"", "x/y", "\"x/*\"", "\"**\"", "[x, \"y\"]", "true", "\"?\""));
  }

  /** One to four callers from gitlab, humans or an unknown issuer, with claims of assorted types. */
  private static List<Caller> callers(Random random) {
    List<Object> claimValues = List.of("x", "y", "x/y", "true", true, 7L, List.of("y", "x/y"), List.of());
    List<Caller> callers = new ArrayList<>();
    for (int n = 1 + random.nextInt(4); callers.size() < n; ) {
      String issuer = pick(random, List.of("gitlab", "humans", "other"));
      Map<String, Object> claims = new HashMap<>();
      if (present(random)) {
        claims.put("a", pick(random, claimValues));
      }
      if (present(random)) {
        claims.put("b", pick(random, claimValues));
      }
      callers.add(new Caller(issuer, "s", claims));
    }
    return callers;
  }

  /** One to six routes for test-catalog methods, on projects and locations the rules do and do not name. */
  private static List<Route> routes(Random random) {
    List<VertexMethod> methods = CATALOG.methods();
    List<Route> routes = new ArrayList<>();
    for (int n = 1 + random.nextInt(6); routes.size() < n; ) {
      VertexMethod m = pick(random, methods);
      String project = pick(random, List.of("p1", "p2", "q"));
      boolean express = random.nextBoolean();
      String location = pick(random, List.of("l1", "l2", "global"));
      String suffix = pick(random, List.of("/x", "", "/endpoints/42"));
      routes.add(express
          ? new Route(m, "publishers/google/models/g", null, "global", false)
          : new Route(m, "projects/" + project + "/locations/" + location + suffix, project, location, false));
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

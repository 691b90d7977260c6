package dev.vertexproxy.policy;

import static dev.vertexproxy.policy.TestCatalog.CATALOG;
import static org.assertj.core.api.Assertions.assertThat;

import dev.vertexproxy.policy.catalog.VertexMethod;
import dev.vertexproxy.policy.route.Route;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** The method index is an optimisation only: its decisions must equal a plain scan over every rule in file order. */
class PolicyIndexProperties {
  private static final List<String> REASON_BY_STAGE = List.of(Reasons.ISSUER_NOT_TRUSTED, Reasons.IDENTITY_NOT_MATCHED,
      Reasons.METHOD_NOT_GRANTED, Reasons.PROJECT_NOT_GRANTED, Reasons.LOCATION_NOT_GRANTED,
      Reasons.RESOURCE_NOT_GRANTED);

  @Property(tries = 400)
  void indexedDecisionEqualsNaiveScan(@ForAll("policies") String yaml, @ForAll("callers") List<Caller> callers,
      @ForAll("routes") List<Route> routes) throws Exception {
    Policy policy = Policy.parse(yaml, "generated.yaml", CATALOG, null);
    for (Caller caller : callers) {
      for (Route route : routes) {
        Decision indexed = policy.decide(caller, route);
        Decision naive = naiveScan(policy.rules(), caller, route);
        assertThat(List.of(indexed.allowed(), String.valueOf(indexed.rule()), indexed.reason(),
            String.valueOf(indexed.serviceAccount())))
            .as("%s\n%s\n%s", yaml, caller, route)
            .isEqualTo(List.of(naive.allowed(), String.valueOf(naive.rule()), naive.reason(),
                String.valueOf(naive.serviceAccount())));
      }
    }
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

  @Provide
  Arbitrary<String> policies() {
    return rule().list().ofMinSize(0).ofMaxSize(8).map(rules -> {
      StringBuilder yaml = new StringBuilder(rules.isEmpty() ? "version: 1\nrules: []\n" : "version: 1\nrules:\n");
      for (int i = 0; i < rules.size(); i++) {
        yaml.append("  - name: r").append(i).append('\n').append(rules.get(i));
      }
      return yaml.toString();
    });
  }

  private Arbitrary<String> rule() {
    Arbitrary<Boolean> allow = Arbitraries.of(true, false);
    Arbitrary<String> issuer = Arbitraries.of("gitlab", "humans", "[gitlab, humans]");
    Arbitrary<String> claims = Combinators.combine(claimValue().optional(), claimValue().optional())
        .as((a, b) -> {
          List<String> entries = new ArrayList<>();
          a.ifPresent(v -> entries.add("a: " + v));
          b.ifPresent(v -> entries.add("b: " + v));
          return entries.isEmpty() ? "" : ", claims: {" + String.join(", ", entries) + "}";
        });
    Arbitrary<String> methods = Arbitraries.of("customJobs.create", "customJobs.get", "\"customJobs.*\"",
        "\"customJobs.**\"", "models.upload", "endpoints.predict", "\"publishers.models.*\"",
        "aiplatform.publishers.models.generateContent").list().ofMinSize(1).ofMaxSize(3).uniqueElements()
        .map(list -> "[" + String.join(", ", list) + "]");
    Arbitrary<String> resources = Combinators.combine(
        Arbitraries.of("p1", "p2", "\"p*\"", "[p1, p2]").optional(),
        Arbitraries.of("l1", "l2", "global").optional(),
        Arbitraries.of("\"projects/p1/**\"", "\"projects/*/locations/l1\"", "\"publishers/**\"").optional())
        .as((p, l, n) -> {
          List<String> entries = new ArrayList<>();
          p.ifPresent(v -> entries.add("projects: " + v));
          l.ifPresent(v -> entries.add("locations: " + v));
          n.ifPresent(v -> entries.add("names: " + v));
          return entries.isEmpty() ? "" : "    resources: {" + String.join(", ", entries) + "}\n";
        });
    Arbitrary<Boolean> denyHasIdentity = Arbitraries.of(true, false);
    Arbitrary<Boolean> denyHasMethods = Arbitraries.of(true, false);
    return Combinators.combine(allow, issuer, claims, methods, resources, denyHasIdentity, denyHasMethods)
        .as((isAllow, iss, cl, m, res, withIdentity, withMethods) -> {
          if (isAllow) {
            return "    effect: allow\n    identity: {issuer: " + iss + cl + "}\n    methods: " + m + "\n" + res
                + "    service_account: sa-" + Math.abs(m.hashCode() % 100) + "x@p-123456.iam.gserviceaccount.com\n";
          }
          boolean identity = withIdentity || !withMethods;
          String idBlock = cl.isEmpty() ? "{issuer: " + iss + "}" : "{" + cl.substring(2) + "}";
          return "    effect: deny\n" + (identity ? "    identity: " + idBlock + "\n" : "")
              + (withMethods ? "    methods: " + m + "\n" : "") + res;
        });
  }

  private Arbitrary<String> claimValue() {
    return Arbitraries.of("x", "y", "x/y", "\"x/*\"", "\"**\"", "[x, y]", "true", "\"?\"");
  }

  @Provide
  Arbitrary<List<Caller>> callers() {
    Arbitrary<Object> claim = Arbitraries.of("x", "y", "x/y", "true", true, 7L, List.of("y", "x/y"), List.of());
    return Combinators.combine(Arbitraries.of("gitlab", "humans", "other"), claim.optional(), claim.optional())
        .as((issuer, a, b) -> {
          Map<String, Object> claims = new HashMap<>();
          a.ifPresent(v -> claims.put("a", v));
          b.ifPresent(v -> claims.put("b", v));
          return new Caller(issuer, "s", claims);
        }).list().ofMinSize(1).ofMaxSize(4);
  }

  @Provide
  Arbitrary<List<Route>> routes() {
    List<VertexMethod> methods = CATALOG.methods();
    return Combinators.combine(Arbitraries.of(methods), Arbitraries.of("p1", "p2", "q"), Arbitraries.of(true, false),
        Arbitraries.of("l1", "l2", "global"), Arbitraries.of("/x", "", "/endpoints/42"))
        .as((m, project, express, location, suffix) -> express
            ? new Route(m, "publishers/google/models/g", null, "global", false)
            : new Route(m, "projects/" + project + "/locations/" + location + suffix, project, location, false))
        .list().ofMinSize(1).ofMaxSize(6);
  }
}

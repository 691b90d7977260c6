package dev.vertexproxy.bench;

import dev.vertexproxy.policy.Caller;
import dev.vertexproxy.policy.Decision;
import dev.vertexproxy.policy.Policy;
import dev.vertexproxy.policy.PolicyException;
import dev.vertexproxy.policy.catalog.MethodCatalog;
import dev.vertexproxy.policy.route.Route;
import dev.vertexproxy.policy.route.RouteException;
import dev.vertexproxy.policy.route.Router;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A decision runs on the event loop for every authenticated request. The per-caller view of the rules keeps it flat
 * as the policy grows: compare {@code rules=100} with {@code rules=10000}. Each team rule accepts one team's jobs, so
 * the callers here, like real ones, match one rule or none; the view is built on a caller's first request
 * ({@link #firstRequest} measures that, and is linear in the rules of the caller's issuer).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
// A fixed, pre-touched heap: otherwise a 10,000-rule run measures the kernel zeroing fresh heap pages (no GC happens
// for seconds in the default 6 GiB heap) and the first collections copying the whole policy, not the decision.
@Fork(value = 1, jvmArgsAppend = {"-Xms2g", "-Xmx2g", "-XX:+AlwaysPreTouch"})
@State(Scope.Benchmark)
public class PolicyBenchmark {
  @Param({"10", "100", "1000", "10000"})
  int rules;

  private Policy policy;
  private Route route;
  private Route otherProject;
  private Route otherModel;
  private Caller allowed;
  private Caller predictOnly;
  private Caller stranger;

  @Setup
  public void setUp() throws PolicyException, RouteException {
    StringBuilder yaml = new StringBuilder("version: 1\nrules:\n");
    String[] methods = {"customJobs.create", "endpoints.predict", "models.upload", "publishers.models.countTokens"};
    for (int i = 0; i < rules; i++) {
      boolean generates = i % 7 == 0;
      yaml.append("  - name: team-").append(i).append("\n    effect: allow\n    identity:\n      issuer: gitlab\n")
          .append("      claims:\n        project_path: acme/team-").append(i).append("/*\n        ref_protected: \"true\"\n")
          .append("    methods: [").append(methods[i % methods.length])
          .append(generates ? ", publishers.models.generateContent" : "").append("]\n")
          .append("    resources:\n      projects: [acme-").append(i).append("]\n      locations: [us-central1]\n")
          .append(generates ? "    models: [gemini-2.0-flash, \"gemini-2.5-flash*\"]\n" : "")
          .append("    service_account: sa-").append(i).append("@acme-").append(i).append(".iam.gserviceaccount.com\n");
    }
    yaml.append("  - name: blocked\n    effect: deny\n    identity:\n      issuer: gitlab\n")
        .append("      claims:\n        user_login: mallory\n");
    MethodCatalog catalog = MethodCatalog.bundled();
    policy = Policy.parse(yaml.toString(), "bench.yaml", catalog, Set.of("gitlab"));
    Router router = new Router(catalog);
    String models = "/v1/projects/acme-0/locations/us-central1/publishers/google/models/";
    route = router.route("POST", models + "gemini-2.0-flash:generateContent");
    otherModel = router.route("POST", models + "gemini-2.5-pro:generateContent");
    otherProject = router.route("POST",
        "/v1/projects/acme-9/locations/us-central1/publishers/google/models/gemini-2.0-flash:generateContent");
    allowed = new Caller("gitlab", "project_path:acme/team-0/app", Map.of(
        "project_path", "acme/team-0/app", "ref_protected", "true", "user_login", "alice"));
    predictOnly = new Caller("gitlab", "project_path:acme/team-1/app", Map.of(
        "project_path", "acme/team-1/app", "ref_protected", "true", "user_login", "carol"));
    stranger = new Caller("gitlab", "project_path:other/app", Map.of(
        "project_path", "other/app", "ref_protected", "false", "user_login", "bob"));
    // the policy lives as long as the process, as in the proxy: promote it before measuring, so a young collection
    // during the measurement does not copy it, which would charge its size to the decisions
    System.gc();
  }

  /** Allowed by the caller's one rule. */
  @Benchmark
  public Decision allow() {
    return policy.decide(allowed, route);
  }

  /** The identity matches no rule: identity-not-matched, naming the closest rule and the claim that differs. */
  @Benchmark
  public Decision defaultDeny() {
    return policy.decide(stranger, route);
  }

  /** The identity matches a rule that does not grant the method: method-not-granted. */
  @Benchmark
  public Decision methodNotGranted() {
    return policy.decide(predictOnly, route);
  }

  /** The worst explanation: the caller's rule grants the method and project, and only the model is not granted. */
  @Benchmark
  public Decision explainModelNotGranted() {
    return policy.decide(allowed, otherModel);
  }

  /** The caller's rule grants the method, not the project: project-not-granted naming the closest rule. */
  @Benchmark
  public Decision explainProjectNotGranted() {
    return policy.decide(allowed, otherProject);
  }

  /** A caller's first request (a new Caller instance each time, as the CLI makes): builds its view. */
  @Benchmark
  public Decision firstRequest() {
    return policy.decide(new Caller(stranger.issuer(), stranger.subject(), stranger.claims()), route);
  }
}

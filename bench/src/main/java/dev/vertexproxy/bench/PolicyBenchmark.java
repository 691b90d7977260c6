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
 * A decision runs on the event loop for every authenticated request. The index by method keeps it flat as the
 * policy grows: compare {@code rules=10} with {@code rules=1000}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Benchmark)
public class PolicyBenchmark {
  @Param({"10", "1000"})
  int rules;

  private Policy policy;
  private Route route;
  private Caller allowed;
  private Caller stranger;

  @Setup
  public void setUp() throws PolicyException, RouteException {
    StringBuilder yaml = new StringBuilder("version: 1\nrules:\n");
    String[] methods = {"customJobs.create", "endpoints.predict", "models.upload", "publishers.models.countTokens"};
    for (int i = 0; i < rules; i++) {
      yaml.append("  - name: team-").append(i).append("\n    effect: allow\n    identity:\n      issuer: gitlab\n")
          .append("      claims:\n        project_path: acme/team-").append(i).append("/*\n        ref_protected: \"true\"\n")
          .append("    methods: [").append(methods[i % methods.length])
          .append(i % 7 == 0 ? ", publishers.models.generateContent" : "").append("]\n")
          .append("    resources:\n      projects: [acme-").append(i).append("]\n      locations: [us-central1]\n")
          .append("    service_account: sa-").append(i).append("@acme-").append(i).append(".iam.gserviceaccount.com\n");
    }
    yaml.append("  - name: blocked\n    effect: deny\n    identity:\n      issuer: gitlab\n")
        .append("      claims:\n        user_login: mallory\n");
    MethodCatalog catalog = MethodCatalog.bundled();
    policy = Policy.parse(yaml.toString(), "bench.yaml", catalog, Set.of("gitlab"));
    route = new Router(catalog).route("POST",
        "/v1/projects/acme-0/locations/us-central1/publishers/google/models/gemini-2.0-flash:generateContent");
    allowed = new Caller("gitlab", "project_path:acme/team-0/app", Map.of(
        "project_path", "acme/team-0/app", "ref_protected", "true", "user_login", "alice"));
    stranger = new Caller("gitlab", "project_path:other/app", Map.of(
        "project_path", "other/app", "ref_protected", "false", "user_login", "bob"));
  }

  @Benchmark
  public Decision allow() {
    return policy.decide(allowed, route);
  }

  @Benchmark
  public Decision defaultDeny() {
    return policy.decide(stranger, route);
  }
}

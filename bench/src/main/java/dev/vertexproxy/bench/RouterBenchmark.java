package dev.vertexproxy.bench;

import dev.vertexproxy.policy.catalog.MethodCatalog;
import dev.vertexproxy.policy.route.Route;
import dev.vertexproxy.policy.route.RouteException;
import dev.vertexproxy.policy.route.Router;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Routing runs on the event loop for every request. Target (docs/benchmarks.md): well under 2 µs per request on the
 * reference machine, and independent of the catalog's size (2,315 methods).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Benchmark)
public class RouterBenchmark {
  private final Router router = new Router(MethodCatalog.bundled());

  @Benchmark
  public Route generateContent() throws RouteException {
    return router.route("POST",
        "/v1/projects/acme-ml-prod/locations/us-central1/publishers/google/models/gemini-2.0-flash:generateContent");
  }

  @Benchmark
  public Route streamWithQuery() throws RouteException {
    return router.route("POST",
        "/v1beta1/projects/acme-ml-prod/locations/us-central1/publishers/google/models/gemini-2.0-flash"
            + ":streamGenerateContent?alt=sse");
  }

  @Benchmark
  public Route deepOperation() throws RouteException {
    return router.route("GET",
        "/v1/projects/acme-ml-prod/locations/us-central1/featureOnlineStores/s1/featureViews/v1/featureViewSyncs/42");
  }

  @Benchmark
  public String refusedDotSegment() {
    try {
      return router.route("POST", "/v1/projects/p/locations/l/publishers/google/models/%2e%2e/x:generateContent").resource();
    } catch (RouteException e) {
      return e.reason();
    }
  }
}

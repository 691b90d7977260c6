package dev.vertexproxy.bench;

import dev.vertexproxy.proxy.admin.ProxyMetrics;
import dev.vertexproxy.proxy.reason.Outcome;
import dev.vertexproxy.proxy.reason.Reason;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What recording one finished exchange costs on the event loop: {@code exchange} is {@link ProxyMetrics#exchange}
 * (meters cached per key: a counter, a per-reason counter, three histograms); {@code builderPerCall} is how a single
 * timer was recorded before, looked up through Micrometer's builder and registry on every call, for comparison.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@Threads(2)
@State(Scope.Benchmark)
public class MetricsBenchmark {
  private static final String METHOD = "publishers.models.generateContent";

  private ProxyMetrics metrics;
  private PrometheusMeterRegistry registry;

  @Setup
  public void setUp() {
    metrics = new ProxyMetrics(List.of("gitlab"));
    registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  }

  @TearDown
  public void tearDown() {
    metrics.close();
  }

  @Benchmark
  public void exchange() {
    metrics.exchange(METHOD, "allow", Reason.ALLOWED, Outcome.ALLOWED, 200, 3_000_000, 40_000, 2_000_000);
  }

  @Benchmark
  public void builderPerCall() {
    Timer.builder("vertex_proxy_requests").description("Exchanges by Vertex method, decision, outcome, reason and status")
        .tag("method", METHOD).tag("decision", "allow").tag("outcome", "allowed").tag("reason", "allowed")
        .tag("status", Integer.toString(200)).register(registry).record(Duration.ofNanos(3_000_000));
  }
}

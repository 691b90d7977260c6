package dev.vertexproxy.proxy.admin;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.ToDoubleFunction;

/**
 * The one place that defines every metric name and its tags. Tags come from a small closed set ({@code method} — a
 * catalog method name or {@code none}, {@code decision}, {@code outcome}, {@code reason}, {@code status}); never a
 * subject, token or resource id. Thread-safe.
 */
public final class ProxyMetrics {
  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final AtomicLong inFlight = new AtomicLong();
  private final AtomicLong connections = new AtomicLong();

  public ProxyMetrics() {
    Gauge.builder("vertex_proxy_exchanges_in_flight", inFlight, AtomicLong::get)
        .description("Exchanges currently being served").register(registry);
    Gauge.builder("vertex_proxy_connections_open", connections, AtomicLong::get)
        .description("Open caller connections").register(registry);
  }

  /** One finished exchange; {@code reason} and {@code outcome} come from the closed reason catalog. */
  public void exchange(String method, String decision, String reason, String outcome, int status, Duration duration) {
    Timer.builder("vertex_proxy_requests")
        .description("Exchanges by Vertex method, decision, outcome, reason and status")
        .tag("method", method == null ? "none" : method)
        .tag("decision", decision == null ? "none" : decision)
        .tag("outcome", outcome == null ? "none" : outcome)
        .tag("reason", reason == null ? "none" : reason)
        .tag("status", Integer.toString(status))
        .register(registry)
        .record(duration);
  }

  public void googleTokenFetch(String outcome) {
    Counter.builder("vertex_proxy_google_token_fetches").tag("outcome", outcome).register(registry).increment();
  }

  /** A connection to Vertex could not be opened (or its TLS handshake failed). */
  public void upstreamConnectFailure() {
    Counter.builder("vertex_proxy_upstream_connect_failures").register(registry).increment();
  }

  /** Connections to Vertex opened so far, read from the pool itself (reuse of a pooled connection does not count). */
  public <T> void upstreamConnectionsOpened(T pool, ToDoubleFunction<T> opened) {
    FunctionCounter.builder("vertex_proxy_upstream_connections_opened", pool, opened)
        .description("Connections to Vertex opened (pooled reuse does not count)").register(registry);
  }

  public void auditWrite(String outcome) {
    Counter.builder("vertex_proxy_audit_records").tag("outcome", outcome).register(registry).increment();
  }

  public AtomicLong inFlight() {
    return inFlight;
  }

  public AtomicLong connections() {
    return connections;
  }

  public String scrape() {
    return registry.scrape();
  }
}

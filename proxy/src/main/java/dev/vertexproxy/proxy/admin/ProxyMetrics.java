package dev.vertexproxy.proxy.admin;

import dev.vertexproxy.proxy.audit.AuditException;
import dev.vertexproxy.proxy.audit.AuditLog;
import dev.vertexproxy.proxy.credentials.GoogleTokenEvents;
import dev.vertexproxy.proxy.identity.KeyFetchEvents;
import dev.vertexproxy.proxy.policy.PolicyEvents;
import dev.vertexproxy.proxy.reason.Outcome;
import dev.vertexproxy.proxy.reason.Reason;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetric;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocatorMetric;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/**
 * The one place that defines every metric: its name, its tags and its HELP text. Components never see a registry;
 * they report through the small interfaces they were built with ({@link GoogleTokenEvents}, {@link KeyFetchEvents},
 * {@link AuditLog.Events}; {@link EventMeters} maps those events onto meters defined here; the policy's own meters are
 * in {@link PolicyMeters}, created here) or are read by gauges here, so state is never duplicated.
 *
 * <p>Tags come from closed sets only ({@link #TAG_KEYS}): {@code method} (a catalog method name, or {@code none} before
 * routing), {@code decision}, {@code outcome}, {@code reason} (the {@link Reason} catalog), {@code status}, the
 * configured issuer <em>name</em>, and small fixed vocabularies. Never a subject, token, project or resource id.
 *
 * <p>Cost: the per-exchange meters are resolved per method once and then found by array index ({@link ExchangeMeters}),
 * so recording an exchange allocates nothing once its series exist; histograms have explicit, modest bucket sets
 * (the {@code method} tag multiplies series, so only the total and upstream time-to-first-byte histograms carry it).
 * Thread-safe.
 */
public final class ProxyMetrics implements AutoCloseable {
  /** Every tag key a meter may carry: ours, and those of Micrometer's JVM and process binders. */
  public static final Set<String> TAG_KEYS = Set.of(
      // ours
      "method", "decision", "outcome", "reason", "status", "issuer", "result", "trigger", "kind", "version", "allocator",
      "memory",
      // Micrometer's JVM binders: memory pool, GC and thread-state names chosen by the JVM, not by any caller
      "area", "id", "action", "cause", "gc", "state");

  /** Total exchange time: up to the 300 s response timeout and a little past it (a stream that ran to the end). */
  private static final Duration[] TOTAL_BUCKETS = seconds(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
      60, 120, 300);
  /** Vertex's time to its response head: the model's think time, up to the response timeout. */
  private static final Duration[] TTFB_BUCKETS = TOTAL_BUCKETS;
  /** Admission: sub-millisecond when everything is cached, seconds when a JWKS or a Google token must be fetched. */
  private static final Duration[] ADMISSION_BUCKETS = seconds(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
      0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5);
  /** Audit write and fsync: microseconds to the seconds of a struggling disk. */
  private static final Duration[] DISK_BUCKETS = seconds(0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
      0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5);
  private static final double[] BATCH_BUCKETS = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096};

  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final AtomicLong inFlight = new AtomicLong();
  private final AtomicLong streams = new AtomicLong();
  private final AtomicLong connections = new AtomicLong();
  private final JvmGcMetrics gc = new JvmGcMetrics();

  private final ExchangeMeters exchanges = new ExchangeMeters(registry, TOTAL_BUCKETS, TTFB_BUCKETS, ADMISSION_BUCKETS);
  private final Counter upstreamConnectFailures;
  private final EventMeters.GoogleTokens googleTokens;
  private final Map<String, Counter[]> jwks = new ConcurrentHashMap<>();
  private final EventMeters.Audit audit;
  private final PolicyMeters policy;

  /** Metrics without issuers (tests that build parts of the proxy). */
  public ProxyMetrics() {
    this(List.of());
  }

  /**
   * Registers every meter whose tag values are known now at zero, so a counter exists (and reads 0) from start-up:
   * one per reason, per issuer name and fetch outcome, per audit failure kind, per reload result and trigger, and the requests
   * that end before routing knows a method.
   *
   * @param issuerNames the configured issuers' names (a closed set: the {@code issuer} tag of JWKS fetches)
   */
  public ProxyMetrics(Collection<String> issuerNames) {
    Gauge.builder("vertex_proxy_exchanges_in_flight", inFlight, AtomicLong::get)
        .description("Exchanges being served: from the request head until the exchange is recorded").register(registry);
    Gauge.builder("vertex_proxy_streams_in_flight", streams, AtomicLong::get)
        .description("Server-sent event streams from Vertex being relayed to callers right now").register(registry);
    Gauge.builder("vertex_proxy_connections_open", connections, AtomicLong::get)
        .description("Open caller connections").register(registry);
    for (Reason r : Reason.values()) {
      if (endsBeforeRouting(r)) {
        exchanges.request(null, "deny", Outcome.of(r, false), r, r.httpStatus());
      }
    }
    upstreamConnectFailures = Counter.builder("vertex_proxy_upstream_connect_failures")
        .description("Connections to Vertex that could not be opened (connect or TLS handshake failed)").register(registry);
    googleTokens = new EventMeters.GoogleTokens(Counter.builder("vertex_proxy_google_token_cache_hits")
        .description("Google token requests answered from the cache (or joined to a fetch under way)").register(registry),
        Counter.builder("vertex_proxy_google_token_cache_misses")
            .description("Google token requests that found no usable cached token and started a fetch").register(registry),
        tokenFetches("success"), tokenFetches("failure"));
    for (String issuer : issuerNames) {
      jwksCounters(issuer);
    }
    Counter auditWritten = Counter.builder("vertex_proxy_audit_records_written")
        .description("Audit records written to the trail (and synced as audit.durability says)").register(registry);
    Map<AuditException.Kind, Counter> auditFailures = new EnumMap<>(AuditException.Kind.class);
    for (AuditException.Kind k : AuditException.Kind.values()) {
      auditFailures.put(k, Counter.builder("vertex_proxy_audit_failures")
          .description("Audit records that could not be written, by kind: queue-full, closed, write-failed")
          .tag("kind", k.name().toLowerCase(Locale.ROOT).replace('_', '-')).register(registry));
    }
    audit = new EventMeters.Audit(auditWritten, auditFailures,
        DistributionSummary.builder("vertex_proxy_audit_batch_records")
            .description("Records per audit write batch (one write and at most one fsync each)")
            .serviceLevelObjectives(BATCH_BUCKETS).register(registry),
        Timer.builder("vertex_proxy_audit_write")
            .description("Time to write one audit batch to the file, before any fsync")
            .serviceLevelObjectives(DISK_BUCKETS).register(registry),
        Timer.builder("vertex_proxy_audit_fsync")
            .description("Time of the fsync after an audit batch (absent with audit.durability: none)")
            .serviceLevelObjectives(DISK_BUCKETS).register(registry),
        Counter.builder("vertex_proxy_audit_checkpoints").description("Signed checkpoints in the trail").register(registry),
        Counter.builder("vertex_proxy_audit_export_failures")
            .description("Audit lines lost on the way to stdout or the checkpoint file (the trail has them)").register(registry));
    policy = new PolicyMeters(registry, registry.getPrometheusRegistry());
    new JvmMemoryMetrics().bindTo(registry);
    gc.bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ClassLoaderMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    new FileDescriptorMetrics().bindTo(registry);
    nettyAllocator();
  }

  /** Guard and route refusals: routing has not named a method yet, so these series are known at start-up. */
  private static boolean endsBeforeRouting(Reason r) {
    return switch (r) {
      case REQUEST_MALFORMED, URI_TOO_LONG, HEADERS_TOO_LARGE, BODY_TOO_LARGE, EXPECTATION_UNSUPPORTED,
          TRANSFER_ENCODING_UNSUPPORTED, CONNECTION_HEADER_INVALID, METHOD_OVERRIDE_NOT_ALLOWED, AUDIT_UNAVAILABLE,
          ROUTE_NOT_FOUND, PATH_NOT_CANONICAL, QUERY_NOT_ALLOWED, LOCATION_INVALID -> true;
      default -> false;
    };
  }

  // ---- exchanges ---------------------------------------------------------------------------------------------

  /**
   * One finished exchange, {@code decision} being {@code allow}, {@code deny} or {@code null} (none was taken).
   * {@code admissionNanos} is head-to-verdict ({@code -1}: it ended before admission decided),
   * {@code firstByteNanos} head-to-Vertex's-response-head ({@code -1}: never relayed, or no answer came).
   */
  public void exchange(String method, String decision, Reason reason, Outcome outcome, int status, long totalNanos,
      long admissionNanos, long firstByteNanos) {
    exchanges.record(method, decision, reason, outcome, status, totalNanos, admissionNanos, firstByteNanos);
  }

  /** Exchanges in flight; the server also waits on it to drain. */
  public AtomicLong inFlight() {
    return inFlight;
  }

  /** Server-sent event streams being relayed. */
  public AtomicLong streams() {
    return streams;
  }

  public AtomicLong connections() {
    return connections;
  }

  // ---- upstream ----------------------------------------------------------------------------------------------

  /** A connection to Vertex could not be opened (or its TLS handshake failed). */
  public void upstreamConnectFailure() {
    upstreamConnectFailures.increment();
  }

  /** Connections to Vertex opened and pooled connections reused, read from the pool itself. */
  public <T> void upstreamConnections(T pool, ToDoubleFunction<T> opened, ToDoubleFunction<T> reused) {
    FunctionCounter.builder("vertex_proxy_upstream_connections_opened", pool, opened)
        .description("Connections to Vertex opened (pooled reuse does not count)").register(registry);
    FunctionCounter.builder("vertex_proxy_upstream_connections_reused", pool, reused)
        .description("Exchanges that were given an idle pooled connection to Vertex instead of a new one")
        .register(registry);
  }

  // ---- Google tokens -----------------------------------------------------------------------------------------

  private Counter tokenFetches(String outcome) {
    return Counter.builder("vertex_proxy_google_token_fetches")
        .description("Requests to Google for an access token (first fetches and background refreshes), by outcome")
        .tag("outcome", outcome).register(registry);
  }

  /** What the Google token stack reports to. */
  public GoogleTokenEvents googleTokens() {
    return googleTokens;
  }

  /**
   * Seconds until the cached Google token that expires first does, read from the cache at scrape time ({@code NaN}
   * while none is cached). An alert below {@code credentials.refresh_before} means refreshes are failing.
   */
  public void googleTokenExpiry(Supplier<Instant> earliestExpiry, Clock clock) {
    Gauge.builder("vertex_proxy_google_token_earliest_expiry", () -> {
      Instant at = earliestExpiry.get();
      return at == null ? Double.NaN : Duration.between(clock.instant(), at).toMillis() / 1000.0;
    }).baseUnit("seconds").description("Seconds until the cached Google token that expires first does (NaN: none cached)")
        .register(registry);
  }

  // ---- identity ----------------------------------------------------------------------------------------------

  private Counter[] jwksCounters(String issuer) {
    return jwks.computeIfAbsent(issuer, i -> new Counter[] {
        Counter.builder("vertex_proxy_jwks_fetches")
            .description("Discovery and JWKS fetches per configured issuer name, by outcome")
            .tag("issuer", i).tag("outcome", "success").register(registry),
        Counter.builder("vertex_proxy_jwks_fetches")
            .description("Discovery and JWKS fetches per configured issuer name, by outcome")
            .tag("issuer", i).tag("outcome", "failure").register(registry)});
  }

  /** What the issuers' key sources report to. */
  public KeyFetchEvents jwksFetches() {
    return (issuer, ok) -> jwksCounters(issuer)[ok ? 0 : 1].increment();
  }

  // ---- audit -------------------------------------------------------------------------------------------------

  /** What the audit log reports to. */
  public AuditLog.Events audit() {
    return audit;
  }

  /** The audit queue's depth, read at scrape time. */
  public void auditQueue(AuditLog log) {
    Gauge.builder("vertex_proxy_audit_queue_depth", log, AuditLog::queueDepth)
        .description("Audit records waiting for the writer thread (appends fail fast once the queue is full)")
        .register(registry);
  }

  // ---- policy ------------------------------------------------------------------------------------------------

  /** What the policy in force reports to ({@link PolicyMeters} defines its meters). */
  public PolicyEvents policy() {
    return policy;
  }

  // ---- Netty ---------------------------------------------------------------------------------------------------

  private void nettyAllocator() {
    if (ByteBufAllocator.DEFAULT instanceof ByteBufAllocatorMetricProvider p) {
      allocatorMemory("default", p.metric());
    }
    PooledByteBufAllocatorMetric pooled = PooledByteBufAllocator.DEFAULT.metric();
    if (ByteBufAllocator.DEFAULT != PooledByteBufAllocator.DEFAULT) {
      allocatorMemory("pooled", pooled);
    }
    Gauge.builder("netty_pooled_allocator_arenas", pooled, PooledByteBufAllocatorMetric::numHeapArenas).tag("memory", "heap")
        .description("Arenas of Netty's pooled allocator").register(registry);
    Gauge.builder("netty_pooled_allocator_arenas", pooled, PooledByteBufAllocatorMetric::numDirectArenas)
        .tag("memory", "direct").description("Arenas of Netty's pooled allocator").register(registry);
    Gauge.builder("netty_pooled_allocator_thread_local_caches", pooled, PooledByteBufAllocatorMetric::numThreadLocalCaches)
        .description("Thread-local caches of Netty's pooled allocator").register(registry);
  }

  private void allocatorMemory(String allocator, ByteBufAllocatorMetric metric) {
    Gauge.builder("netty_allocator_used_memory", metric, ByteBufAllocatorMetric::usedHeapMemory).baseUnit("bytes")
        .tags(Tags.of("allocator", allocator, "memory", "heap"))
        .description("Memory held by a Netty buffer allocator (default: the one the proxy's channels use)")
        .register(registry);
    Gauge.builder("netty_allocator_used_memory", metric, ByteBufAllocatorMetric::usedDirectMemory).baseUnit("bytes")
        .tags(Tags.of("allocator", allocator, "memory", "direct"))
        .description("Memory held by a Netty buffer allocator (default: the one the proxy's channels use)")
        .register(registry);
  }

  // ---- exposition ----------------------------------------------------------------------------------------------

  /** Every meter registered so far (for the tests that check names, tags and HELP texts). */
  public List<Meter> meters() {
    return registry.getMeters();
  }

  /** The Prometheus text exposition of every meter. */
  public String scrape() {
    return registry.scrape();
  }

  /** Unhooks the GC listener. */
  @Override
  public void close() {
    gc.close();
  }

  private static Duration[] seconds(double... values) {
    Duration[] out = new Duration[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = Duration.ofNanos(Math.round(values[i] * 1e9));
    }
    return out;
  }
}

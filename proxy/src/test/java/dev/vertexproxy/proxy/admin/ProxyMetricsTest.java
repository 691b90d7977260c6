package dev.vertexproxy.proxy.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;

import dev.vertexproxy.proxy.audit.AuditException;
import dev.vertexproxy.proxy.audit.AuditLog;
import dev.vertexproxy.proxy.audit.TestEvents;
import dev.vertexproxy.proxy.config.AuditConfig;
import dev.vertexproxy.proxy.policy.PolicyInForce;
import dev.vertexproxy.proxy.reason.Outcome;
import dev.vertexproxy.proxy.reason.Reason;
import dev.vertexproxy.proxy.testing.Examples;
import dev.vertexproxy.proxy.testing.PrometheusText;
import dev.vertexproxy.proxy.testing.PrometheusText.Family;
import dev.vertexproxy.proxy.testing.PrometheusText.Sample;
import io.micrometer.core.instrument.Meter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The metric definitions as an operator meets them: every meter explains itself, every family is in the operations
 * guide's table, tags come from the closed allow-list, counters exist at zero from start-up, and the latency histograms
 * have the buckets {@code histogram_quantile} needs.
 */
class ProxyMetricsTest {
  static final String GUIDE = "docs/operations.md";

  @TempDir
  Path tmp;

  private ProxyMetrics metrics;
  private AuditLog audit;
  private final Clock clock = Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC);

  @BeforeEach
  void start() throws Exception {
    // everything ProxyServer registers, the way it does
    metrics = new ProxyMetrics(List.of("gitlab", "gitlab-self-managed"));
    metrics.policy().inForce("sha256:aaaa", clock.instant());
    audit = AuditLog.open(new AuditConfig(tmp.resolve("audit"), null, null), clock, metrics.audit());
    metrics.auditQueue(audit);
    metrics.googleTokenExpiry(() -> clock.instant().plusSeconds(1800), clock);
    metrics.upstreamConnections(new long[] {3, 5}, p -> p[0], p -> p[1]);
  }

  @AfterEach
  void stop() {
    audit.close();
    metrics.close();
  }

  @Test
  void everyMeterSaysWhatItCountsAndCarriesOnlyAllowedTagKeys() {
    metrics.exchange("publishers.models.generateContent", "allow", Reason.ALLOWED, Outcome.ALLOWED, 200, 1_000_000,
        100_000, 500_000);
    for (Meter m : metrics.meters()) {
      assertThat(m.getId().getDescription()).as("HELP text of %s", m.getId()).isNotBlank();
      for (var tag : m.getId().getTags()) {
        assertThat(tag.getKey()).as("tag key of %s", m.getId().getName()).isIn(ProxyMetrics.TAG_KEYS);
      }
    }
    PrometheusText text = PrometheusText.parse(metrics.scrape());
    for (Family f : text.families().values()) {
      assertThat(f.help()).as("# HELP of %s", f.name()).isNotBlank();
      for (Sample s : f.samples()) {
        Set<String> keys = new TreeSet<>(s.labels().keySet());
        keys.remove("le");
        assertThat(keys).as("labels of %s", s.name()).isSubsetOf(ProxyMetrics.TAG_KEYS);
      }
    }
  }

  @Test
  void everyFamilyIsInTheOperationsGuideAndEveryOneOfOursThereExists() throws Exception {
    metrics.exchange("publishers.models.generateContent", "allow", Reason.ALLOWED, Outcome.ALLOWED, 200, 1_000_000,
        100_000, 500_000);
    audit.append(TestEvents.allowed(1)).get();
    Set<String> documented = documentedFamilies();
    Set<String> exposed = new TreeSet<>(PrometheusText.parse(metrics.scrape()).families().keySet());
    // Micrometer adds a {name}_max gauge beside every histogram: documented with its histogram
    exposed.removeIf(n -> n.endsWith("_max") && documented.contains(n.substring(0, n.length() - 4)));
    assertThat(documented).as("families in the %s metrics table", GUIDE).containsAll(exposed);
    Set<String> ours = new TreeSet<>(documented);
    ours.removeIf(n -> !n.startsWith("vertex_proxy_") && !n.startsWith("netty_"));
    assertThat(exposed).as("the proxy's own families the guide lists").containsAll(ours);
  }

  @Test
  void atStartUpEveryCounterExistsAtZero() {
    PrometheusText text = PrometheusText.parse(metrics.scrape());
    for (String family : COUNTERS_FROM_START) {
      Family f = text.family(family);
      assertThat(f.type()).as(family).isEqualTo("counter");
      assertThat(f.samples()).as(family).isNotEmpty().allSatisfy(s -> assertThat(s.value()).as(s.toString()).isZero());
    }
    for (Reason r : Reason.values()) {
      assertThat(text.value("vertex_proxy_exchanges_total", "reason", r.code())).isZero();
    }
    assertThat(text.value("vertex_proxy_requests_total", "method", "none", "reason", "route-not-found", "status", "404",
        "decision", "deny", "outcome", "refused")).isZero();
    for (String issuer : List.of("gitlab", "gitlab-self-managed")) {
      assertThat(text.value("vertex_proxy_jwks_fetches_total", "issuer", issuer, "outcome", "success")).isZero();
      assertThat(text.value("vertex_proxy_jwks_fetches_total", "issuer", issuer, "outcome", "failure")).isZero();
    }
    assertThat(text.value("vertex_proxy_audit_failures_total", "kind", "queue-full")).isZero();
    assertThat(text.sum("vertex_proxy_policy_reloads_total", "result", "refused")).isZero();
    // function counters read their source: not zero here, by design
    assertThat(text.value("vertex_proxy_upstream_connections_opened_total")).isEqualTo(3);
    assertThat(text.value("vertex_proxy_upstream_connections_reused_total")).isEqualTo(5);
    assertThat(text.value("vertex_proxy_google_token_earliest_expiry_seconds")).isEqualTo(1800);
    assertThat(text.value("vertex_proxy_policy_info", "version", "sha256:aaaa")).isEqualTo(1);
  }

  @Test
  void latencyHistogramsHaveExplicitBucketsEndingInInfEqualToTheCount() {
    metrics.exchange("publishers.models.generateContent", "allow", Reason.ALLOWED, Outcome.ALLOWED, 200,
        Duration.ofMillis(700).toNanos(), Duration.ofMillis(3).toNanos(), Duration.ofMillis(400).toNanos());
    metrics.exchange("publishers.models.generateContent", "allow", Reason.ALLOWED, Outcome.ALLOWED, 200,
        Duration.ofSeconds(200).toNanos(), Duration.ofMillis(3).toNanos(), Duration.ofSeconds(199).toNanos());
    metrics.exchange(null, "deny", Reason.TOKEN_MISSING, Outcome.REFUSED, 401, 200_000, 150_000, -1);
    PrometheusText text = PrometheusText.parse(metrics.scrape());
    String m = "publishers.models.generateContent";
    for (String h : List.of("vertex_proxy_request_duration_seconds", "vertex_proxy_upstream_first_byte_seconds",
        "vertex_proxy_admission_duration_seconds")) {
      assertThat(text.family(h).type()).isEqualTo("histogram");
    }
    assertThat(text.value("vertex_proxy_request_duration_seconds_bucket", "method", m, "outcome", "allowed", "le", "1.0"))
        .isEqualTo(1);
    assertThat(text.value("vertex_proxy_request_duration_seconds_bucket", "method", m, "outcome", "allowed", "le", "300.0"))
        .isEqualTo(2);
    assertThat(text.value("vertex_proxy_request_duration_seconds_bucket", "method", m, "outcome", "allowed", "le", "+Inf"))
        .isEqualTo(text.value("vertex_proxy_request_duration_seconds_count", "method", m, "outcome", "allowed"))
        .isEqualTo(2);
    assertThat(text.value("vertex_proxy_request_duration_seconds_sum", "method", m, "outcome", "allowed"))
        .isEqualTo(200.7, offset(1e-6));
    assertThat(text.value("vertex_proxy_upstream_first_byte_seconds_bucket", "method", m, "le", "0.5")).isEqualTo(1);
    assertThat(text.value("vertex_proxy_upstream_first_byte_seconds_count", "method", m)).isEqualTo(2);
    assertThat(text.sum("vertex_proxy_upstream_first_byte_seconds_count", "method", "none"))
        .as("a refusal never reached Vertex").isZero();
    assertThat(text.value("vertex_proxy_admission_duration_seconds_bucket", "decision", "deny", "le", "2.5E-4"))
        .isEqualTo(1);
    assertThat(text.value("vertex_proxy_admission_duration_seconds_bucket", "decision", "allow", "le", "+Inf"))
        .isEqualTo(2);
    long buckets = text.family("vertex_proxy_request_duration_seconds").samples().stream()
        .filter(s -> s.name().endsWith("_bucket") && "allowed".equals(s.label("outcome"))).count();
    assertThat(buckets).as("a modest bucket count: the method tag multiplies it").isLessThanOrEqualTo(16);
  }

  @Test
  void requestsCountByEveryTagAndPerReason() {
    for (int i = 0; i < 3; i++) {
      metrics.exchange("publishers.models.generateContent", "allow", Reason.ALLOWED, Outcome.ALLOWED, 200, 1, 1, 1);
    }
    metrics.exchange("publishers.models.generateContent", "deny", Reason.IDENTITY_NOT_MATCHED, Outcome.REFUSED, 403, 1, 1,
        -1);
    metrics.exchange("publishers.models.generateContent", "allow", Reason.UPSTREAM_RESET, Outcome.FAILED, 200, 1, 1, 1);
    PrometheusText text = PrometheusText.parse(metrics.scrape());
    assertThat(text.value("vertex_proxy_requests_total", "method", "publishers.models.generateContent", "decision", "allow",
        "outcome", "allowed", "reason", "allowed", "status", "200")).isEqualTo(3);
    assertThat(text.value("vertex_proxy_requests_total", "reason", "identity-not-matched", "status", "403")).isEqualTo(1);
    assertThat(text.value("vertex_proxy_requests_total", "reason", "upstream-reset", "outcome", "failed")).isEqualTo(1);
    assertThat(text.value("vertex_proxy_exchanges_total", "reason", "allowed")).isEqualTo(3);
    assertThat(text.sum("vertex_proxy_exchanges_total")).isEqualTo(text.sum("vertex_proxy_requests_total")).isEqualTo(5);
  }

  @Test
  void preResolvedMetersKeepOneSeriesPerTagSetEvenForStatusesSharingTheRestOfTheirTags() {
    String m = "publishers.models.generateContent";
    for (int status : new int[] {200, 429, 200, 500, 429, 200}) {
      metrics.exchange(m, "allow", Reason.ALLOWED, Outcome.ALLOWED, status, 2_000_000, 1, status == 500 ? -1 : 1);
    }
    metrics.exchange(null, null, Reason.CLIENT_CLOSED, Outcome.FAILED, 499, 1, -1, -1);
    metrics.exchange("publishers.models.countTokens", "allow", Reason.ALLOWED, Outcome.ALLOWED, 200, 1, 1, 1);
    PrometheusText text = PrometheusText.parse(metrics.scrape());
    assertThat(text.value("vertex_proxy_requests_total", "method", m, "status", "200")).isEqualTo(3);
    assertThat(text.value("vertex_proxy_requests_total", "method", m, "status", "429")).isEqualTo(2);
    assertThat(text.value("vertex_proxy_requests_total", "method", m, "status", "500")).isEqualTo(1);
    assertThat(text.value("vertex_proxy_requests_total", "method", "none", "decision", "none", "reason", "client-closed",
        "status", "499")).isEqualTo(1);
    assertThat(text.value("vertex_proxy_requests_total", "method", "publishers.models.countTokens")).isEqualTo(1);
    assertThat(text.value("vertex_proxy_request_duration_seconds_count", "method", m, "outcome", "allowed")).isEqualTo(6);
    assertThat(text.value("vertex_proxy_upstream_first_byte_seconds_count", "method", m)).isEqualTo(5);
    assertThat(text.value("vertex_proxy_admission_duration_seconds_count", "decision", "allow")).isEqualTo(7);
    assertThat(metrics.meters().stream().filter(x -> x.getId().getName().equals("vertex_proxy_requests")
        && m.equals(x.getId().getTag("method")))).as("one counter per status, however often recorded").hasSize(3);
  }

  @Test
  void thePolicyInfoGaugeFollowsTheVersionInForceAndReloadsCountByResultAndTrigger() {
    Instant later = clock.instant().plusSeconds(60);
    metrics.policy().inForce("sha256:bbbb", later);
    metrics.policy().attempted(PolicyInForce.Result.RELOADED, PolicyInForce.Trigger.WATCH, later);
    metrics.policy().attempted(PolicyInForce.Result.UNCHANGED, PolicyInForce.Trigger.ADMIN, later);
    metrics.policy().attempted(PolicyInForce.Result.REFUSED, PolicyInForce.Trigger.SIGNAL, later.plusSeconds(5));
    PrometheusText text = PrometheusText.parse(metrics.scrape());
    assertThat(text.family("vertex_proxy_policy_info").samples()).singleElement()
        .satisfies(s -> assertThat(s.labels()).containsEntry("version", "sha256:bbbb"))
        .satisfies(s -> assertThat(s.value()).isEqualTo(1));
    assertThat(text.value("vertex_proxy_policy_reloads_total", "result", "reloaded", "trigger", "watch")).isEqualTo(1);
    assertThat(text.value("vertex_proxy_policy_reloads_total", "result", "unchanged", "trigger", "admin")).isEqualTo(1);
    assertThat(text.value("vertex_proxy_policy_reloads_total", "result", "refused", "trigger", "signal")).isEqualTo(1);
    assertThat(text.value("vertex_proxy_policy_reloads_total", "result", "refused", "trigger", "poll")).isZero();
    assertThat(text.family("vertex_proxy_policy_reloads_total").samples()).hasSize(12);
    assertThat(text.value("vertex_proxy_policy_last_reload_success_timestamp_seconds"))
        .isEqualTo(later.getEpochSecond());
    assertThat(text.value("vertex_proxy_policy_last_reload_failure_timestamp_seconds"))
        .isEqualTo(later.getEpochSecond() + 5);
  }

  @Test
  void theComponentsReportThroughTheirInterfaces() throws Exception {
    metrics.googleTokens().cacheMiss();
    metrics.googleTokens().fetched(false);
    metrics.googleTokens().cacheMiss();
    metrics.googleTokens().fetched(true);
    metrics.googleTokens().cacheHit();
    metrics.jwksFetches().fetched("gitlab", true);
    metrics.jwksFetches().fetched("gitlab-self-managed", false);
    metrics.audit().failed(AuditException.Kind.QUEUE_FULL);
    audit.append(TestEvents.allowed(1)).get();
    PrometheusText text = PrometheusText.parse(metrics.scrape());
    assertThat(text.value("vertex_proxy_google_token_cache_misses_total")).isEqualTo(2);
    assertThat(text.value("vertex_proxy_google_token_cache_hits_total")).isEqualTo(1);
    assertThat(text.value("vertex_proxy_google_token_fetches_total", "outcome", "success")).isEqualTo(1);
    assertThat(text.value("vertex_proxy_google_token_fetches_total", "outcome", "failure")).isEqualTo(1);
    assertThat(text.value("vertex_proxy_jwks_fetches_total", "issuer", "gitlab", "outcome", "success")).isEqualTo(1);
    assertThat(text.value("vertex_proxy_jwks_fetches_total", "issuer", "gitlab-self-managed", "outcome", "failure"))
        .isEqualTo(1);
    assertThat(text.value("vertex_proxy_audit_failures_total", "kind", "queue-full")).isEqualTo(1);
    assertThat(text.value("vertex_proxy_audit_records_written_total")).isEqualTo(1);
    assertThat(text.value("vertex_proxy_audit_batch_records_count")).isEqualTo(1);
    assertThat(text.value("vertex_proxy_audit_write_seconds_count")).isEqualTo(1);
    assertThat(text.value("vertex_proxy_audit_fsync_seconds_count")).as("group commit syncs each batch").isEqualTo(1);
    assertThat(text.value("vertex_proxy_audit_queue_depth")).isZero();
  }

  /** Every counter family whose series are all known at start-up. */
  static final List<String> COUNTERS_FROM_START = List.of("vertex_proxy_exchanges_total", "vertex_proxy_requests_total",
      "vertex_proxy_upstream_connect_failures_total", "vertex_proxy_google_token_cache_hits_total",
      "vertex_proxy_google_token_cache_misses_total", "vertex_proxy_google_token_fetches_total",
      "vertex_proxy_jwks_fetches_total", "vertex_proxy_audit_records_written_total", "vertex_proxy_audit_failures_total",
      "vertex_proxy_audit_checkpoints_total", "vertex_proxy_audit_export_failures_total", "vertex_proxy_policy_reloads_total");

  /** The metric names in the guide's metrics table: the first column's code spans. */
  static Set<String> documentedFamilies() throws Exception {
    List<String> lines = Files.readAllLines(Examples.repoRoot().resolve(GUIDE), StandardCharsets.UTF_8);
    Set<String> names = new TreeSet<>();
    Pattern row = Pattern.compile("^\\| `([a-z0-9_:]+)`");
    boolean inTable = false;
    for (String line : lines) {
      if (line.startsWith("| metric ")) {
        inTable = true;
        continue;
      }
      if (inTable && !line.startsWith("|")) {
        inTable = false;
      }
      Matcher m = row.matcher(line);
      if (inTable && m.find()) {
        names.add(m.group(1));
      }
    }
    return names;
  }

}

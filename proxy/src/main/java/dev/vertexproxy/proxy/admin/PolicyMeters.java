package dev.vertexproxy.proxy.admin;

import dev.vertexproxy.proxy.policy.PolicyEvents;
import dev.vertexproxy.proxy.policy.PolicyInForce;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.prometheus.metrics.core.metrics.Info;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.time.Instant;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The policy's meters, defined here for {@link ProxyMetrics} (which creates this class and owns the registry): the
 * version in force, reload attempts by result and trigger (every pair registered at zero), and when the last reload
 * succeeded and failed. Thread-safe; every event is an add or a set.
 */
final class PolicyMeters implements PolicyEvents {
  /**
   * A Prometheus info metric, registered beside Micrometer's meters: Micrometer's naming drops an {@code _info}
   * suffix, and this one should read {@code vertex_proxy_policy_info{version="sha256:…"} 1}.
   */
  private final Info info;
  private final Map<PolicyInForce.Result, Map<PolicyInForce.Trigger, Counter>> reloads =
      new EnumMap<>(PolicyInForce.Result.class);
  /** Epoch milliseconds; 0 until the event first happens (a start-up load counts as a success). */
  private final AtomicLong lastSuccess = new AtomicLong();
  private final AtomicLong lastFailure = new AtomicLong();

  PolicyMeters(MeterRegistry registry, PrometheusRegistry prometheus) {
    info = Info.builder().name("vertex_proxy_policy")
        .help("The policy in force: always 1, its content hash in the version label").labelNames("version")
        .register(prometheus);
    for (PolicyInForce.Result r : PolicyInForce.Result.values()) {
      Map<PolicyInForce.Trigger, Counter> byTrigger = new EnumMap<>(PolicyInForce.Trigger.class);
      for (PolicyInForce.Trigger t : PolicyInForce.Trigger.values()) {
        byTrigger.put(t, Counter.builder("vertex_proxy_policy_reloads")
            .description("Policy reload attempts, by result (reloaded, unchanged, refused) and trigger (watch, poll,"
                + " signal, admin)")
            .tag("result", r.code()).tag("trigger", t.code()).register(registry));
      }
      reloads.put(r, byTrigger);
    }
    Gauge.builder("vertex_proxy_policy_last_reload_success_timestamp_seconds", lastSuccess, a -> a.get() / 1000.0)
        .description("When a policy last loaded and went into force, start-up included (Unix seconds)")
        .register(registry);
    Gauge.builder("vertex_proxy_policy_last_reload_failure_timestamp_seconds", lastFailure, a -> a.get() / 1000.0)
        .description("When a policy reload was last refused (Unix seconds; 0: never since start-up)")
        .register(registry);
  }

  @Override
  public void inForce(String version, Instant at) {
    info.setLabelValues(version);
    lastSuccess.set(at.toEpochMilli());
  }

  @Override
  public void attempted(PolicyInForce.Result result, PolicyInForce.Trigger trigger, Instant at) {
    reloads.get(result).get(trigger).increment();
    (result == PolicyInForce.Result.REFUSED ? lastFailure : lastSuccess).set(at.toEpochMilli());
  }
}

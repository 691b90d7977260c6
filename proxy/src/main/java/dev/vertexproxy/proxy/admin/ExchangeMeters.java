package dev.vertexproxy.proxy.admin;

import dev.vertexproxy.proxy.reason.Outcome;
import dev.vertexproxy.proxy.reason.Reason;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The meters every finished exchange moves, resolved without allocating once their series exists. {@link ProxyMetrics}
 * names and describes them; this class only finds them fast.
 *
 * <p>Design note. Looking a meter up by its tags on every exchange costs a key object, its hash and a map probe per
 * meter (a record of five fields for {@code vertex_proxy_requests}). The tag sets are closed, so the meters are
 * resolved per method once — a {@link MethodMeters} found by the method's name, whose hash the string caches — and
 * inside it by array index: the outcome's ordinal for the duration timer, and decision × outcome × reason for the
 * requests counter, with the few statuses seen under one such slot in a copy-on-write pair of arrays. A recording that
 * finds its meters allocates nothing; the first exchange of a new series registers it (Micrometer returns the meter
 * already registered for an id, so two threads racing to create one share it). Thread-safe, lock-free.
 */
final class ExchangeMeters {
  private static final Outcome[] OUTCOMES = Outcome.values();
  private static final Reason[] REASONS = Reason.values();
  private static final String[] DECISIONS = {"none", "allow", "deny"};

  private final MeterRegistry registry;
  private final Duration[] totalBuckets;
  private final Duration[] firstByteBuckets;
  private final Map<String, MethodMeters> byMethod = new ConcurrentHashMap<>();
  private final Map<Reason, Counter> byReason = new EnumMap<>(Reason.class);
  private final Timer admitted;
  private final Timer denied;

  ExchangeMeters(MeterRegistry registry, Duration[] totalBuckets, Duration[] firstByteBuckets,
      Duration[] admissionBuckets) {
    this.registry = registry;
    this.totalBuckets = totalBuckets;
    this.firstByteBuckets = firstByteBuckets;
    for (Reason r : REASONS) {
      byReason.put(r, Counter.builder("vertex_proxy_exchanges")
          .description("Exchanges that ended, by reason (every reason of the closed catalog, from start-up)")
          .tag("reason", r.code()).register(registry));
    }
    admitted = admissionTimer("allow", admissionBuckets);
    denied = admissionTimer("deny", admissionBuckets);
  }

  /** See {@link ProxyMetrics#exchange}. */
  void record(String method, String decision, Reason reason, Outcome outcome, int status, long totalNanos,
      long admissionNanos, long firstByteNanos) {
    MethodMeters m = forMethod(method == null ? "none" : method);
    m.request(decisionIndex(decision), outcome, reason, status).increment();
    byReason.get(reason).increment();
    m.total(outcome).record(totalNanos, TimeUnit.NANOSECONDS);
    if (admissionNanos >= 0 && decision != null) {
      Timer t = "allow".equals(decision) ? admitted : "deny".equals(decision) ? denied : null;
      if (t != null) {
        t.record(admissionNanos, TimeUnit.NANOSECONDS);
      }
    }
    if (firstByteNanos >= 0) {
      m.firstByte().record(firstByteNanos, TimeUnit.NANOSECONDS);
    }
  }

  /** Registers (or finds) the requests counter of one series, so it reads 0 before its first exchange. */
  Counter request(String method, String decision, Outcome outcome, Reason reason, int status) {
    return forMethod(method == null ? "none" : method).request(decisionIndex(decision), outcome, reason, status);
  }

  private MethodMeters forMethod(String method) {
    MethodMeters m = byMethod.get(method);
    return m != null ? m : byMethod.computeIfAbsent(method, MethodMeters::new);
  }

  /** {@code null} ({@code none}), {@code allow}, {@code deny}; any other value is refused rather than mis-tagged. */
  private static int decisionIndex(String decision) {
    if (decision == null) {
      return 0;
    }
    return switch (decision) {
      case "allow" -> 1;
      case "deny" -> 2;
      default -> throw new IllegalArgumentException("decision: " + decision + " (expected: allow, deny or none)");
    };
  }

  private Timer admissionTimer(String decision, Duration[] buckets) {
    return Timer.builder("vertex_proxy_admission_duration")
        .description("Time from the request head until admission decided (route, token, policy, Google token)")
        .tag("decision", decision).serviceLevelObjectives(buckets).register(registry);
  }

  /** The statuses seen under one decision × outcome × reason, and their counters; replaced whole, never changed. */
  private record StatusCounters(int[] statuses, Counter[] counters) {
    Counter find(int status) {
      for (int i = 0; i < statuses.length; i++) {
        if (statuses[i] == status) {
          return counters[i];
        }
      }
      return null;
    }

    StatusCounters with(int status, Counter counter) {
      int[] s = Arrays.copyOf(statuses, statuses.length + 1);
      Counter[] c = Arrays.copyOf(counters, counters.length + 1);
      s[statuses.length] = status;
      c[counters.length] = counter;
      return new StatusCounters(s, c);
    }
  }

  private static final StatusCounters NONE_YET = new StatusCounters(new int[0], new Counter[0]);

  /** One method's meters, each created on its first use. */
  private final class MethodMeters {
    private final String method;
    private final AtomicReferenceArray<Timer> totals = new AtomicReferenceArray<>(OUTCOMES.length);
    private final AtomicReferenceArray<StatusCounters> requests =
        new AtomicReferenceArray<>(DECISIONS.length * OUTCOMES.length * REASONS.length);
    private volatile Timer firstByte;

    MethodMeters(String method) {
      this.method = method;
    }

    Counter request(int decision, Outcome outcome, Reason reason, int status) {
      int slot = (decision * OUTCOMES.length + outcome.ordinal()) * REASONS.length + reason.ordinal();
      while (true) {
        StatusCounters seen = requests.get(slot);
        Counter c = seen == null ? null : seen.find(status);
        if (c != null) {
          return c;
        }
        Counter created = Counter.builder("vertex_proxy_requests")
            .description("Exchanges by Vertex method, decision, outcome, reason and status (a method's series appear"
                + " with its first exchange)")
            .tag("method", method).tag("decision", DECISIONS[decision])
            .tag("outcome", outcome.code()).tag("reason", reason.code())
            .tag("status", Integer.toString(status)).register(registry);
        if (requests.compareAndSet(slot, seen, (seen == null ? NONE_YET : seen).with(status, created))) {
          return created;
        }
      }
    }

    Timer total(Outcome outcome) {
      Timer t = totals.get(outcome.ordinal());
      if (t == null) {
        t = Timer.builder("vertex_proxy_request_duration")
            .description("Exchange time from the request head until it was recorded, by method and outcome")
            .tag("method", method).tag("outcome", outcome.code())
            .serviceLevelObjectives(totalBuckets).register(registry);
        totals.set(outcome.ordinal(), t); // a racing thread registered the same meter: either store is right
      }
      return t;
    }

    Timer firstByte() {
      Timer t = firstByte;
      if (t == null) {
        t = Timer.builder("vertex_proxy_upstream_first_byte")
            .description("Time from the request head until Vertex's response head arrived, by method")
            .tag("method", method).serviceLevelObjectives(firstByteBuckets).register(registry);
        firstByte = t;
      }
      return t;
    }
  }
}

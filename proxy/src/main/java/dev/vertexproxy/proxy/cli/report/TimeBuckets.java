package dev.vertexproxy.proxy.cli.report;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Calls and denials counted per time bucket, for the "calls over time" chart, in bounded memory: counting starts per
 * minute and moves up a step of {@link #STEPS} (re-adding what it has) whenever more than {@value #MAX_KEPT} buckets
 * are held, so a year of traffic costs what a day does. {@link #series} then picks the smallest step that shows the
 * period in at most a given number of buckets. Not thread-safe.
 */
public final class TimeBuckets {
  static final List<Duration> STEPS = List.of(Duration.ofMinutes(1), Duration.ofMinutes(5), Duration.ofMinutes(15),
      Duration.ofHours(1), Duration.ofHours(3), Duration.ofHours(6), Duration.ofDays(1), Duration.ofDays(7),
      Duration.ofDays(28), Duration.ofDays(364)); // each a multiple of the one before: regrouping is exact
  private static final int MAX_KEPT = 4096;

  /** One bucket: from {@code start} for one step. */
  public record Bucket(Instant start, Duration step, long calls, long denied) {
  }

  private int stepIndex;
  private Map<Long, long[]> counts = new HashMap<>();

  /** Counts one call at {@code time}. */
  public void add(Instant time, boolean denied) {
    add(counts, floor(time.getEpochSecond(), stepIndex), 1, denied ? 1 : 0);
    if (counts.size() > MAX_KEPT && stepIndex < STEPS.size() - 1) {
      stepIndex++;
      counts = regroup(counts, stepIndex);
    }
  }

  /**
   * Every bucket from {@code from} to {@code to} (inclusive of the bucket holding {@code to}), zeros included, with
   * the smallest step that needs at most {@code maxBuckets}; empty if {@code to} is before {@code from}.
   */
  public List<Bucket> series(Instant from, Instant to, int maxBuckets) {
    List<Bucket> series = new ArrayList<>();
    if (to.isBefore(from)) {
      return series;
    }
    int index = stepIndex;
    long span = to.getEpochSecond() - from.getEpochSecond();
    while (index < STEPS.size() - 1 && span / STEPS.get(index).getSeconds() + 1 > maxBuckets) {
      index++;
    }
    Map<Long, long[]> grouped = index == stepIndex ? counts : regroup(counts, index);
    long step = STEPS.get(index).getSeconds();
    for (long start = floor(from.getEpochSecond(), index); start <= to.getEpochSecond(); start += step) {
      long[] c = grouped.getOrDefault(start, new long[2]);
      series.add(new Bucket(Instant.ofEpochSecond(start), STEPS.get(index), c[0], c[1]));
    }
    return series;
  }

  private static Map<Long, long[]> regroup(Map<Long, long[]> counts, int index) {
    Map<Long, long[]> regrouped = new HashMap<>();
    counts.forEach((start, c) -> add(regrouped, floor(start, index), c[0], c[1]));
    return regrouped;
  }

  private static void add(Map<Long, long[]> counts, long bucket, long calls, long denied) {
    long[] c = counts.computeIfAbsent(bucket, b -> new long[2]);
    c[0] += calls;
    c[1] += denied;
  }

  /** The start of the bucket holding {@code epochSecond}: steps are aligned to the epoch (UTC midnights for days). */
  private static long floor(long epochSecond, int index) {
    return Math.floorDiv(epochSecond, STEPS.get(index).getSeconds()) * STEPS.get(index).getSeconds();
  }
}

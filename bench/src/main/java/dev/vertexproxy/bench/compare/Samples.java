package dev.vertexproxy.bench.compare;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Every latency sample of a run, kept as nanoseconds in a growing {@code long[]} and sorted once at the end, so a
 * percentile is an exact sample (nearest rank), not a histogram bucket: the only rounding is nanoseconds to whole
 * microseconds in the summary. Not thread-safe: each tool records on one event-loop thread.
 */
final class Samples {
  private long[] values = new long[1024];
  private int size;

  void add(long nanos) {
    if (size == values.length) {
      values = Arrays.copyOf(values, values.length * 2);
    }
    values[size++] = nanos;
  }

  int size() {
    return size;
  }

  /** How many samples are at least {@code nanos}. */
  int atLeast(long nanos) {
    int n = 0;
    for (int i = 0; i < size; i++) {
      if (values[i] >= nanos) {
        n++;
      }
    }
    return n;
  }

  /** The samples in the order they were recorded (a copy). */
  long[] values() {
    return Arrays.copyOf(values, size);
  }

  /** The nearest-rank percentile of sorted samples: the smallest value with at least p % of samples at or below. */
  static long percentile(long[] sorted, double p) {
    if (sorted.length == 0) {
      return 0;
    }
    int rank = (int) Math.ceil(p / 100.0 * sorted.length);
    return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
  }

  /** count, min, p50, p90, p99, p99_9, max and mean in microseconds; only count when there is no sample. */
  Map<String, Object> summaryMicros() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("count", size);
    if (size == 0) {
      return m;
    }
    long[] sorted = values();
    Arrays.sort(sorted);
    long sum = 0;
    for (long v : sorted) {
      sum += v;
    }
    m.put("min", micros(sorted[0]));
    m.put("p50", micros(percentile(sorted, 50)));
    m.put("p90", micros(percentile(sorted, 90)));
    m.put("p99", micros(percentile(sorted, 99)));
    m.put("p99_9", micros(percentile(sorted, 99.9)));
    m.put("max", micros(sorted[sorted.length - 1]));
    m.put("mean", micros(sum / sorted.length));
    return m;
  }

  static long micros(long nanos) {
    return Math.round(nanos / 1000.0);
  }
}

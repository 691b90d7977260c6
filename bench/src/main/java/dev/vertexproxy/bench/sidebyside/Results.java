package dev.vertexproxy.bench.sidebyside;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Everything one run measured, by figure and server (or variant); filled by {@link SideBySide}, read by {@link Report}. */
final class Results {
  /** Requests per second of each wrk run, by server letter. */
  final Map<String, List<Double>> rate = new LinkedHashMap<>();
  /** CPU microseconds per request of the server under test, by letter (none for D). */
  final Map<String, List<Double>> cpuPerRequest = new LinkedHashMap<>();
  /** How busy the server under test kept its CPU in each run, in % (its CPU time over the run's wall time). */
  final Map<String, List<Double>> cpuBusy = new LinkedHashMap<>();
  /** P's audit records per write batch (one write; one fsync unless durability is none) in each throughput run. */
  final List<Double> recordsPerBatch = new ArrayList<>();
  /**
   * P's mean fsync per batch in each throughput run, in µs, as its writer timed it: from the call until the writer ran
   * again, so it includes any wait for the CPU after the disk answered.
   */
  final List<Double> fsyncMicros = new ArrayList<>();
  /** Failed requests (non-2xx, socket errors) over all runs, by letter or variant. */
  final Map<String, Long> errors = new LinkedHashMap<>();
  /** Latency percentiles in µs, by "unloaded"/"loaded", then letter, then percentile name (p50, p99, ...). */
  final Map<String, Map<String, Map<String, List<Double>>>> latency = new LinkedHashMap<>();
  /** SSE first-event delay and inter-event gap percentiles in µs, by "first"/"gap", letter, percentile. */
  final Map<String, Map<String, Map<String, List<Double>>>> sse = new LinkedHashMap<>();
  /** RSS in MiB, by letter: idle, and with the concurrent streams open. */
  final Map<String, Double> rssIdle = new LinkedHashMap<>();
  final Map<String, Double> rssStreams = new LinkedHashMap<>();
  final Map<String, String> streamsNote = new LinkedHashMap<>();
  /** Requests per second and CPU µs per request by policy size. */
  final Map<Integer, List<Double>> rulesRate = new LinkedHashMap<>();
  final Map<Integer, List<Double>> rulesCpu = new LinkedHashMap<>();
  /** Per round, 10,000 rules' throughput against 100's (the mean of each size's runs in that round), in %. */
  final List<Double> rulesChange = new ArrayList<>();
  /** Requests per second and CPU µs per request by ablation rung, in ladder order. */
  final Map<String, List<Double>> ladderRate = new LinkedHashMap<>();
  final Map<String, List<Double>> ladderCpu = new LinkedHashMap<>();
  /** The flight recording's summary of P under load: lines of Markdown. */
  final List<String> profile = new ArrayList<>();
  /** What could not be measured, and why. */
  final List<String> notMeasured = new ArrayList<>();
  final Map<String, String> descriptions = new LinkedHashMap<>();
  final Map<String, String> machine = new LinkedHashMap<>();
  long wallSeconds;

  static void add(Map<String, List<Double>> m, String key, double value) {
    m.computeIfAbsent(key, k -> new ArrayList<>()).add(value);
  }

  static void add(Map<String, Map<String, Map<String, List<Double>>>> m, String figure, String label, String pct,
      double value) {
    m.computeIfAbsent(figure, k -> new LinkedHashMap<>()).computeIfAbsent(label, k -> new LinkedHashMap<>())
        .computeIfAbsent(pct, k -> new ArrayList<>()).add(value);
  }

  void error(String key, long n) {
    errors.merge(key, n, Long::sum);
  }

  Spread spread(Map<String, List<Double>> m, String key) {
    return Spread.of(m.getOrDefault(key, List.of()));
  }

  Spread spread(Map<String, Map<String, Map<String, List<Double>>>> m, String figure, String label, String pct) {
    return Spread.of(m.getOrDefault(figure, Map.of()).getOrDefault(label, Map.of()).getOrDefault(pct, List.of()));
  }
}

package dev.vertexproxy.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

/**
 * The measuring thread's own CPU time per operation over one iteration, printed beside JMH's wall-clock score. On a
 * shared machine the wall clock also counts the time the thread waited for a core; its CPU time does not, so this
 * is the figure to read when other work competes for the cores. Call {@link #start} and {@link #report} from
 * {@code Level.Iteration} helpers (JMH runs them on the benchmark thread) and {@link #op} once per operation.
 * Single-threaded benchmarks only.
 */
final class CpuPerOp {
  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
  private long ops;
  private long opsAtStart;
  private long cpuAtStart;

  void op() {
    ops++;
  }

  void start() {
    opsAtStart = ops;
    cpuAtStart = THREADS.getCurrentThreadCpuTime();
  }

  void report() {
    long cpu = THREADS.getCurrentThreadCpuTime() - cpuAtStart;
    long n = ops - opsAtStart;
    if (n > 0) {
      System.out.printf("%n  thread CPU: %.1f ns/op over %d ops%n", (double) cpu / n, n);
    }
  }
}

package dev.vertexproxy.bench.compare;

import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.ToLongFunction;

/**
 * The hard deadline of a tool's {@code main}: past it, whatever the tool is waiting for, one JSON object saying so is
 * printed and the process halts, so {@code scripts/bench} never waits on a hung tool. Each tool sets it a margin past
 * the longest run its options allow; reaching it is a bug or a machine so overloaded that no figure would hold.
 */
final class Watchdog {
  private static final long MARGIN = TimeUnit.SECONDS.toNanos(30);

  private Watchdog() {
  }

  /** Arms the deadline that {@code bound} computes from the tool's options (30 s when they do not parse). */
  static void arm(String tool, String[] args, Set<String> options, ToLongFunction<Cli> bound, PrintStream out) {
    long nanos;
    try {
      nanos = bound.applyAsLong(Cli.parse(args, options)) + MARGIN;
    } catch (RuntimeException e) {
      nanos = MARGIN;
    }
    arm(tool, nanos, out);
  }

  static void arm(String tool, long nanos, PrintStream out) {
    Thread t = new Thread(() -> {
      try {
        TimeUnit.NANOSECONDS.sleep(nanos);
      } catch (InterruptedException e) {
        return;
      }
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("tool", tool);
      m.put("error", "hard deadline reached after " + TimeUnit.NANOSECONDS.toSeconds(nanos) + " s");
      System.err.println(tool + ": hard deadline reached; halting");
      Json.print(out, m);
      Runtime.getRuntime().halt(3);
    }, tool + "-watchdog");
    t.setDaemon(true);
    t.start();
  }
}

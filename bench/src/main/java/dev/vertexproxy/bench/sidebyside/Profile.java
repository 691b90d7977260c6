package dev.vertexproxy.bench.sidebyside;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordedThread;
import jdk.jfr.consumer.RecordingFile;

/**
 * Reads a flight recording of P under load into the few lines a reader needs to see where its CPU goes: the hottest
 * methods by own samples, the project's own frames by inclusive samples, allocation by site, and time spent in fsync,
 * locks and GC.
 */
final class Profile {
  /** Runs every task under its request's log context: on every stack, so it says nothing about cost. */
  private static final String WRAPPER = "dev.vertexproxy.proxy.logging.RequestLog$Context";

  private Profile() {
  }

  /** CPU per request by thread pool over one run, user and kernel apart, from /proc (no recorder running). */
  static List<String> threads(Map<String, long[]> before, Map<String, long[]> after, long requests) {
    List<String> out = new ArrayList<>();
    out.add(String.format("CPU per request by thread over one run of %,d requests without the recorder (from "
        + "`/proc/PID/task/*/stat`; µs):", requests));
    out.add("");
    out.add("| threads | user | kernel | total |");
    out.add("|---|---|---|---|");
    long[] sum = new long[2];
    List<Map.Entry<String, long[]>> rows = new ArrayList<>();
    for (Map.Entry<String, long[]> e : after.entrySet()) {
      long[] b = before.getOrDefault(e.getKey(), new long[2]);
      long[] d = {e.getValue()[0] - b[0], e.getValue()[1] - b[1]};
      sum[0] += d[0];
      sum[1] += d[1];
      if (d[0] + d[1] > 0) {
        rows.add(Map.entry(e.getKey(), d));
      }
    }
    rows.sort((x, y) -> Long.compare(y.getValue()[0] + y.getValue()[1], x.getValue()[0] + x.getValue()[1]));
    for (Map.Entry<String, long[]> e : rows) {
      out.add(String.format("| `%s` | %.1f | %.1f | %.1f |", e.getKey(), per(e.getValue()[0], requests),
          per(e.getValue()[1], requests), per(e.getValue()[0] + e.getValue()[1], requests)));
    }
    out.add(String.format("| all | %.1f | %.1f | %.1f |", per(sum[0], requests), per(sum[1], requests),
        per(sum[0] + sum[1], requests)));
    out.add("");
    return out;
  }

  /** strace -c's table as calls per request, the most frequent first. */
  static List<String> syscalls(List<String> strace, long requests) {
    List<String> out = new ArrayList<>();
    out.add(String.format("System calls per request (strace -c -f over one run of %,d requests, slowed by strace):",
        requests));
    out.add("");
    out.add("| system call | calls per request |");
    out.add("|---|---|");
    double total = 0;
    for (String line : strace) {
      String[] f = line.trim().split("\\s+");
      // % time, seconds, usecs/call, calls, [errors], syscall
      if (f.length >= 5 && f[0].matches("[0-9.]+") && f[3].matches("[0-9]+")) {
        long calls = Long.parseLong(f[3]);
        String name = f[f.length - 1];
        if (name.equals("total")) {
          continue; // strace's own sum of the rows above
        }
        total += calls;
        if (out.size() < 14) {
          out.add(String.format("| `%s` | %.2f |", name, (double) calls / Math.max(1, requests)));
        }
      }
    }
    out.add(String.format("| all | %.2f |", total / Math.max(1, requests)));
    out.add("");
    return out;
  }

  private static double per(long micros, long requests) {
    return requests == 0 ? Double.NaN : (double) micros / requests;
  }

  static List<String> summarise(Path recording, long requests, int top) throws IOException {
    Map<String, Integer> self = new HashMap<>();
    Map<String, Integer> inclusive = new HashMap<>();
    Map<String, Long> allocation = new HashMap<>();
    int samples = 0;
    long allocated = 0;
    Set<Long> sampledThreads = new HashSet<>();
    long forces = 0;
    Duration forceTime = Duration.ZERO;
    long gcs = 0;
    Duration gcPause = Duration.ZERO;
    long monitors = 0;
    Duration monitorTime = Duration.ZERO;
    try (RecordingFile file = new RecordingFile(recording)) {
      while (file.hasMoreEvents()) {
        RecordedEvent e = file.readEvent();
        String type = e.getEventType().getName();
        switch (type) {
          case "jdk.ExecutionSample" -> {
            RecordedStackTrace st = e.getStackTrace();
            if (st == null || st.getFrames().isEmpty()) {
              continue;
            }
            samples++;
            self.merge(name(st.getFrames().get(0)), 1, Integer::sum);
            Set<String> seen = new LinkedHashSet<>();
            for (RecordedFrame f : st.getFrames()) {
              String n = name(f);
              if (n.startsWith("dev.vertexproxy.") && !n.contains("ambda$") && !n.startsWith(WRAPPER) && seen.add(n)) {
                inclusive.merge(n, 1, Integer::sum);
              }
            }
          }
          case "jdk.ObjectAllocationSample" -> {
            RecordedThread thread = e.getThread("eventThread");
            if (thread != null && sampledThreads.add(thread.getJavaThreadId())) {
              continue; // a thread's first sample weighs all it allocated before the recording began
            }
            long w = e.getLong("weight");
            allocated += w;
            RecordedStackTrace st = e.getStackTrace();
            String site = "?";
            if (st != null) {
              for (RecordedFrame f : st.getFrames()) {
                if (f.getMethod().getType().getName().startsWith("dev.vertexproxy.")) {
                  site = name(f);
                  break;
                }
              }
            }
            allocation.merge(site, w, Long::sum);
          }
          case "jdk.FileForce" -> {
            forces++;
            forceTime = forceTime.plus(e.getDuration());
          }
          case "jdk.GarbageCollection" -> {
            gcs++;
            gcPause = gcPause.plus(e.getDuration("sumOfPauses"));
          }
          case "jdk.JavaMonitorEnter" -> {
            monitors++;
            monitorTime = monitorTime.plus(e.getDuration());
          }
          default -> {
          }
        }
      }
    }
    List<String> out = new ArrayList<>();
    out.add(String.format("%,d CPU samples, %,d requests; fsync (jdk.FileForce) %,d times, %,d ms in all; "
        + "%,d collections, %,d ms of pauses; %,d contended monitor enters (>20 ms: %,d ms); "
        + "~%,d bytes allocated per request (sampled)", samples, requests, forces, forceTime.toMillis(), gcs,
        gcPause.toMillis(), monitors, monitorTime.toMillis(), requests == 0 ? 0 : allocated / requests));
    out.add("");
    int all = samples;
    out.add("| hottest methods (own samples) | share |");
    out.add("|---|---|");
    topOf(self, top).forEach(en -> out.add("| `" + en.getKey() + "` | " + pct(en.getValue(), all) + " |"));
    out.add("");
    out.add("| project frames (inclusive samples) | share |");
    out.add("|---|---|");
    topOf(inclusive, top).forEach(en -> out.add("| `" + en.getKey() + "` | " + pct(en.getValue(), all) + " |"));
    out.add("");
    out.add("| allocation by first project frame | share |");
    out.add("|---|---|");
    long bytes = allocated;
    allocation.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(top)
        .forEach(en -> out.add("| `" + en.getKey() + "` | " + String.format("%.1f %%", 100.0 * en.getValue() / bytes)
            + " |"));
    return out;
  }

  private static List<Map.Entry<String, Integer>> topOf(Map<String, Integer> m, int n) {
    return m.entrySet().stream().sorted(Map.Entry.<String, Integer>comparingByValue().reversed()).limit(n).toList();
  }

  private static String pct(int n, int of) {
    return String.format("%.1f %%", 100.0 * n / Math.max(1, of));
  }

  private static String name(RecordedFrame f) {
    String type = f.getMethod().getType().getName();
    return type + "." + f.getMethod().getName();
  }
}

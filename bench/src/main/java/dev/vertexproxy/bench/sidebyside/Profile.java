package dev.vertexproxy.bench.sidebyside;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
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

  static List<String> summarise(Path recording, long requests, int top) throws IOException {
    Map<String, Integer> self = new HashMap<>();
    Map<String, Integer> inclusive = new HashMap<>();
    Map<String, Long> allocation = new HashMap<>();
    int samples = 0;
    long allocated = 0;
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

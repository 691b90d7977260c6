package dev.vertexproxy.bench.sidebyside;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** What the run ran on and with: the report's first lines. */
final class Machine {
  private Machine() {
  }

  static Map<String, String> describe(Options o) {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("date", ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'")));
    m.put("cpu", cpuModel() + ", " + cpuCount() + " CPUs (the run pins itself to one, the server under test to the other)");
    m.put("memory", memTotal());
    m.put("kernel", first(List.of("uname", "-r")));
    m.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
    m.put("nginx", first(List.of("nginx", "-v")));
    m.put("haproxy", first(List.of("haproxy", "-v")));
    m.put("wrk", first(List.of("wrk", "-v")));
    m.put("commit", first(List.of("git", "-C", o.root().toString(), "describe", "--always", "--dirty")));
    m.put("fsync of the audit disk", fsyncLatency(o.dir()));
    return m;
  }

  /**
   * The disk's fsync latency where P's audit trail lives: 200 appends of a 900-byte record, each followed by
   * {@code FileChannel.force(false)} (fdatasync), as the audit writer does per batch. In {@code group_commit} every
   * answer waits for one, so this is the floor under P's unloaded latency.
   */
  static String fsyncLatency(Path dir) {
    try {
      Files.createDirectories(dir);
      Path file = dir.resolve("fsync-probe");
      long[] samples = new long[200];
      ByteBuffer record = ByteBuffer.allocate(900);
      try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
          StandardOpenOption.APPEND)) {
        for (int i = 0; i < samples.length; i++) {
          record.clear();
          long t0 = System.nanoTime();
          ch.write(record);
          ch.force(false);
          samples[i] = System.nanoTime() - t0;
        }
      }
      Files.deleteIfExists(file);
      Arrays.sort(samples);
      return String.format("p50 %.2f ms, p90 %.2f ms, p99 %.2f ms (200 appends of 900 bytes + fdatasync, before the run)",
          samples[100] / 1e6, samples[180] / 1e6, samples[198] / 1e6);
    } catch (IOException e) {
      return "not measured: " + e.getMessage();
    }
  }

  private static long cpuCount() {
    try {
      return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("processor")).count();
    } catch (IOException e) {
      return Runtime.getRuntime().availableProcessors();
    }
  }

  private static String cpuModel() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        if (line.startsWith("model name")) {
          return line.substring(line.indexOf(':') + 1).trim();
        }
      }
    } catch (IOException e) {
      return "unknown CPU";
    }
    return "unknown CPU";
  }

  private static String memTotal() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
        if (line.startsWith("MemTotal:")) {
          long kib = Long.parseLong(line.replaceAll("[^0-9]", ""));
          return String.format("%.1f GiB", kib / 1024.0 / 1024.0);
        }
      }
    } catch (IOException e) {
      return "unknown";
    }
    return "unknown";
  }

  /** The first non-empty line a command prints (stdout or stderr), or "not found". */
  static String first(List<String> command) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      p.waitFor(10, TimeUnit.SECONDS);
      for (String line : out.split("\n")) {
        if (!line.isBlank()) {
          return line.trim();
        }
      }
      return "(no output)";
    } catch (IOException e) {
      return "not found";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "interrupted";
    }
  }
}

package dev.vertexproxy.bench.sidebyside;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * One process the run started (a server under test, the stub, a load generator), pinned to a CPU with {@code taskset},
 * its output in a log file, stopped for certain: SIGTERM, then SIGKILL after a grace period, and a JVM shutdown hook
 * as the last resort, so that no run leaves a process behind.
 */
final class Child implements AutoCloseable {
  private static final long CLOCK_TICKS_PER_SECOND = clockTicks();

  private final String name;
  private final Process process;
  private final Path log;
  private final Thread hook;

  private Child(String name, Process process, Path log) {
    this.name = name;
    this.process = process;
    this.log = log;
    this.hook = new Thread(process::destroyForcibly, "stop-" + name);
    Runtime.getRuntime().addShutdownHook(hook);
  }

  /** Starts {@code command} pinned to {@code cpu} ({@code -1}: as this process is), stdout and stderr to {@code log}. */
  static Child start(String name, int cpu, List<String> command, Path log) throws IOException {
    List<String> full = new ArrayList<>();
    if (cpu >= 0) {
      full.addAll(List.of("taskset", "-c", Integer.toString(cpu)));
    }
    full.addAll(command);
    Files.createDirectories(log.getParent());
    ProcessBuilder pb = new ProcessBuilder(full).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.redirectInput(ProcessBuilder.Redirect.PIPE); // a child reading stdin ends when this run does
    return new Child(name, pb.start(), log);
  }

  String name() {
    return name;
  }

  long pid() {
    return process.pid();
  }

  Process process() {
    return process;
  }

  Path log() {
    return log;
  }

  boolean alive() {
    return process.isAlive();
  }

  /** User plus system CPU time of the process (all its threads), in microseconds, from {@code /proc/PID/stat}. */
  long cpuMicros() {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(process.pid()), "stat"), StandardCharsets.US_ASCII);
      long[] t = userAndSystemMicros(stat);
      return t[0] + t[1];
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the CPU time of " + name + " (pid " + process.pid() + ")", e);
    }
  }

  /**
   * CPU time per thread name (threads of one pool summed: {@code vp-io-3-1} and {@code vp-io-3-2} count as
   * {@code vp-io}; the JIT's are {@code C1 CompilerThre} and {@code C2 CompilerThre}, cut by the kernel), user and
   * system apart, in microseconds: {@code [user, system]}.
   */
  Map<String, long[]> cpuByThread() {
    Map<String, long[]> out = new TreeMap<>();
    Path tasks = Path.of("/proc", Long.toString(process.pid()), "task");
    try (DirectoryStream<Path> dir = Files.newDirectoryStream(tasks)) {
      for (Path t : dir) {
        try {
          String stat = Files.readString(t.resolve("stat"), StandardCharsets.US_ASCII);
          String comm = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
          long[] times = userAndSystemMicros(stat);
          long[] v = out.computeIfAbsent(pool(comm), k -> new long[2]);
          v[0] += times[0];
          v[1] += times[1];
        } catch (IOException gone) {
          // the thread ended meanwhile
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list the threads of " + name, e);
    }
    return out;
  }

  /** utime and stime (fields 14 and 15) of a {@code /proc/…/stat} line, in microseconds. */
  private static long[] userAndSystemMicros(String stat) {
    // the command name (field 2) may hold spaces; fields after its closing parenthesis are fixed
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return new long[] {Long.parseLong(f[11]) * 1_000_000L / CLOCK_TICKS_PER_SECOND,
        Long.parseLong(f[12]) * 1_000_000L / CLOCK_TICKS_PER_SECOND};
  }

  /** A thread's pool: its name without the numbers Netty, the JIT and the GC append. */
  static String pool(String comm) {
    return comm.replaceAll("([-#][0-9]+)+$", "");
  }

  /** Resident set size in KiB ({@code VmRSS} of {@code /proc/PID/status}). */
  long rssKib() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
      }
      throw new IOException("no VmRSS line");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the memory of " + name + " (pid " + process.pid() + ")", e);
    }
  }

  /** Waits for the process to end by itself; kills it if it outlives {@code limit}. Returns its exit code. */
  int await(Duration limit) throws InterruptedException {
    if (!process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
      process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      throw new IllegalStateException(name + " did not end within " + limit + "; killed (log: " + log + ")");
    }
    return process.exitValue();
  }

  String output() {
    try {
      return Files.readString(log, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "";
    }
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      process.destroy();
      try {
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
          process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        process.destroyForcibly();
        Thread.currentThread().interrupt();
      }
    }
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException shuttingDown) {
      // the hook runs anyway
    }
  }

  private static long clockTicks() {
    try {
      Process p = new ProcessBuilder("getconf", "CLK_TCK").redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
      p.waitFor(5, TimeUnit.SECONDS);
      return Long.parseLong(out);
    } catch (IOException | NumberFormatException e) {
      return 100;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 100;
    }
  }
}

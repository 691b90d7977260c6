package dev.vertexproxy.bench.sidebyside;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** The run's settings; see {@link SideBySide} for the flags. */
record Options(Path root, Path out, Path dir, int rounds, Duration seconds, Duration warmup, int connections, int rate,
    Duration latencySeconds, int sseStreams, int streams, Duration budget, boolean quick, Set<String> only,
    List<String> servers, Path proxyJar, List<String> proxyJvm, String durability) {
  static final List<String> PHASES = List.of("throughput", "latency", "sse", "streams", "rules", "ladder", "profile");


  /** A run of part of the phases or servers: its report stays in {@link #dir()}, docs/benchmarks.md is untouched. */
  boolean partial() {
    return quick || !proxyJvm.isEmpty() || !durability.equals("group_commit")
        || !proxyJar.equals(root.resolve("dist/target/vertex-proxy.jar")) || only.size() < PHASES.size()
        || servers.size() < SideBySide.ORDER.size();
  }

  /**
   * How long a fresh P is warmed before it is measured: its JIT shares the one CPU with the event loop and was still
   * compiling after 40 s here, and a full run's first round still found it at 252 µs per request after 60 s (100 µs by
   * its third), so a minute and a half.
   */
  Duration jvmWarmup() {
    return quick ? warmup : max(warmup, Duration.ofSeconds(90));
  }

  /** The ladder's seven processes: each warmed half a minute, measured up and down the ladder (two rounds). */
  Duration ladderWarmup() {
    return quick ? warmup : max(warmup, Duration.ofSeconds(25));
  }

  int ladderRounds() {
    return Math.min(rounds, 2);
  }

  Duration ladderSeconds() {
    return quick ? seconds : Duration.ofSeconds(Math.min(seconds.toSeconds(), 8));
  }

  private static Duration max(Duration a, Duration b) {
    return a.compareTo(b) >= 0 ? a : b;
  }

  static Options parse(String[] args) {
    Path root = Path.of(System.getProperty("bench.root", ".")).toAbsolutePath().normalize();
    Path out = root.resolve("docs/benchmarks.md");
    Path dir = root.resolve("target/side-by-side");
    int rounds = 3;
    int seconds = 10;
    int warmup = 10;
    int connections = 32;
    int rate = 2000;
    int latency = 6;
    int sse = 50;
    int streams = 1000;
    int budget = 26;
    boolean quick = false;
    Set<String> only = new LinkedHashSet<>(PHASES);
    List<String> servers = SideBySide.ORDER;
    Path proxyJar = root.resolve("dist/target/vertex-proxy.jar");
    List<String> proxyJvm = new ArrayList<>();
    String durability = "group_commit";
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      switch (a) {
        case "--quick" -> quick = true;
        case "--rounds" -> rounds = Integer.parseInt(args[++i]);
        case "--seconds" -> seconds = Integer.parseInt(args[++i]);
        case "--warmup" -> warmup = Integer.parseInt(args[++i]);
        case "--connections" -> connections = Integer.parseInt(args[++i]);
        case "--rate" -> rate = Integer.parseInt(args[++i]);
        case "--latency-seconds" -> latency = Integer.parseInt(args[++i]);
        case "--sse-streams" -> sse = Integer.parseInt(args[++i]);
        case "--streams" -> streams = Integer.parseInt(args[++i]);
        case "--budget-minutes" -> budget = Integer.parseInt(args[++i]);
        case "--out" -> out = Path.of(args[++i]).toAbsolutePath();
        case "--dir" -> dir = Path.of(args[++i]).toAbsolutePath();
        case "--proxy-jar" -> proxyJar = Path.of(args[++i]).toAbsolutePath();
        case "--proxy-jvm" -> proxyJvm.add(args[++i]);
        case "--durability" -> durability = args[++i];
        case "--only" -> {
          only = new LinkedHashSet<>(List.of(args[++i].split(",")));
          if (!PHASES.containsAll(only)) {
            throw new IllegalArgumentException("--only takes some of " + String.join(",", PHASES));
          }
        }
        case "--servers" -> {
          servers = List.of(args[++i].split(","));
          if (!SideBySide.ORDER.containsAll(servers) || !servers.contains("P")) {
            throw new IllegalArgumentException("--servers takes some of D,N,H,P, P among them");
          }
        }
        default -> throw new IllegalArgumentException("unknown option " + a
            + " (known: --quick --rounds --seconds --warmup --connections --rate --latency-seconds --sse-streams"
            + " --streams --budget-minutes --out --dir --only --servers --proxy-jar --proxy-jvm"
            + " --durability)");
      }
    }
    if (quick) { // a smoke run of every phase: minutes, not figures to quote
      rounds = 1;
      seconds = Math.min(seconds, 3);
      warmup = Math.min(warmup, 3);
      latency = Math.min(latency, 3);
      sse = Math.min(sse, 10);
      streams = Math.min(streams, 200);
    }
    return new Options(root, out, dir, rounds, Duration.ofSeconds(seconds), Duration.ofSeconds(warmup), connections, rate,
        Duration.ofSeconds(latency), sse, streams, Duration.ofMinutes(budget), quick, Set.copyOf(only),
        List.copyOf(servers), proxyJar, List.copyOf(proxyJvm), durability);
  }
}

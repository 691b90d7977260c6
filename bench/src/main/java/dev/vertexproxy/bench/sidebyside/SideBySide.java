package dev.vertexproxy.bench.sidebyside;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The side-by-side run of {@code scripts/bench}: the upstream stub directly (D), nginx (N), HAProxy verifying the
 * JWT (H) and vertex-proxy with everything on (P), under the same load on loopback, the load generator and stub on
 * one CPU and the server under test on the other; interleaved rounds (D N H P P H N D), medians with their range.
 * Writes its tables into {@code docs/benchmarks.md} between its markers, and the raw numbers beside its logs.
 *
 * <p>Usage: {@code SideBySide [--rounds 3] [--seconds 10] [--warmup 10] [--connections 32] [--rate 2000]
 * [--streams 1000] [--quick] [--out docs/benchmarks.md] [--dir target/side-by-side] [--budget-minutes 24]
 * [--only throughput,latency,sse,streams,rules,ladder,profile] [--servers D,N,H,P] [--proxy-jar another/vertex-proxy.jar]}.
 * A quick or partial run (or one of another build's jar: a before/after figure) leaves docs/benchmarks.md alone.
 */
public final class SideBySide {
  static final List<String> ORDER = List.of("D", "N", "H", "P");
  private static final Map<String, String> PHASE_KEYS = Map.of("throughput", "throughput", "latency", "latency",
      "SSE timing", "sse", "concurrent streams", "streams", "policy size", "rules", "ablation ladder", "ladder",
      "profile", "profile");
  static final List<String> LADDER = List.of("passthrough", "jwt", "policy", "tokenswap", "none", "group_commit", "sync");

  private final Options o;
  private final Results r = new Results();
  private final long started = System.nanoTime();

  private SideBySide(Options o) {
    this.o = o;
  }

  public static void main(String[] args) throws Exception {
    Options o = Options.parse(args);
    new SideBySide(o).run();
    // Stopped by itself: nothing the run started (an in-process emulator's threads, say) may keep the JVM up after it
    System.exit(0);
  }

  private void run() throws Exception {
    Files.createDirectories(o.dir());
    r.machine.putAll(Machine.describe(o));
    Wrk wrk = new Wrk(0, o.connections(), o.dir().resolve("wrk"));
    Tools tools = new Tools(Stack.benchJar(o.root()), 0, o.dir().resolve("tools"));
    try (Stack stack = Stack.start(o.root(), o.proxyJar(), o.proxyJvm(), o.dir(), 0, 1)) {
      Path json = wrk.script("json", stack.headers(), Stack.BODY);
      Upstream.write(o.dir().resolve("body.json"), Stack.BODY); // the Java tools' request body
      Map<String, Stack.Server> servers = new LinkedHashMap<>();
      for (String label : o.servers()) {
        servers.put(label, switch (label) {
          case "D" -> stack.direct();
          case "N" -> stack.nginx();
          case "H" -> stack.haproxy();
          default -> stack.proxy(ProxyVariant.full(100, o.durability()));
        });
      }
      servers.values().forEach(s -> r.descriptions.put(s.label(), s.description()));
      for (Stack.Server s : servers.values()) {
        stack.warm(s);
        log("warm-up " + s.label());
        wrk.run("warm-" + s.label(), s.url() + Stack.JSON_PATH, json, s.label().equals("P") ? o.jvmWarmup() : o.warmup());
      }
      phase("throughput", () -> throughput(wrk, json, servers));
      phase("latency", () -> latency(tools, stack, servers));
      phase("SSE timing", () -> sse(tools, stack, servers));
      phase("concurrent streams", () -> streams(tools, stack, servers));
      phase("policy size", () -> rules(wrk, json, stack, servers.get("P")));
      phase("ablation ladder", () -> ladder(wrk, json, stack));
      phase("profile", () -> profile(wrk, json, stack));
    } finally {
      r.wallSeconds = Duration.ofNanos(System.nanoTime() - started).toSeconds();
      Report.write(r, o);
    }
  }

  /** Throughput and CPU per request, rounds of D N H P P H N D. */
  private void throughput(Wrk wrk, Path json, Map<String, Stack.Server> servers) throws Exception {
    List<String> round = new ArrayList<>(o.servers());
    round.addAll(reversed(o.servers()));
    for (int i = 1; i <= o.rounds(); i++) {
      for (String label : round) {
        Stack.Server s = servers.get(label);
        double[] batches0 = Stack.auditBatches(s); // read outside the CPU window: the scrape is P's work too
        long cpu0 = s.process() == null ? 0 : s.process().cpuMicros();
        Wrk.Result res = wrk.run(label + "-" + i, s.url() + Stack.JSON_PATH, json, o.seconds());
        long cpu = s.process() == null ? 0 : s.process().cpuMicros() - cpu0;
        double[] batches1 = Stack.auditBatches(s);
        String perBatch = "";
        if (batches0 != null && batches1 != null && batches1[0] > batches0[0]) {
          double records = (batches1[1] - batches0[1]) / (batches1[0] - batches0[0]);
          r.recordsPerBatch.add(records);
          perBatch = String.format(", %.1f audit records per write batch", records);
          double fsyncs = batches1[2] - batches0[2];
          if (fsyncs > 0) {
            double micros = 1e6 * (batches1[3] - batches0[3]) / fsyncs;
            r.fsyncMicros.add(micros);
            perBatch += String.format(", fsync %.0f µs", micros);
          }
        }
        Results.add(r.rate, label, res.rate());
        double cpuPerRequest = (double) cpu / res.requests();
        if (s.process() != null) {
          Results.add(r.cpuPerRequest, label, cpuPerRequest);
          Results.add(r.cpuBusy, label, 100.0 * cpuPerRequest * res.rate() / 1e6); // µs of CPU per s of wall, in %
        }
        r.error(label, res.errors());
        log(String.format("round %d %s: %,.0f req/s, %s%s", i, label, res.rate(),
            s.process() == null ? "-" : String.format("%.1f µs CPU/request", cpuPerRequest), perBatch));
      }
    }
  }

  /** Open-loop latency, unloaded (one request at a time) and at a fixed rate, corrected for coordinated omission. */
  private void latency(Tools tools, Stack stack, Map<String, Stack.Server> servers) throws Exception {
    Path body = o.dir().resolve("body.json");
    for (int i = 1; i <= o.rounds(); i++) {
      for (String label : i % 2 == 1 ? o.servers() : reversed(o.servers())) {
        Stack.Server s = servers.get(label);
        for (String figure : List.of("unloaded", "loaded")) {
          List<String> args = new ArrayList<>(List.of("--url", s.url() + Stack.JSON_PATH, "--body-file", body.toString(),
              "--rate", figure.equals("unloaded") ? "0" : Integer.toString(o.rate()),
              "--duration", Long.toString(o.latencySeconds().toSeconds()), "--warmup", "2",
              "--connections", figure.equals("unloaded") ? "1" : Integer.toString(o.connections())));
          args.addAll(Tools.headerArgs(stack.headers()));
          JsonNode out = tools.run("OpenLoop", args, o.latencySeconds().plusSeconds(60));
          JsonNode lat = Report.summary(out, "latency");
          for (String pct : List.of("p50", "p90", "p99", "p99_9", "max")) {
            Results.add(r.latency, figure, label, pct, lat.path(pct).asDouble(Double.NaN));
          }
          r.error(label + " " + figure, Report.errors(out));
          log(String.format("latency %s %s round %d: p50 %s µs, p99 %s µs", figure, label, i, lat.path("p50"),
              lat.path("p99")));
        }
      }
    }
  }

  /** SSE: time to the first event and the gaps between events, through each server. */
  private void sse(Tools tools, Stack stack, Map<String, Stack.Server> servers) throws Exception {
    Path body = o.dir().resolve("body.json");
    for (int i = 1; i <= o.rounds(); i++) {
      for (String label : i % 2 == 1 ? o.servers() : reversed(o.servers())) {
        Stack.Server s = servers.get(label);
        List<String> args = new ArrayList<>(List.of("--url", s.url() + Stack.SSE_PATH, "--body-file", body.toString(),
            "--streams", Integer.toString(o.sseStreams()), "--warmup-streams", "5"));
        args.addAll(Tools.headerArgs(stack.headers()));
        JsonNode out = tools.run("SseTiming", args, Duration.ofMinutes(3));
        for (String figure : List.of("first", "gap")) {
          JsonNode sum = Report.summary(out, figure);
          for (String pct : List.of("p50", "p99", "max")) {
            Results.add(r.sse, figure, label, pct, sum.path(pct).asDouble(Double.NaN));
          }
        }
        r.error(label + " sse", Report.errors(out));
        log("sse " + label + " round " + i + ": " + out);
      }
    }
  }

  /** Resident memory of each server with many concurrent SSE streams open through it. */
  private void streams(Tools tools, Stack stack, Map<String, Stack.Server> servers) throws Exception {
    Path body = o.dir().resolve("body.json");
    for (String label : List.of("N", "H", "P")) {
      Stack.Server s = servers.get(label);
      if (s == null) {
        continue;
      }
      r.rssIdle.put(label, s.process().rssKib() / 1024.0);
      long hold = 30;
      List<String> args = new ArrayList<>(List.of("--url", s.url() + Stack.SSE_PATH + "&bench_events=" + (hold * 5)
          + "&bench_gap_ms=200", "--body-file", body.toString(), "--streams", Integer.toString(o.streams()),
          "--hold", Long.toString(hold)));
      args.addAll(Tools.headerArgs(stack.headers()));
      try (Child c = tools.start("ManyStreams", args)) {
        JsonNode open = Tools.awaitLine(c, "open", Duration.ofSeconds(hold));
        Thread.sleep(1000); // let the streams' first buffers settle before reading the memory
        double rss = s.process().rssKib() / 1024.0;
        r.rssStreams.put(label, rss);
        Tools.tell(c, "done");
        c.await(Duration.ofSeconds(hold + 30));
        JsonNode last = Tools.lastJson(c);
        r.streamsNote.put(label, open.path("open").asText() + " of " + o.streams() + " streams had their first event"
            + (last == null ? "" : "; " + last.path("events").asText() + " events received, "
            + Report.errors(last) + " errors, opened in " + last.path("open_ms").asText() + " ms"));
        log(String.format("streams %s: %.0f MiB idle, %.0f MiB with %s open", label, r.rssIdle.get(label), rss,
            open.path("open").asText()));
      } catch (IOException e) {
        r.notMeasured.add("RSS with " + o.streams() + " streams through " + label + ": " + firstLine(e));
        log("streams " + label + " failed: " + e.getMessage());
      }
    }
  }

  /**
   * P with 100 and with 10,000 policy rules: one process, its policy swapped in place and reloaded between runs, so
   * both sizes share the JVM, its JIT and its connections, and differ in the policy alone. Each round runs the sizes
   * A B B A (B A A B in the next), so a machine drifting within the round weighs on both alike; after each reload an
   * unmeasured 2 s of load lets the new policy's first requests pass before the measured run.
   */
  private void rules(Wrk wrk, Path json, Stack stack, Stack.Server p) throws Exception {
    try {
      for (int i = 1; i <= o.rounds(); i++) {
        List<Integer> order = i % 2 == 1 ? List.of(100, 10_000, 10_000, 100) : List.of(10_000, 100, 100, 10_000);
        Map<Integer, List<Double>> round = new LinkedHashMap<>();
        int inForce = -1;
        for (int rules : order) {
          if (rules != inForce) {
            stack.usePolicy(p, rules);
            inForce = rules;
            wrk.run("settle-rules-" + rules + "-" + i, p.url() + Stack.JSON_PATH, json, Duration.ofSeconds(2));
          }
          long cpu0 = p.process().cpuMicros();
          Wrk.Result res = wrk.run("rules-" + rules + "-" + i, p.url() + Stack.JSON_PATH, json, o.seconds());
          r.rulesRate.computeIfAbsent(rules, k -> new ArrayList<>()).add(res.rate());
          r.rulesCpu.computeIfAbsent(rules, k -> new ArrayList<>())
              .add((double) (p.process().cpuMicros() - cpu0) / res.requests());
          round.computeIfAbsent(rules, k -> new ArrayList<>()).add(res.rate());
          r.error("P " + rules + " rules", res.errors());
          log(String.format("rules %,d round %d: %,.0f req/s", rules, i, res.rate()));
        }
        double small = mean(round.get(100));
        r.rulesChange.add(100 * (mean(round.get(10_000)) - small) / small);
      }
    } finally {
      try {
        stack.usePolicy(p, 100); // P as it started, for whatever runs after
      } catch (IOException e) {
        log("P's policy of 100 rules could not be restored: " + e.getMessage());
      }
    }
  }

  private static double mean(List<Double> values) {
    return values.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
  }

  /** The ablation ladder: what each piece of P costs, each rung its own process, rounds up and down the ladder. */
  private void ladder(Wrk wrk, Path json, Stack stack) throws Exception {
    Map<String, Stack.Server> rungs = new LinkedHashMap<>();
    try {
      for (String rung : LADDER) {
        boolean ablated = List.of("passthrough", "jwt", "policy", "tokenswap").contains(rung);
        if (ablated && !Files.exists(Stack.benchJar(o.root()))) {
          continue;
        }
        ProxyVariant v = ablated ? ProxyVariant.rung(rung, "none") : ProxyVariant.rung(null, rung);
        try {
          Stack.Server s = stack.proxy(v);
          rungs.put(rung, s);
          wrk.run("warm-" + rung, s.url() + Stack.JSON_PATH, json, o.ladderWarmup());
        } catch (IOException e) {
          r.notMeasured.add("ablation rung " + rung + ": " + firstLine(e));
        }
      }
      List<String> up = new ArrayList<>(rungs.keySet());
      for (int i = 1; i <= o.ladderRounds(); i++) {
        for (String rung : i % 2 == 1 ? up : reversed(up)) {
          Stack.Server s = rungs.get(rung);
          long cpu0 = s.process().cpuMicros();
          Wrk.Result res = wrk.run("ladder-" + rung + "-" + i, s.url() + Stack.JSON_PATH, json, o.ladderSeconds());
          Results.add(r.ladderRate, rung, res.rate());
          Results.add(r.ladderCpu, rung, (double) (s.process().cpuMicros() - cpu0) / res.requests());
          r.error("ladder " + rung, res.errors());
          log(String.format("ladder %s round %d: %,.0f req/s", rung, i, res.rate()));
        }
      }
    } finally {
      rungs.values().forEach(stack::stop);
    }
  }

  /** One more P, recorded by the flight recorder during one run at full load only (not its start): where its CPU goes. */
  private void profile(Wrk wrk, Path json, Stack stack) throws Exception {
    Path jfr = o.dir().resolve("proxy-under-load.jfr");
    Files.deleteIfExists(jfr);
    Stack.Server p = stack.proxy(ProxyVariant.full(100).tagged("profile"));
    try {
      wrk.run("warm-profile", p.url() + Stack.JSON_PATH, json, o.jvmWarmup());
      for (int i = 1; i <= 2; i++) { // twice: whether the JIT has settled shows in its compiler threads' share
        Map<String, long[]> before = p.process().cpuByThread();
        Wrk.Result plain = wrk.run("threads-" + i, p.url() + Stack.JSON_PATH, json, o.seconds());
        r.profile.addAll(Profile.threads(before, p.process().cpuByThread(), plain.requests()));
      }
      syscalls(wrk, json, p);
      jcmd(p.process(), "JFR.start", "name=bench", "settings=profile");
      Wrk.Result res = wrk.run("profile", p.url() + Stack.JSON_PATH, json, o.seconds());
      jcmd(p.process(), "JFR.stop", "name=bench", "filename=" + jfr);
      r.profile.addAll(Profile.summarise(jfr, res.requests(), 15));
    } finally {
      stack.stop(p);
    }
  }

  /** System calls per request, counted by strace over one short run (strace slows P; only the counts are used). */
  private void syscalls(Wrk wrk, Path json, Stack.Server p) throws Exception {
    if (Machine.first(List.of("strace", "-V")).equals("not found")) {
      r.notMeasured.add("system calls per request: strace is not installed");
      return;
    }
    Path out = o.dir().resolve("strace-summary.txt");
    List<String> cmd = List.of("timeout", "-s", "INT", Long.toString(o.seconds().toSeconds() + 2), "strace", "-c", "-f",
        "-S", "calls", "-o", out.toString(), "-p", Long.toString(p.process().pid()));
    try (Child strace = Child.start("strace", 0, cmd, o.dir().resolve("strace.log"))) {
      Thread.sleep(1000); // attached
      Wrk.Result res = wrk.run("strace", p.url() + Stack.JSON_PATH, json, o.seconds());
      strace.await(Duration.ofSeconds(30));
      r.profile.addAll(Profile.syscalls(Files.readAllLines(out), res.requests()));
    }
  }

  private void jcmd(Child target, String... command) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
        Long.toString(target.pid())));
    cmd.addAll(List.of(command));
    try (Child c = Child.start("jcmd", 0, cmd, o.dir().resolve("jcmd-" + command[0] + ".log"))) {
      if (c.await(Duration.ofSeconds(60)) != 0) {
        throw new IOException("jcmd " + String.join(" ", command) + " failed:\n" + c.output());
      }
    }
  }

  /** A phase that fails is reported as not measured; the run goes on with the next one. */
  private void phase(String name, Step step) throws InterruptedException {
    if (!o.only().contains(PHASE_KEYS.get(name)) || !budgetLeft(name)) {
      return;
    }
    try {
      step.run();
    } catch (InterruptedException e) {
      throw e;
    } catch (Exception e) {
      r.notMeasured.add(name + ": failed: " + firstLine(e));
      log(name + " failed: " + e);
    }
  }

  private interface Step {
    void run() throws Exception;
  }

  private boolean budgetLeft(String phase) {
    Duration used = Duration.ofNanos(System.nanoTime() - started);
    if (used.compareTo(o.budget()) < 0) {
      return true;
    }
    r.notMeasured.add(phase + ": skipped, the run had used " + used.toMinutes() + " of its " + o.budget().toMinutes()
        + " minutes");
    return false;
  }

  static <T> List<T> reversed(List<T> list) {
    List<T> copy = new ArrayList<>(list);
    Collections.reverse(copy);
    return copy;
  }

  private static String firstLine(Exception e) {
    String m = String.valueOf(e.getMessage());
    int nl = m.indexOf('\n');
    return nl < 0 ? m : m.substring(0, nl);
  }

  static void log(String line) {
    System.err.println("[bench] " + line);
  }
}

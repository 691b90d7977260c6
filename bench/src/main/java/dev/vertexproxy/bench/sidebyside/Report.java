package dev.vertexproxy.bench.sidebyside;

import com.fasterxml.jackson.annotation.JsonAutoDetect;
import com.fasterxml.jackson.annotation.PropertyAccessor;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Renders a run's {@link Results} as the Markdown section of docs/benchmarks.md between its two markers. */
final class Report {
  static final String START = "<!-- scripts/bench side-by-side: start (generated; edits are overwritten) -->";
  static final String END = "<!-- scripts/bench side-by-side: end -->";

  private Report() {
  }

  static void write(Results r, Options o) throws IOException {
    Files.createDirectories(o.dir());
    Files.writeString(o.dir().resolve("results.json"), Tools.JSON.copy()
        .setVisibility(PropertyAccessor.FIELD, JsonAutoDetect.Visibility.ANY).writerWithDefaultPrettyPrinter()
        .writeValueAsString(r), StandardCharsets.UTF_8);
    String section = render(r, o);
    Files.writeString(o.dir().resolve("report.md"), section, StandardCharsets.UTF_8);
    if (o.partial()) {
      SideBySide.log("quick or partial run: report in " + o.dir().resolve("report.md") + ", " + o.out() + " left as it was");
      return;
    }
    String doc = Files.exists(o.out()) ? Files.readString(o.out(), StandardCharsets.UTF_8) : "# Benchmarks\n\n";
    Files.writeString(o.out(), splice(doc, section), StandardCharsets.UTF_8);
    SideBySide.log("report written to " + o.out());
  }

  /** The document with its generated section replaced, or inserted before the first second-level heading. */
  static String splice(String doc, String section) {
    String block = START + "\n" + section + END + "\n";
    int s = doc.indexOf(START);
    int e = doc.indexOf(END);
    if (s >= 0 && e > s) {
      return doc.substring(0, s) + block + doc.substring(e + END.length()).replaceFirst("^\n", "");
    }
    int h = doc.indexOf("\n## ");
    return h < 0 ? doc + "\n" + block : doc.substring(0, h + 1) + block + "\n" + doc.substring(h + 1);
  }

  static String render(Results r, Options o) {
    StringBuilder b = new StringBuilder();
    b.append("## Side by side: direct, nginx, HAProxy, vertex-proxy\n\n");
    b.append("Written by `scripts/bench` (").append(o.quick() ? "**quick smoke run, not figures to quote**; " : "")
        .append(o.rounds()).append(" rounds, ").append(o.seconds().toSeconds()).append(" s per throughput run, ")
        .append(r.wallSeconds / 60).append(" min ").append(r.wallSeconds % 60).append(" s in all). ");
    b.append("Loopback only. The load generator (wrk, and the Java tools for latency and SSE), the upstream stub, the ")
        .append("CI token issuer and the Google emulator run on CPU 0; the server under test runs alone on CPU 1 ")
        .append("(`taskset`). Each figure is the median of its rounds with the range (min–max) in brackets; rounds are ")
        .append("interleaved (D N H P P H N D) so that drift of the machine hits every server alike. Each server is ")
        .append("warmed with wrk before it is measured, ").append(o.warmup().toSeconds()).append(" s, and every fresh P ")
        .append(o.jvmWarmup().toSeconds()).append(" s: its JIT compiles on the same single CPU as its event loop.\n\n");
    b.append("| | |\n|---|---|\n");
    r.machine.forEach((k, v) -> b.append("| ").append(k).append(" | ").append(v.replace("|", "\\|")).append(" |\n"));
    b.append('\n');
    r.descriptions.forEach((k, v) -> b.append("- **").append(k).append("**: ").append(v).append('\n'));
    b.append("\nWorkload: `POST …/gemini-2.0-flash:generateContent` with a ").append(Stack.BODY.length())
        .append("-byte Gen AI SDK body and a GitLab CI ID token (RS256, ~1 KB), a ~300-byte Gemini JSON answer; ")
        .append(o.connections()).append(" keep-alive connections. P runs as `serve` with the container image's JVM ")
        .append("settings in a 512 MiB pod (`").append(String.join(" ", Stack.PROXY_JVM))
        .append("`), the policy of 100 rules, `audit.durability: ").append(o.durability())
        .append("` on this machine's disk (its fsync latency is in the table above), ")
        .append("signed checkpoints, `upstream.max_idle_per_host: 64`.\n\n");
    targets(b, r);
    throughput(b, r);
    latency(b, r, o);
    sse(b, r);
    memory(b, r, o);
    rules(b, r);
    ladder(b, r, o);
    if (!r.profile.isEmpty()) {
      b.append("### Where P's CPU goes (flight recording, one ").append(o.seconds().toSeconds())
          .append(" s run at full load)\n\n");
      r.profile.forEach(line -> b.append(line).append('\n'));
      b.append('\n');
    }
    b.append("### Errors and what was not measured\n\n");
    long failed = r.errors.values().stream().mapToLong(Long::longValue).sum();
    b.append(failed == 0 ? "Every request of every run succeeded (no non-2xx answer, no socket error).\n"
        : "Failed requests: " + r.errors + "\n");
    r.notMeasured.forEach(n -> b.append("- ").append(n).append('\n'));
    b.append('\n');
    return b.toString();
  }

  private static void targets(StringBuilder b, Results r) {
    b.append("### Targets\n\n| target | measured | |\n|---|---|---|\n");
    Spread ratio = ratio(r.rate.getOrDefault("P", List.of()), r.rate.getOrDefault("H", List.of()));
    row(b, "P's throughput ≥ 1.5 × H's", ratio.show("%.2f", "×"), ratio.median(), 1.5, true);
    Spread cpu = r.spread(r.cpuPerRequest, "P");
    row(b, "P's CPU per request ≤ ~45 µs", cpu.show("%.1f", "µs"), cpu.median(), 45, false);
    Spread a50 = added(r, "unloaded", "p50");
    row(b, "added latency p50 ≤ 0.2 ms unloaded", a50.show("%.0f", "µs"), a50.median(), 200, false);
    Spread a99 = added(r, "unloaded", "p99");
    row(b, "added latency p99 ≤ 1 ms unloaded", a99.show("%.0f", "µs"), a99.median(), 1000, false);
    Spread l99 = added(r, "loaded", "p99");
    row(b, "added latency p99 ≤ 2 ms at a fixed rate", l99.show("%.0f", "µs"), l99.median(), 2000, false);
    Spread first = addedSse(r, "first", "p50");
    row(b, "SSE first event ≤ 1 ms later than direct (p50)", first.show("%.0f", "µs"), first.median(), 1000, false);
    Double rss = r.rssStreams.get("P");
    row(b, "P's RSS ≤ 300 MiB with the concurrent streams open", rss == null ? "not measured" : String.format("%.0f MiB",
        rss), rss == null ? Double.NaN : rss, 300, false);
    Spread change = Spread.of(r.rulesChange);
    row(b, "throughput 100 → 10,000 rules changes by ≤ 5 %", change.show("%+.1f", "%"), Math.abs(change.median()), 5,
        false);
    b.append('\n');
  }

  private static void row(StringBuilder b, String what, String shown, double value, double target, boolean atLeast) {
    String verdict;
    if (Double.isNaN(value)) {
      verdict = "not measured";
    } else if (atLeast ? value >= target : value <= target) {
      verdict = "met";
    } else {
      double by = atLeast ? (target - value) / target : (value - target) / target;
      verdict = String.format("**missed** by %.0f %%", 100 * by);
    }
    b.append("| ").append(what).append(" | ").append(shown).append(" | ").append(verdict).append(" |\n");
  }

  private static void throughput(StringBuilder b, Results r) {
    b.append("### Throughput (wrk, closed loop)\n\n| server | requests/s | × D | × H | CPU µs per request (server) ")
        .append("| its CPU busy |\n|---|---|---|---|---|---|\n");
    for (String s : SideBySide.ORDER) {
      Spread rate = r.spread(r.rate, s);
      b.append("| ").append(s).append(" | ").append(rate.show("%,.0f")).append(" | ")
          .append(ratio(r.rate.getOrDefault(s, List.of()), r.rate.getOrDefault("D", List.of())).show("%.2f")).append(" | ")
          .append(ratio(r.rate.getOrDefault(s, List.of()), r.rate.getOrDefault("H", List.of())).show("%.2f")).append(" | ")
          .append(s.equals("D") ? "—" : r.spread(r.cpuPerRequest, s).show("%.1f")).append(" | ")
          .append(s.equals("D") || !r.cpuBusy.containsKey(s) ? "—" : r.spread(r.cpuBusy, s).show("%.0f") + " %")
          .append(" |\n");
    }
    b.append("\nRatios are taken round by round (P of round 1 over H of round 1, …). D's CPU is not shown: there is no ")
        .append("server under test, and the stub shares CPU 0 with wrk, so D is the ceiling of this load generator ")
        .append("rather than of loopback. \"Its CPU busy\" is the server's CPU time over the run's wall time; H, which ")
        .append("never waits on a disk, shows how busy this machine lets a server be (a virtual CPU the host takes away ")
        .append("counts as idle). Where P stays below H, P spent part of the run waiting rather than computing (each of ")
        .append("its answers waits for its audit record's fsync), and its CPU per request does not bound its throughput.");
    if (!r.recordsPerBatch.isEmpty()) {
      b.append(" P wrote ").append(Spread.of(r.recordsPerBatch).show("%.1f"))
          .append(" audit records per write batch in these runs (one write each, and one fsync unless `audit.durability` ")
          .append("is none).");
    }
    if (!r.fsyncMicros.isEmpty()) {
      b.append(" Each of those fsyncs took ").append(Spread.of(r.fsyncMicros).show("%,.0f"))
          .append(" µs on average as P's writer timed it (`vertex_proxy_audit_fsync`), from its call until the writer ran ")
          .append("again: the disk's own latency (the machine table) plus any wait for the CPU, which the writer shares ")
          .append("with the event loop.");
    }
    b.append("\n\n");
  }

  private static void latency(StringBuilder b, Results r, Options o) {
    b.append("### Latency (open loop, corrected for coordinated omission)\n\n");
    b.append("Unloaded: one connection, one request at a time. Loaded: ").append(String.format("%,d", o.rate()))
        .append(" requests/s on a schedule over up to ").append(o.connections()).append(" connections, each latency ")
        .append("measured from the moment its request was due. µs; \"added\" is the server's figure minus D's of the ")
        .append("same round. In `group_commit` every answer waits until its record is on disk, so one request at a ")
        .append("time pays one fsync of the audit disk each: the machine table's fsync latency is the floor under P's ")
        .append("unloaded figures; under load one fsync carries a batch.\n\n");
    b.append("| server | unloaded p50 | unloaded p99 | added p50 | added p99 | loaded p50 | loaded p99 | loaded p99.9 |")
        .append(" loaded added p99 |\n|---|---|---|---|---|---|---|---|---|\n");
    for (String s : SideBySide.ORDER) {
      b.append("| ").append(s)
          .append(" | ").append(r.spread(r.latency, "unloaded", s, "p50").show("%,.0f"))
          .append(" | ").append(r.spread(r.latency, "unloaded", s, "p99").show("%,.0f"))
          .append(" | ").append(s.equals("D") ? "—" : added(r, "unloaded", "p50", s).show("%,.0f"))
          .append(" | ").append(s.equals("D") ? "—" : added(r, "unloaded", "p99", s).show("%,.0f"))
          .append(" | ").append(r.spread(r.latency, "loaded", s, "p50").show("%,.0f"))
          .append(" | ").append(r.spread(r.latency, "loaded", s, "p99").show("%,.0f"))
          .append(" | ").append(r.spread(r.latency, "loaded", s, "p99_9").show("%,.0f"))
          .append(" | ").append(s.equals("D") ? "—" : added(r, "loaded", "p99", s).show("%,.0f")).append(" |\n");
    }
    b.append('\n');
  }

  private static void sse(StringBuilder b, Results r) {
    b.append("### SSE (`streamGenerateContent?alt=sse`, the stub paces its events)\n\n")
        .append("| server | first event p50 | first event p99 | added p50 | added p99 | gap p50 | gap p99 | gap added p99 |\n")
        .append("|---|---|---|---|---|---|---|---|\n");
    for (String s : SideBySide.ORDER) {
      b.append("| ").append(s)
          .append(" | ").append(r.spread(r.sse, "first", s, "p50").show("%,.0f"))
          .append(" | ").append(r.spread(r.sse, "first", s, "p99").show("%,.0f"))
          .append(" | ").append(s.equals("D") ? "—" : addedSse(r, "first", "p50", s).show("%,.0f"))
          .append(" | ").append(s.equals("D") ? "—" : addedSse(r, "first", "p99", s).show("%,.0f"))
          .append(" | ").append(r.spread(r.sse, "gap", s, "p50").show("%,.0f"))
          .append(" | ").append(r.spread(r.sse, "gap", s, "p99").show("%,.0f"))
          .append(" | ").append(s.equals("D") ? "—" : addedSse(r, "gap", "p99", s).show("%,.0f")).append(" |\n");
    }
    b.append("\nµs. A gap is the time between two consecutive events as the client receives them; the stub sends them ")
        .append("a fixed interval apart, so an added gap is batching or delay in the server.\n\n");
  }

  private static void memory(StringBuilder b, Results r, Options o) {
    b.append("### Memory with ").append(String.format("%,d", o.streams())).append(" concurrent SSE streams\n\n")
        .append("| server | RSS idle | RSS with the streams open | |\n|---|---|---|---|\n");
    for (String s : List.of("N", "H", "P")) {
      Double idle = r.rssIdle.get(s);
      Double open = r.rssStreams.get(s);
      b.append("| ").append(s).append(" | ").append(idle == null ? "—" : String.format("%.0f MiB", idle)).append(" | ")
          .append(open == null ? "not measured" : String.format("%.0f MiB", open)).append(" | ")
          .append(r.streamsNote.getOrDefault(s, "").replace("|", "\\|")).append(" |\n");
    }
    b.append('\n');
  }

  private static void rules(StringBuilder b, Results r) {
    b.append("### Policy size (P)\n\n| rules | requests/s | CPU µs per request |\n|---|---|---|\n");
    r.rulesRate.forEach((n, rates) -> b.append("| ").append(String.format("%,d", n)).append(" | ")
        .append(Spread.of(rates).show("%,.0f")).append(" | ")
        .append(Spread.of(r.rulesCpu.getOrDefault(n, List.of())).show("%.1f")).append(" |\n"));
    b.append("\nOne P, its policy file replaced and reloaded (`POST /policy/reload`) between runs: the two sizes share the"
        + " process, its JIT and its connections. Each round runs them A B B A (then B A A B), 2 s of unmeasured load"
        + " after each reload. Change from 100 to 10,000 rules, round by round (the mean of each size's two runs): ")
        .append(Spread.of(r.rulesChange).show("%+.1f", "%")).append(".\n\n");
  }

  private static void ladder(StringBuilder b, Results r, Options o) {
    b.append("### Ablation ladder (P, each rung its own process)\n\n")
        .append("| rung | requests/s | CPU µs per request | CPU added by the rung |\n|---|---|---|---|\n");
    Double previous = null;
    for (Map.Entry<String, List<Double>> e : r.ladderRate.entrySet()) {
      Spread cpu = Spread.of(r.ladderCpu.getOrDefault(e.getKey(), List.of()));
      b.append("| ").append(rungName(e.getKey())).append(" | ").append(Spread.of(e.getValue()).show("%,.0f"))
          .append(" | ").append(cpu.show("%.1f")).append(" | ")
          .append(previous == null ? "—" : String.format("%+.1f µs", cpu.median() - previous)).append(" |\n");
      previous = cpu.median();
    }
    b.append("\nEach rung is warmed ").append(o.ladderWarmup().toSeconds()).append(" s and measured ")
        .append(o.ladderRounds()).append(" times for ").append(o.ladderSeconds().toSeconds())
        .append(" s, up the ladder and down again. Rungs below \"audit\" run the proxy's own request path with the later ")
        .append("steps left out (bench-only ")
        .append("entry point `AblatedServe`; the product has no such switches) and no audit trail; the last three are ")
        .append("`serve` with `audit.durability` none, group_commit and sync.\n\n");
  }

  private static String rungName(String rung) {
    return switch (rung) {
      case "passthrough" -> "pass-through (route, forward)";
      case "jwt" -> "+ JWT (verified-token cache)";
      case "policy" -> "+ policy";
      case "tokenswap" -> "+ token swap (Google token)";
      case "none" -> "+ audit, durability none (async)";
      case "group_commit" -> "+ group commit";
      case "sync" -> "+ sync (instead of group commit)";
      default -> rung;
    };
  }

  static Spread ratio(List<Double> a, List<Double> b) {
    List<Double> out = new ArrayList<>();
    for (int i = 0; i < Math.min(a.size(), b.size()); i++) {
      out.add(a.get(i) / b.get(i));
    }
    return Spread.of(out);
  }

  private static Spread added(Results r, String figure, String pct) {
    return added(r, figure, pct, "P");
  }

  private static Spread added(Results r, String figure, String pct, String label) {
    return difference(r.spread(r.latency, figure, label, pct).values(), r.spread(r.latency, figure, "D", pct).values());
  }

  private static Spread addedSse(Results r, String figure, String pct) {
    return addedSse(r, figure, pct, "P");
  }

  private static Spread addedSse(Results r, String figure, String pct, String label) {
    return difference(r.spread(r.sse, figure, label, pct).values(), r.spread(r.sse, figure, "D", pct).values());
  }

  private static Spread difference(List<Double> a, List<Double> b) {
    List<Double> out = new ArrayList<>();
    for (int i = 0; i < Math.min(a.size(), b.size()); i++) {
      out.add(a.get(i) - b.get(i));
    }
    return Spread.of(out);
  }

  /** A tool's latency summary: the first object (itself or a member) with a {@code p50}. */
  static JsonNode summary(JsonNode out) {
    return summary(out, "");
  }

  /** The summary under the first member whose name contains {@code name} and that holds a {@code p50}. */
  static JsonNode summary(JsonNode out, String name) {
    if (name.isEmpty() && out.has("p50")) {
      return out;
    }
    for (Map.Entry<String, JsonNode> f : out.properties()) {
      if (f.getValue().isObject() && f.getKey().contains(name)) {
        JsonNode inner = summary(f.getValue(), "");
        if (!inner.isMissingNode()) {
          return inner;
        }
      }
    }
    return MissingNode.getInstance();
  }

  /** A tool's error count: a number, or the sum of an object of counts. */
  static long errors(JsonNode out) {
    JsonNode e = out.path("errors");
    if (e.has("total")) {
      return e.path("total").asLong();
    }
    if (e.isNumber()) {
      return e.asLong();
    }
    long n = 0;
    for (JsonNode v : e) {
      n += v.asLong();
    }
    return n;
  }
}

package dev.vertexproxy.bench.sidebyside;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The parsing and arithmetic the side-by-side report rests on: wrk's output, medians and ranges, the targets table. */
class SideBySideReportTest {
  private static final String WRK = """
      Running 10s test @ http://127.0.0.1:40001/v1/projects/dev-project/locations/us-central1/x:generateContent
        1 threads and 32 connections
        Thread Stats   Avg      Stdev     Max   +/- Stdev
          Latency     2.61ms    1.02ms  31.43ms   91.23%
          Req/Sec    12.40k   601.22    13.21k    72.00%
        Latency Distribution
           50%    2.44ms
           75%    2.80ms
           90%    3.31ms
           99%  612.00us
        123456 requests in 10.00s, 61.23MB read
        Non-2xx or 3xx responses: 7
        Socket errors: connect 0, read 2, write 0, timeout 1
      Requests/sec:  12345.60
      Transfer/sec:      6.12MB
      """;

  @Test
  void readsRequestsErrorsAndLatencyFromWrk() throws IOException {
    Wrk.Result r = Wrk.parse(WRK);
    assertThat(r.requests()).isEqualTo(123_456);
    assertThat(r.seconds()).isEqualTo(10.0);
    assertThat(r.rate()).isEqualTo(12_345.6);
    assertThat(r.errors()).isEqualTo(10); // 7 non-2xx + 2 read + 1 timeout
    assertThat(r.p50Micros()).isEqualTo(2440.0);
    assertThat(r.p99Micros()).isEqualTo(612.0);
  }

  @Test
  void readsWrkDurationsInMinutes() throws IOException {
    Wrk.Result r = Wrk.parse("  413743 requests in 1.50m, 177.56MB read\nRequests/sec:   4593.73\n");
    assertThat(r.seconds()).isEqualTo(90.0);
    assertThat(r.rate()).isCloseTo(4597.1, within(0.1));
  }

  @Test
  void refusesWrkOutputWithoutACount() {
    assertThatThrownBy(() -> Wrk.parse("unable to connect to 127.0.0.1:1 Connection refused"))
        .isInstanceOf(IOException.class).hasMessageContaining("no request count");
  }

  @Test
  void medianAndRange() {
    Spread s = Spread.of(List.of(3.0, 1.0, 10.0, 2.0));
    assertThat(s.median()).isEqualTo(2.5);
    assertThat(s.show("%.1f")).isEqualTo("2.5 (1.0–10.0)");
    assertThat(Spread.of(List.of(4.0)).show("%.0f")).isEqualTo("4");
    assertThat(Spread.of(List.of()).show("%.0f")).isEqualTo("not measured");
  }

  @Test
  void ratiosAreTakenRoundByRound() {
    Spread r = Report.ratio(List.of(20.0, 30.0, 12.0), List.of(10.0, 10.0, 12.0));
    assertThat(r.values()).containsExactly(2.0, 3.0, 1.0);
  }

  @Test
  void aMissedTargetSaysByHowMuch() {
    Results r = new Results();
    r.rate.put("P", List.of(12_000.0, 11_000.0, 13_000.0));
    r.rate.put("H", List.of(10_000.0, 10_000.0, 10_000.0));
    r.rulesRate.put(100, List.of(100.0, 104.0));
    r.rulesRate.put(10_000, List.of(97.0, 93.0));
    r.rulesChange.addAll(List.of(-3.0, -2.0, -4.5));
    String md = Report.render(r, Options.parse(new String[] {"--quick", "--dir", "/tmp/x"}));
    // 1.2 × against a 1.5 × target: 20 % short
    assertThat(md).contains("| P's throughput ≥ 1.5 × H's | 1.20 (1.10–1.30) × | **missed** by 20 % |");
    // the target reads the change round by round, as the run measured it, not the pooled rates of the table
    assertThat(md).contains("| throughput 100 → 10,000 rules changes by ≤ 5 % | -3.0 (-4.5–-2.0) % | met |");
    assertThat(md).contains("| 100 | 102 (100–104) |").contains("round by round (the mean of each size's two runs): "
        + "-3.0 (-4.5–-2.0) %.");
    assertThat(md).contains("| added latency p50 ≤ 0.2 ms unloaded | not measured | not measured |");
  }

  @Test
  void theThroughputTableSaysHowBusyEachServerKeptItsCpu() {
    Results r = new Results();
    r.rate.put("H", List.of(15_000.0, 14_000.0));
    r.cpuPerRequest.put("H", List.of(66.0, 70.0));
    r.cpuBusy.put("H", List.of(99.0, 98.0));
    r.rate.put("P", List.of(15_000.0, 14_000.0));
    r.cpuPerRequest.put("P", List.of(58.0, 60.0));
    r.cpuBusy.put("P", List.of(87.0, 84.0));
    r.recordsPerBatch.addAll(List.of(12.5, 13.5));
    r.fsyncMicros.addAll(List.of(820.0, 910.0));
    String md = Report.render(r, Options.parse(new String[] {"--quick", "--dir", "/tmp/x"}));
    assertThat(md).contains("| CPU µs per request (server) | its CPU busy |")
        .contains("| H | 14,500 (14,000–15,000) | not measured | 1.00 (1.00–1.00) | 68.0 (66.0–70.0) | 99 (98–99) % |")
        .contains("| P | 14,500 (14,000–15,000) | not measured | 1.00 (1.00–1.00) | 59.0 (58.0–60.0) | 86 (84–87) % |")
        .contains("| D | not measured | not measured | not measured | — | — |")
        .contains("P spent part of the run waiting rather than computing")
        .contains(" P wrote 13.0 (12.5–13.5) audit records per write batch")
        .contains(" Each of those fsyncs took 865 (820–910) µs on average as P's writer timed it");
  }

  @Test
  void auditBatchesAndFsyncsAreReadFromTheScrape() {
    String scrape = """
        # HELP vertex_proxy_audit_batch_records Records per write batch
        vertex_proxy_audit_batch_records_count 120.0
        vertex_proxy_audit_batch_records_sum 1560.0
        vertex_proxy_audit_batch_records_max 31.0
        vertex_proxy_audit_fsync_seconds_count{quantile="x"} 118.0
        vertex_proxy_audit_fsync_seconds_sum 0.0944
        vertex_proxy_audit_fsync_seconds_max 0.0031
        """;
    assertThat(Stack.auditBatches(scrape)).containsExactly(120.0, 1560.0, 118.0, 0.0944);
    // durability none: no fsync timer, the batches still count
    double[] none = Stack.auditBatches("vertex_proxy_audit_batch_records_count 3.0\n"
        + "vertex_proxy_audit_batch_records_sum 9.0\n");
    assertThat(none[0]).isEqualTo(3.0);
    assertThat(none[2]).isNaN();
    assertThat(Stack.auditBatches("vertex_proxy_requests_total 4.0\n")).isNull();
  }

  @Test
  void theGeneratedSectionReplacesItsOldSelfAndNothingElse() {
    String doc = "# Benchmarks\n\nintro\n\n## Targets\n\nold targets\n";
    String once = Report.splice(doc, "first run\n");
    assertThat(once).startsWith("# Benchmarks\n\nintro\n\n" + Report.START + "\nfirst run\n" + Report.END + "\n\n## Targets");
    String twice = Report.splice(once, "second run\n");
    assertThat(twice).contains("second run").doesNotContain("first run").endsWith("## Targets\n\nold targets\n");
    assertThat(twice.indexOf(Report.START)).isEqualTo(twice.lastIndexOf(Report.START));
  }

  @Test
  void optionsAreChecked() {
    assertThatThrownBy(() -> Options.parse(new String[] {"--round", "3"})).hasMessageContaining("unknown option --round");
    Options o = Options.parse(new String[] {"--rounds", "5", "--dir", "/tmp/y"});
    assertThat(o.rounds()).isEqualTo(5);
    assertThat(o.dir()).isEqualTo(Path.of("/tmp/y"));
  }

  @Test
  void syscallsPerRequestLeaveOutStracesOwnTotalRow() {
    List<String> strace = List.of(
        "% time     seconds  usecs/call     calls    errors syscall",
        "------ ----------- ----------- --------- --------- ------------------",
        "  3.52    2.135182          52     40441         4 recvfrom",
        "  3.63    2.204848          54     40361           writev",
        "  0.02    0.011795          66       178           epoll_ctl",
        "------ ----------- ----------- --------- --------- ------------------",
        "100.00   62.054101         474     80980       184 total");
    List<String> table = Profile.syscalls(strace, 20_000);
    assertThat(table).contains("| `recvfrom` | 2.02 |", "| `epoll_ctl` | 0.01 |", "| all | 4.05 |")
        .noneMatch(l -> l.contains("total"));
  }
}

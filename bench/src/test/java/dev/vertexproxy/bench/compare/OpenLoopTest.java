package dev.vertexproxy.bench.compare;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * OpenLoop against the real stub over loopback. Every assertion is a count or a relation that holds however slow
 * the machine is: a stall of the stub makes latencies longer, never shorter.
 */
class OpenLoopTest {
  private static final String PATH = "/v1/projects/p/locations/us-central1/publishers/google/models/m";
  private static final long STALL_MILLIS = 200;

  @TempDir
  Path dir;

  private String[] args(StubUpstream stub, String path, String... more) throws Exception {
    Path body = dir.resolve("body.json");
    Files.writeString(body, "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"Hello\"}]}]}");
    String[] base = {"--url", "http://127.0.0.1:" + stub.port() + path, "--header", "Content-Type: application/json",
        "--body-file", body.toString()};
    String[] all = new String[base.length + more.length];
    System.arraycopy(base, 0, all, 0, base.length);
    System.arraycopy(more, 0, all, base.length, more.length);
    return all;
  }

  @Test
  void aStallCountsAgainstEveryRequestItDelayedNotOnlyTheOneOnTheWire() throws Exception {
    // One connection at 500 req/s: the 50th request is answered 200 ms late, and the ~100 requests that fall due
    // meanwhile queue behind it. Each request due in the first 100 ms of the stall completes at least 100 ms after it
    // was due, so at least 50 samples are >= 100 ms; measured from when each was sent, only the stalled one is.
    try (StubUpstream stub = StubUpstream.start("--threads", "1", "--stall-at", "50", "--stall-ms",
        Long.toString(STALL_MILLIS))) {
      OpenLoop.Result r = OpenLoop.execute(Cli.parse(args(stub, PATH + ":generateContent", "--rate", "500",
          "--duration", "1", "--warmup", "0", "--connections", "1", "--drain", "10"), OpenLoop.OPTIONS));
      long tenth = TimeUnit.MILLISECONDS.toNanos(STALL_MILLIS / 2);
      assertThat(r.json).containsEntry("sent", 500L).containsEntry("completed", 500L).containsEntry("measured", 500L);
      assertThat(r.latency.size()).isEqualTo(500);
      assertThat(r.latency.atLeast(tenth)).isGreaterThanOrEqualTo(50);
      assertThat(r.service.atLeast(TimeUnit.MILLISECONDS.toNanos(STALL_MILLIS))).isGreaterThanOrEqualTo(1);
      assertThat(r.service.atLeast(tenth)).isLessThan(r.latency.atLeast(tenth));
      // the corrected latency of a request is never below the time it spent on the wire
      long[] latency = r.latency.values();
      long[] service = r.service.values();
      for (int i = 0; i < latency.length; i++) {
        assertThat(latency[i]).isGreaterThanOrEqualTo(service[i]);
      }
      @SuppressWarnings("unchecked")
      Map<String, Object> errors = (Map<String, Object>) r.json.get("errors");
      assertThat(errors).containsEntry("total", 0L);
    }
  }

  @Test
  void rateZeroIsOneRequestAtATimeMeasuredFromSend() throws Exception {
    try (StubUpstream stub = StubUpstream.start("--threads", "1")) {
      OpenLoop.Result r = OpenLoop.execute(Cli.parse(args(stub, PATH + ":generateContent", "--rate", "0",
          "--duration", "0.3", "--warmup", "0.1", "--connections", "8"), OpenLoop.OPTIONS));
      assertThat(r.json).containsEntry("mode", "closed-loop").containsEntry("connections", 1);
      assertThat(r.latency.size()).isPositive();
      assertThat(r.latency.values()).isEqualTo(r.service.values());
      assertThat((long) r.json.get("sent")).isGreaterThan(r.latency.size());
      assertThat(stub.counts()).containsEntry("connections", 1L);
    }
  }

  @Test
  void theWarmUpIsSentButNotMeasured() throws Exception {
    try (StubUpstream stub = StubUpstream.start("--threads", "1")) {
      OpenLoop.Result r = OpenLoop.execute(Cli.parse(args(stub, PATH + ":generateContent", "--rate", "200",
          "--duration", "0.5", "--warmup", "0.5", "--connections", "4"), OpenLoop.OPTIONS));
      assertThat(r.json).containsEntry("sent", 200L).containsEntry("completed", 200L).containsEntry("measured", 100L);
      assertThat(stub.counts()).containsEntry("generate", 200L);
    }
  }

  @Test
  void non2xxAnswersAreErrorsByStatusAndPrintedAsOneJsonLine() throws Exception {
    try (StubUpstream stub = StubUpstream.start("--threads", "1")) {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
      assertThat(OpenLoop.run(args(stub, PATH + ":countTokens", "--rate", "100", "--duration", "0.2",
          "--connections", "2"), out)).isZero();
      String printed = bytes.toString(StandardCharsets.UTF_8);
      assertThat(printed.lines()).hasSize(1);
      JsonNode json = new ObjectMapper().readTree(printed);
      assertThat(json.get("sent").asLong()).isEqualTo(20);
      assertThat(json.at("/errors/status/404").asLong()).isEqualTo(20);
      assertThat(json.at("/errors/total").asLong()).isEqualTo(20);
      assertThat(json.get("measured").asLong()).isZero();
      assertThat(json.at("/latency_us/count").asInt()).isZero();
    }
  }

  @Test
  void anUnknownOptionIsRefusedBeforeAnythingIsSent() {
    PrintStream out = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
    assertThat(OpenLoop.run(new String[] {"--url", "http://127.0.0.1:1/", "--rate", "1", "--durration", "1"}, out))
        .isEqualTo(2);
  }
}

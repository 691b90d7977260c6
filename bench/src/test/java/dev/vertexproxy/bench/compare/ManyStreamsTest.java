package dev.vertexproxy.bench.compare;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** ManyStreams holding 50 streams of the stub open, each paced to outlast the hold. */
class ManyStreamsTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String STREAM = "/v1/projects/p/locations/us-central1/publishers/google/models/m"
      + ":streamGenerateContent?alt=sse";

  private static List<String> run(String url, String stdin, String... more) {
    String[] base = {"--url", url, "--method", "POST", "--streams", "50", "--open-timeout", "20"};
    String[] args = new String[base.length + more.length];
    System.arraycopy(base, 0, args, 0, base.length);
    System.arraycopy(more, 0, args, base.length, more.length);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    assertThat(ManyStreams.run(args, out, new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)))).isZero();
    return bytes.toString(StandardCharsets.UTF_8).lines().toList();
  }

  @Test
  void fiftyStreamsOpenTogetherAndAreHeldUntilALineOnStdin() throws Exception {
    try (StubUpstream stub = StubUpstream.start("--threads", "1")) {
      List<String> lines = run("http://127.0.0.1:" + stub.port() + STREAM + "&bench_events=1000&bench_gap_ms=50", "go\n",
          "--hold", "60");
      assertThat(lines).hasSize(2);
      assertThat(JSON.readTree(lines.get(0)).get("open").asInt()).isEqualTo(50);
      JsonNode last = JSON.readTree(lines.get(1));
      assertThat(last.get("opened").asInt()).isEqualTo(50);
      assertThat(last.get("first_event").asInt()).isEqualTo(50);
      assertThat(last.get("events").asLong()).isGreaterThanOrEqualTo(50);
      assertThat(last.get("ended_early").asLong()).isZero();
      assertThat(last.at("/errors/total").asLong()).isZero();
      assertThat(stub.counts()).containsEntry("connections", 50L).containsEntry("streams", 50L);
    }
  }

  @Test
  void theEndOfStdinDoesNotEndTheHoldAndStreamsThatEndSoonerAreCounted() throws Exception {
    try (StubUpstream stub = StubUpstream.start("--threads", "1")) {
      List<String> lines = run("http://127.0.0.1:" + stub.port() + STREAM + "&bench_events=1", "", "--hold", "0.3");
      JsonNode last = JSON.readTree(lines.get(1));
      assertThat(last.get("first_event").asInt()).isEqualTo(50);
      assertThat(last.get("events").asLong()).isEqualTo(50);
      assertThat(last.get("ended_early").asLong()).isEqualTo(50);
      assertThat(last.get("held_ms").asLong()).isGreaterThanOrEqualTo(300);
    }
  }

  @Test
  void refusedStreamsAndAnUnreachableServerAreErrorsAndTheOpenLineStillComes() throws Exception {
    try (StubUpstream stub = StubUpstream.start("--threads", "1")) {
      List<String> refused = run("http://127.0.0.1:" + stub.port() + "/nothing", "", "--hold", "0");
      assertThat(JSON.readTree(refused.get(0)).get("open").asInt()).isZero();
      assertThat(JSON.readTree(refused.get(1)).at("/errors/status/404").asInt()).isEqualTo(50);
    }
    List<String> down = run("http://127.0.0.1:1" + STREAM, "", "--hold", "0");
    assertThat(JSON.readTree(down.get(0)).get("open").asInt()).isZero();
    assertThat(JSON.readTree(down.get(1)).at("/errors/connect").asInt()).isEqualTo(50);
  }
}

package dev.vertexproxy.bench.compare;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The stub's wire format, byte for byte as a socket sees it: what the direct run (D) of the benchmark measures. */
class StubUpstreamTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String PATH = "/v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.0-flash";
  private static final String BODY = "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"Hello\"}]}]}";

  static String post(String target, String body) {
    return "POST " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: "
        + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body;
  }

  @Test
  void generateContentIsAGeminiAnswerWithContentLengthOnAKeptAliveConnection() throws Exception {
    try (StubUpstream stub = StubUpstream.start("--threads", "1"); RawHttp http = new RawHttp(stub.port())) {
      for (int i = 0; i < 3; i++) {
        RawHttp.Response r = http.exchange(post(PATH + ":generateContent", BODY));
        assertThat(r.statusLine).isEqualTo("HTTP/1.1 200 OK");
        assertThat(r.headers).containsEntry("content-type", "application/json; charset=UTF-8")
            .containsEntry("content-length", Integer.toString(r.body.length)).doesNotContainKey("connection");
        assertThat(r.body.length).isBetween(250, 350);
        JsonNode answer = JSON.readTree(r.body);
        assertThat(answer.at("/candidates/0/content/parts/0/text").asText()).isNotEmpty();
        assertThat(answer.at("/usageMetadata/totalTokenCount").asInt()).isPositive();
        assertThat(answer.at("/modelVersion").asText()).isEqualTo(StubUpstream.MODEL_VERSION);
      }
      assertThat(stub.counts()).containsEntry("connections", 1L).containsEntry("generate", 3L);
    }
  }

  @Test
  void aChunkedRequestBodyIsReadToItsEndBeforeTheAnswer() throws Exception {
    try (StubUpstream stub = StubUpstream.start("--threads", "1"); RawHttp http = new RawHttp(stub.port())) {
      http.send("POST " + PATH + ":generateContent HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
          + "5\r\nhello\r\n");
      http.send("6\r\n world\r\n0\r\n\r\n");
      assertThat(http.read().statusLine).isEqualTo("HTTP/1.1 200 OK");
      // the connection is still in step: a second request gets its own answer
      assertThat(http.exchange(post(PATH + ":generateContent", BODY)).statusLine).isEqualTo("HTTP/1.1 200 OK");
    }
  }

  @Test
  void streamGenerateContentSendsEachEventAsItsOwnChunkAndEndsTheStream() throws Exception {
    try (StubUpstream stub = StubUpstream.start("--threads", "1", "--sse-events", "4", "--sse-gap-ms", "1");
        RawHttp http = new RawHttp(stub.port())) {
      RawHttp.Response r = http.exchange(post(PATH + ":streamGenerateContent?alt=sse", BODY));
      assertThat(r.statusLine).isEqualTo("HTTP/1.1 200 OK");
      assertThat(r.headers).containsEntry("content-type", "text/event-stream").containsEntry("transfer-encoding", "chunked")
          .doesNotContainKey("content-length");
      assertThat(r.chunks).hasSize(4);
      for (int i = 0; i < 4; i++) {
        String chunk = r.chunks.get(i);
        assertThat(chunk).startsWith("data: {").endsWith("}\r\n\r\n");
        JsonNode event = JSON.readTree(chunk.substring("data: ".length()));
        assertThat(event.at("/candidates/0/content/parts/0/text").asText()).isEqualTo("event " + i + " ");
        assertThat(event.at("/modelVersion").asText()).isEqualTo(StubUpstream.MODEL_VERSION);
        assertThat(event.at("/candidates/0/finishReason").isMissingNode()).isEqualTo(i < 3);
      }
      assertThat(JSON.readTree(r.chunks.get(3).substring(6)).at("/usageMetadata/candidatesTokenCount").asInt()).isEqualTo(4);
      // keep-alive after the last chunk
      assertThat(http.exchange(post(PATH + ":generateContent", BODY)).statusLine).isEqualTo("HTTP/1.1 200 OK");
      assertThat(stub.counts()).containsEntry("streams", 1L).containsEntry("events", 4L);
    }
  }

  @Test
  void queryParametersOverrideTheEventCountForOneRequest() throws Exception {
    try (StubUpstream stub = StubUpstream.start("--threads", "1", "--sse-gap-ms", "1");
        RawHttp http = new RawHttp(stub.port())) {
      String stream = PATH + ":streamGenerateContent?alt=sse";
      assertThat(http.exchange(post(stream + "&bench_events=7&bench_gap_ms=0", BODY)).chunks).hasSize(7);
      assertThat(http.exchange(post(stream, BODY)).chunks).hasSize(5);
      assertThat(http.exchange(post(stream + "&bench_events=1", BODY)).chunks).hasSize(1);
    }
  }

  @Test
  void anythingElseIsA404JsonErrorAndConnectionCloseIsHonoured() throws Exception {
    try (StubUpstream stub = StubUpstream.start("--threads", "1"); RawHttp http = new RawHttp(stub.port())) {
      RawHttp.Response get = http.exchange("GET " + PATH + ":generateContent HTTP/1.1\r\nHost: x\r\n\r\n");
      assertThat(get.statusLine).isEqualTo("HTTP/1.1 404 Not Found");
      assertThat(JSON.readTree(get.body).at("/error/code").asInt()).isEqualTo(404);
      assertThat(http.exchange(post(PATH + ":countTokens", BODY)).statusLine).isEqualTo("HTTP/1.1 404 Not Found");
      RawHttp.Response last = http.exchange(post(PATH + ":generateContent", BODY).replace("Host: 127.0.0.1\r\n",
          "Host: 127.0.0.1\r\nConnection: close\r\n"));
      assertThat(last.statusLine).isEqualTo("HTTP/1.1 200 OK");
      assertThat(last.headers).containsEntry("connection", "close");
      assertThat(http.closedByServer()).isTrue();
      assertThat(stub.counts()).containsEntry("not_found", 2L).containsEntry("generate", 1L);
    }
  }

  @Test
  void mainPrintsItsPortFirstAndItsCountsWhenStdinCloses() throws Exception {
    PipedOutputStream stdin = new PipedOutputStream();
    PipedInputStream stdinEnd = new PipedInputStream(stdin);
    PipedInputStream stdoutEnd = new PipedInputStream();
    PrintStream stdout = new PrintStream(new PipedOutputStream(stdoutEnd), true, StandardCharsets.UTF_8);
    CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(() -> {
      try {
        return StubUpstream.run(new String[] {"--port", "0", "--threads", "1"}, stdout, stdinEnd);
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
    });
    BufferedReader lines = new BufferedReader(new InputStreamReader(stdoutEnd, StandardCharsets.UTF_8));
    JsonNode first = JSON.readTree(lines.readLine());
    assertThat(first.size()).isEqualTo(1);
    int port = first.get("port").asInt();
    assertThat(port).isPositive();
    try (RawHttp http = new RawHttp(port)) {
      assertThat(http.exchange(post(PATH + ":generateContent", BODY)).statusLine).isEqualTo("HTTP/1.1 200 OK");
    }
    stdin.close();
    JsonNode last = JSON.readTree(lines.readLine());
    assertThat(exit.get(10, TimeUnit.SECONDS)).isZero();
    assertThat(last.get("tool").asText()).isEqualTo("StubUpstream");
    assertThat(last.get("generate").asLong()).isEqualTo(1);
    assertThat(last.get("requests").asLong()).isEqualTo(1);
  }
}

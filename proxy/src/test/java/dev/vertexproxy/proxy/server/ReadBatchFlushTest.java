package dev.vertexproxy.proxy.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vertexproxy.proxy.config.AuditConfig.Capture;
import dev.vertexproxy.proxy.config.AuditConfig.Durability;
import dev.vertexproxy.proxy.config.AuditConfig.OnFailure;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Flushing once per read batch instead of once per piece must not batch across reads, on real sockets: every piece
 * of a paced answer (the head, each server-sent event) reaches the caller before Vertex sends the next one, and every
 * piece of a request body sent in its own TCP segment reaches Vertex before the caller sends the next — byte for byte.
 * A flush left out anywhere makes one of these waits run out and the test fail.
 */
class ReadBatchFlushTest {
  private static final String HEAD = "POST " + SocketProxy.GEMINI + " HTTP/1.1\r\nHost: proxy.example\r\n"
      + "Authorization: Bearer caller-jwt\r\nContent-Type: application/json\r\n";

  @TempDir
  Path tmp;
  private BytesUpstream upstream;
  private SocketProxy proxy;

  @BeforeEach
  void start() throws Exception {
    upstream = new BytesUpstream();
    proxy = new SocketProxy(tmp, Durability.GROUP_COMMIT, OnFailure.REJECT, Capture.NONE, upstream);
  }

  @AfterEach
  void close() throws Exception {
    proxy.close();
    upstream.close();
  }

  private static String chunk(String data) {
    return Integer.toHexString(data.length()) + "\r\n" + data + "\r\n";
  }

  @Test
  void eachEventOfAPacedStreamReachesTheCallerBeforeVertexSendsTheNext() throws Exception {
    String[] events = {"data: {\"n\":1}\n\n", "data: {\"n\":2}\n\n", "data: {\"n\":3}\n\n"};
    upstream.responder = n -> "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
        + "<step>" + chunk(events[0]) + "<step>" + chunk(events[1]) + "<step>" + chunk(events[2]) + "<step>0\r\n\r\n";
    try (RawSocket caller = new RawSocket(proxy.port())) {
      caller.send(HEAD + "Content-Length: 2\r\n\r\n{}");
      // Vertex stops after each piece until the caller has it: a piece held back for a later flush never arrives
      assertThat(caller.head()).startsWith("HTTP/1.1 200").contains("transfer-encoding: chunked");
      for (String event : events) {
        upstream.step();
        assertThat(caller.bytes(chunk(event).length())).isEqualTo(chunk(event));
      }
      upstream.step();
      assertThat(caller.bytes(5)).isEqualTo("0\r\n\r\n");
    }
    assertThat(proxy.records()).singleElement().satisfies(r -> assertThat(r.get("status").asInt()).isEqualTo(200));
  }

  @Test
  void aBodySentInManySegmentsReachesVertexPieceByPieceAndByteIdentical() throws Exception {
    StringBuilder body = new StringBuilder();
    for (int i = 0; i < 40; i++) {
      body.append("{\"part\":").append(i).append(",\"text\":\"").append("é".repeat(i % 7)).append("\"}");
    }
    byte[] bytes = body.toString().getBytes(StandardCharsets.UTF_8);
    try (RawSocket caller = new RawSocket(proxy.port())) {
      caller.sendBytes((HEAD + "Content-Length: " + bytes.length + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
      assertThat(await(() -> upstream.bytesRead.get() > 0)).as("the head went on alone").isTrue();
      for (int at = 0; at < bytes.length; at += 37) {
        long before = upstream.bytesRead.get();
        int n = Math.min(37, bytes.length - at);
        caller.sendBytes(Arrays.copyOfRange(bytes, at, at + n));
        assertThat(await(() -> upstream.bytesRead.get() >= before + n)).as("piece at %d reached Vertex", at).isTrue();
      }
      assertThat(caller.response()).startsWith("HTTP/1.1 200").endsWith("for-request-1\"}");
    }
    assertThat(upstream.requests).singleElement().satisfies(r -> assertThat(r.body()).isEqualTo(bytes));
  }

  @Test
  void aChunkedBodySentInManySegmentsReachesVertexPieceByPieceAndByteIdentical() throws Exception {
    ByteArrayOutputStream sent = new ByteArrayOutputStream();
    try (RawSocket caller = new RawSocket(proxy.port())) {
      caller.send(HEAD + "Transfer-Encoding: chunked\r\n\r\n");
      assertThat(await(() -> upstream.bytesRead.get() > 0)).as("the head went on alone").isTrue();
      for (int i = 0; i < 25; i++) {
        String data = "{\"part\":" + i + "}";
        sent.writeBytes(data.getBytes(StandardCharsets.ISO_8859_1));
        long before = upstream.bytesRead.get();
        caller.send(chunk(data));
        assertThat(await(() -> upstream.bytesRead.get() > before)).as("chunk %d reached Vertex", i).isTrue();
      }
      caller.send("0\r\n\r\n");
      assertThat(caller.response()).startsWith("HTTP/1.1 200");
    }
    assertThat(upstream.requests).singleElement().satisfies(r -> assertThat(r.body()).isEqualTo(sent.toByteArray()));
  }

  @Test
  void pipelinedRequestsInOneSegmentEachReachVertexWhole() throws Exception {
    String one = HEAD + "Content-Length: 9\r\n\r\n{\"a\":\"1\"}";
    String two = HEAD + "Content-Length: 9\r\n\r\n{\"a\":\"2\"}";
    try (RawSocket caller = new RawSocket(proxy.port())) {
      caller.send(one + two);
      assertThat(caller.response()).endsWith("for-request-1\"}");
      assertThat(caller.response()).endsWith("for-request-2\"}");
    }
    assertThat(upstream.requests).extracting(r -> new String(r.body(), StandardCharsets.ISO_8859_1))
        .containsExactly("{\"a\":\"1\"}", "{\"a\":\"2\"}");
  }

  /** Polls {@code condition} for up to 10 s: a bound on a wait, not a timing assertion. */
  private static boolean await(BooleanSupplier condition) throws InterruptedException {
    for (int i = 0; i < 10_000; i++) {
      if (condition.getAsBoolean()) {
        return true;
      }
      Thread.sleep(1);
    }
    return condition.getAsBoolean();
  }
}

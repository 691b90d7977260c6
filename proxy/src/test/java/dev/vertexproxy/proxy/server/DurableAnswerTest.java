package dev.vertexproxy.proxy.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vertexproxy.proxy.config.AuditConfig.Capture;
import dev.vertexproxy.proxy.config.AuditConfig.Durability;
import dev.vertexproxy.proxy.config.AuditConfig.OnFailure;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The request path's promise per {@code durability}, on real sockets with the audit disk's fsync held or failing
 * ({@link dev.vertexproxy.proxy.audit.GatedDisk}): in {@code group_commit} and {@code sync} a caller never holds a
 * complete answer whose record is not durable; in {@code sync} nothing reaches Vertex before the decision record is.
 */
class DurableAnswerTest {
  private static final Duration QUIET = Duration.ofMillis(300);
  private static final String POST = "POST " + SocketProxy.GEMINI + " HTTP/1.1\r\nHost: proxy.example\r\n"
      + "Authorization: Bearer caller-jwt\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";

  @TempDir
  Path tmp;
  private BytesUpstream upstream;
  private SocketProxy proxy;

  @BeforeEach
  void upstream() throws Exception {
    upstream = new BytesUpstream();
  }

  @AfterEach
  void close() throws Exception {
    if (proxy != null) {
      proxy.close();
    }
    upstream.close();
  }

  private SocketProxy start(Durability durability, OnFailure onFailure) throws Exception {
    proxy = new SocketProxy(tmp, durability, onFailure, Capture.NONE, upstream);
    return proxy;
  }

  @Test
  void groupCommitHoldsTheLastBytesOfAContentLengthAnswerUntilItsRecordIsOnDisk() throws Exception {
    upstream.responder = n -> "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 20\r\n\r\n"
        + "0123456789<wait>abcdefghij";
    start(Durability.GROUP_COMMIT, OnFailure.REJECT);
    try (RawSocket caller = new RawSocket(proxy.port())) {
      caller.send(POST);
      assertThat(caller.head()).startsWith("HTTP/1.1 200").contains("content-length: 20");
      assertThat(caller.bytes(10)).isEqualTo("0123456789");
      proxy.disk.hold();
      upstream.proceed();
      assertThat(proxy.disk.awaitForce()).as("the record is being synced").isTrue();
      assertThat(caller.quietFor(QUIET)).as("the last bytes wait for the record").isTrue();
      proxy.disk.release();
      assertThat(caller.bytes(10)).isEqualTo("abcdefghij");
    }
    assertThat(proxy.records()).singleElement().satisfies(r -> {
      assertThat(r.get("status").asInt()).isEqualTo(200);
      assertThat(r.get("outcome").asText()).isEqualTo("allowed");
      assertThat(r.get("model").asText()).isEqualTo("gemini-2.0-flash");
    });
  }

  /**
   * A chunked answer relayed up to its terminating chunk, whose record the writer is syncing now, held: what a caller
   * has between the two.
   */
  private RawSocket heldChunkedAnswer() throws Exception {
    upstream.responder = n -> "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n<wait>0\r\n\r\n";
    start(Durability.GROUP_COMMIT, OnFailure.REJECT);
    RawSocket caller = new RawSocket(proxy.port());
    caller.send(POST);
    assertThat(caller.head()).startsWith("HTTP/1.1 200").contains("transfer-encoding: chunked");
    assertThat(caller.bytes(10)).isEqualTo("5\r\nhello\r\n");
    assertThat(proxy.inFlight()).isEqualTo(1);
    proxy.disk.hold();
    upstream.proceed();
    assertThat(proxy.disk.awaitForce()).isTrue();
    return caller;
  }

  private void awaitNothingInFlight() {
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (proxy.inFlight() > 0 && System.nanoTime() < deadline) {
      Thread.onSpinWait();
    }
    assertThat(proxy.inFlight()).as("a later drain must not wait for it").isZero();
  }

  @Test
  void aChunkedAnswerLacksOnlyItsTerminatorWhileTheRecordIsHeld() throws Exception {
    try (RawSocket caller = heldChunkedAnswer()) {
      assertThat(caller.quietFor(QUIET)).as("no terminating chunk yet").isTrue();
      proxy.disk.release();
      assertThat(caller.bytes(5)).isEqualTo("0\r\n\r\n");
    }
  }

  @Test
  void anAnswerWaitingForItsRecordStaysInFlightSoAShutdownDrainWaitsForIt() throws Exception {
    try (RawSocket caller = heldChunkedAnswer()) {
      // Recorded but not answered: a drain that stopped waiting here would close the connection on the caller
      // before the last chunk, although nothing is wrong.
      assertThat(proxy.inFlight()).as("recorded, its last chunk not yet sent").isEqualTo(1);
      proxy.disk.release();
      assertThat(caller.bytes(5)).isEqualTo("0\r\n\r\n");
      awaitNothingInFlight();
    }
  }

  @Test
  void aCallerHangingUpWhileItsAnswerWaitsForTheRecordLeavesNothingInFlight() throws Exception {
    heldChunkedAnswer().close(); // the caller is gone while its record is being synced
    Thread.sleep(QUIET.toMillis()); // the proxy sees the close while the fsync is still held
    assertThat(proxy.inFlight()).isEqualTo(1);
    proxy.disk.release();
    awaitNothingInFlight();
    assertThat(proxy.records()).singleElement().satisfies(r -> assertThat(r.get("status").asInt()).isEqualTo(200));
  }

  @Test
  void aSmallAnswerThatCameInOneReadWaitsWholeForItsRecordAndLeavesInOneWrite() throws Exception {
    upstream.responder = n -> "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n"
        + "{\"ok\":true}";
    start(Durability.GROUP_COMMIT, OnFailure.REJECT);
    try (RawSocket caller = new RawSocket(proxy.port())) {
      proxy.disk.hold();
      caller.send(POST);
      assertThat(proxy.disk.awaitForce()).isTrue();
      assertThat(caller.quietFor(QUIET)).as("head and body wait with the end they came with").isTrue();
      proxy.disk.release();
      assertThat(caller.head()).startsWith("HTTP/1.1 200").contains("content-length: 11");
      assertThat(caller.bytes(11)).isEqualTo("{\"ok\":true}");
      caller.send(POST);
      assertThat(caller.head()).as("the connection carries the next request").startsWith("HTTP/1.1 200");
    }
    assertThat(proxy.records()).hasSize(2);
  }

  @Test
  void anAnswerWithoutABodyIsHeldWholeHeadIncluded() throws Exception {
    upstream.responder = n -> "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    start(Durability.GROUP_COMMIT, OnFailure.REJECT);
    try (RawSocket caller = new RawSocket(proxy.port())) {
      proxy.disk.hold();
      caller.send(POST);
      assertThat(proxy.disk.awaitForce()).isTrue();
      assertThat(caller.quietFor(QUIET)).as("a head saying length 0 would be a complete answer").isTrue();
      proxy.disk.release();
      assertThat(caller.head()).startsWith("HTTP/1.1 200").contains("content-length: 0");
    }
  }

  @Test
  void refusalsAndReservedAnswersWaitForTheirRecordToo() throws Exception {
    start(Durability.GROUP_COMMIT, OnFailure.REJECT);
    try (RawSocket caller = new RawSocket(proxy.port())) {
      proxy.disk.hold();
      caller.send("GET /v1/projects/p/locations/l/nothingHere HTTP/1.1\r\nHost: x\r\n\r\n");
      assertThat(proxy.disk.awaitForce()).isTrue();
      assertThat(caller.quietFor(QUIET)).isTrue();
      proxy.disk.release();
      assertThat(caller.response()).startsWith("HTTP/1.1 404");
      proxy.disk.hold();
      caller.send("POST /_proxy/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
      assertThat(caller.quietFor(QUIET)).isTrue();
      proxy.disk.release();
      assertThat(caller.response()).startsWith("HTTP/1.1 200").endsWith("got 3 bytes");
    }
    assertThat(proxy.records()).extracting(r -> r.get("status").asInt()).containsExactly(404, 200);
  }

  @Test
  void rejectCutsAnAnswerWhoseRecordFailedAndRefusesUntilTheTrailIsWritableAgain() throws Exception {
    start(Durability.GROUP_COMMIT, OnFailure.REJECT);
    proxy.disk.failForce(true);
    try (RawSocket caller = new RawSocket(proxy.port())) {
      caller.send(POST);
      String got = caller.untilClosed();
      assertThat(got).as("the answer came in one read: none of it leaves, and the connection is cut").isEmpty();
    }
    awaitNothingInFlight(); // a cut answer is settled too
    try (RawSocket caller = new RawSocket(proxy.port())) {
      caller.send(POST);
      assertThat(caller.response()).as("sent although its own record cannot be written").startsWith("HTTP/1.1 503")
          .contains("audit-unavailable").contains("\"status\":\"UNAVAILABLE\"");
    }
    proxy.disk.failForce(false);
    String answer = "";
    for (int i = 0; i < 50 && !answer.startsWith("HTTP/1.1 200"); i++) { // each 503's record is a retry of the disk
      try (RawSocket caller = new RawSocket(proxy.port())) {
        answer = caller.send(POST).response();
      }
    }
    assertThat(answer).startsWith("HTTP/1.1 200").contains("for-request-");
  }

  @Test
  void continueCompletesAnAnswerWhoseRecordFailed() throws Exception {
    start(Durability.GROUP_COMMIT, OnFailure.CONTINUE);
    proxy.disk.failForce(true);
    try (RawSocket caller = new RawSocket(proxy.port())) {
      assertThat(caller.send(POST).response()).startsWith("HTTP/1.1 200").endsWith("{\"answer\":\"for-request-1\"}");
      assertThat(caller.send(POST).response()).as("and keeps serving").endsWith("{\"answer\":\"for-request-2\"}");
    }
  }

  @Test
  void syncSendsNothingToVertexBeforeTheDecisionRecordIsDurable() throws Exception {
    start(Durability.SYNC, OnFailure.REJECT);
    String response;
    try (RawSocket caller = new RawSocket(proxy.port())) {
      proxy.disk.hold();
      caller.send(POST);
      assertThat(proxy.disk.awaitForce()).as("the decision record is being synced").isTrue();
      assertThat(caller.quietFor(QUIET)).isTrue();
      assertThat(upstream.connections.get()).isZero();
      assertThat(upstream.bytesRead.get()).as("not one byte reached Vertex").isZero();
      proxy.disk.release();
      response = caller.response();
    }
    assertThat(response).startsWith("HTTP/1.1 200").endsWith("for-request-1\"}");
    assertThat(upstream.requests).singleElement().satisfies(r -> {
      assertThat(r.head()).startsWith("POST " + SocketProxy.GEMINI + " HTTP/1.1\r\n");
      assertThat(new String(r.body(), StandardCharsets.UTF_8)).isEqualTo("{}");
    });
    List<ObjectNode> records = proxy.records();
    assertThat(records).extracting(r -> r.get("type").asText()).containsExactly("decision", "exchange");
    ObjectNode decision = records.get(0);
    assertThat(decision.get("request_id").asText()).isEqualTo(records.get(1).get("request_id").asText())
        .isEqualTo(RawSocketHeaders.requestId(response));
    assertThat(decision.get("decision").asText()).isEqualTo("allow");
    assertThat(decision.has("status")).isFalse();
    assertThat(decision.has("outcome")).isFalse();
    assertThat(records.get(1).get("status").asInt()).isEqualTo(200);
  }

  @Test
  void syncRefusesWith503WhenTheDecisionCannotBeWrittenAndVertexSeesNothing() throws Exception {
    start(Durability.SYNC, OnFailure.REJECT);
    proxy.disk.failForce(true);
    try (RawSocket caller = new RawSocket(proxy.port())) {
      String got = caller.send(POST).response();
      assertThat(got).startsWith("HTTP/1.1 503").contains("audit-unavailable").contains("\"code\":503");
    }
    assertThat(upstream.bytesRead.get()).isZero();
    assertThat(upstream.connections.get()).isZero();
  }

  @Test
  void whatArrivesWhileAnAnswerWaitsForItsRecordIsReadAheadButGoesNowhereUntilThatAnswerLeft() throws Exception {
    start(Durability.GROUP_COMMIT, OnFailure.REJECT);
    try (RawSocket caller = new RawSocket(proxy.port())) {
      proxy.disk.hold();
      caller.send(POST);
      assertThat(proxy.disk.awaitForce()).isTrue();
      // the first answer waits for its record: the caller sends the next request, then bytes no HTTP parser accepts
      caller.send(POST + "NOT HTTP AT ALL\r\n\r\n");
      assertThat(caller.quietFor(QUIET)).as("nothing is answered while the first record is held").isTrue();
      assertThat(upstream.requests).as("the next request waits for the answer before it").hasSize(1);
      proxy.disk.release();
      assertThat(caller.response()).endsWith("for-request-1\"}");
      assertThat(caller.response()).endsWith("for-request-2\"}");
      assertThat(caller.untilClosed()).as("the garbage is refused, never forwarded").startsWith("HTTP/1.1 400");
    }
    assertThat(upstream.requests).hasSize(2).allSatisfy(r -> {
      assertThat(r.body()).isEqualTo("{}".getBytes(StandardCharsets.US_ASCII));
      assertThat(r.header("content-length")).isEqualTo("2");
      assertThat(r.header("authorization")).doesNotContain("caller-jwt");
    });
    assertThat(upstream.requests.get(1).head().replaceAll("user-agent: [^\r]*", ""))
        .as("the read-ahead request reaches Vertex as the first did, byte for byte but for its request id")
        .isEqualTo(upstream.requests.get(0).head().replaceAll("user-agent: [^\r]*", ""));
    assertThat(proxy.records()).extracting(r -> r.get("status").asInt()).containsExactly(200, 200, 400);
  }

  @Test
  void pipelinedRequestsAreAnsweredInOrderEachAfterItsRecord() throws Exception {
    start(Durability.GROUP_COMMIT, OnFailure.REJECT);
    try (RawSocket caller = new RawSocket(proxy.port())) {
      caller.send(POST + POST);
      assertThat(caller.response()).endsWith("for-request-1\"}");
      assertThat(caller.response()).endsWith("for-request-2\"}");
    }
    assertThat(proxy.records()).extracting(r -> r.get("seq").asLong()).containsExactly(1L, 2L);
  }

  /** The proxy's answer with its request id header, for joining. */
  static final class RawSocketHeaders {
    private RawSocketHeaders() {
    }

    static String requestId(String response) {
      int at = response.indexOf("x-vertex-proxy-request-id: ");
      return response.substring(at + 27, at + 27 + 24);
    }
  }
}

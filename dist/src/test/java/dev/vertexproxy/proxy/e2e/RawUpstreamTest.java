package dev.vertexproxy.proxy.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Byte-level edge cases between caller, proxy and Vertex, with a scripted upstream that records every byte it gets:
 * trailers, interim responses, malformed chunks both ways, credentials in the query string.
 */
class RawUpstreamTest {
  @TempDir
  Path tmp;

  /** A plain-HTTP upstream on loopback: records each request's raw bytes and answers with {@code script(n)}. */
  static final class ScriptedUpstream implements AutoCloseable {
    final ServerSocket server;
    final List<String> received = new CopyOnWriteArrayList<>();
    final AtomicInteger count = new AtomicInteger();

    ScriptedUpstream(IntFunction<String> script) throws Exception {
      server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
      Thread acceptor = new Thread(() -> {
        try {
          while (true) {
            Socket s = server.accept();
            Thread t = new Thread(() -> serve(s, script));
            t.setDaemon(true);
            t.start();
          }
        } catch (Exception closed) {
          // server closed
        }
      });
      acceptor.setDaemon(true);
      acceptor.start();
    }

    private void serve(Socket s, IntFunction<String> script) {
      try (s) {
        InputStream in = s.getInputStream();
        OutputStream out = s.getOutputStream();
        s.setSoTimeout(1500);
        while (true) {
          ByteArrayOutputStream buf = new ByteArrayOutputStream();
          byte[] b = new byte[65536];
          try {
            int r;
            while ((r = in.read(b)) > 0) {
              buf.write(b, 0, r);
              String sofar = buf.toString(StandardCharsets.ISO_8859_1);
              int headEnd = sofar.indexOf("\r\n\r\n");
              if (headEnd < 0) {
                continue;
              }
              String head = sofar.substring(0, headEnd).toLowerCase();
              if (head.contains("transfer-encoding: chunked")
                  ? sofar.endsWith("\r\n0\r\n\r\n") || sofar.matches("(?s).*\r\n0\r\n.*\r\n\r\n")
                  : sofar.length() - headEnd - 4 >= contentLength(head)) {
                break;
              }
            }
          } catch (SocketTimeoutException idle) {
            // whatever arrived is what we got
          }
          if (buf.size() == 0) {
            return;
          }
          received.add(buf.toString(StandardCharsets.ISO_8859_1));
          String answer = script.apply(count.incrementAndGet());
          for (String part : answer.split("<pause>", -1)) {
            out.write(part.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            if (answer.contains("<pause>")) {
              Thread.sleep(300);
            }
          }
        }
      } catch (Exception done) {
        // connection over
      }
    }

    private static int contentLength(String head) {
      for (String line : head.split("\r\n")) {
        if (line.startsWith("content-length:")) {
          return Integer.parseInt(line.substring(15).trim());
        }
      }
      return 0;
    }

    @Override
    public void close() throws IOException {
      server.close();
    }
  }

  private static String ok(int n) {
    String body = "{\"answer\":\"for-request-" + n + "\"}";
    return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + body.length() + "\r\n\r\n" + body;
  }

  private DevStack start(ScriptedUpstream upstream) throws Exception {
    return start(upstream, "");
  }

  private DevStack start(ScriptedUpstream upstream, String moreUpstreamSettings) throws Exception {
    return DevStack.start(tmp, "upstream: { url_template: 'http://127.0.0.1:" + upstream.server.getLocalPort() + "'"
        + moreUpstreamSettings + " }\n");
  }

  /** Sends raw bytes on a new connection and returns everything read until the peer closes or goes quiet. */
  private static String raw(DevStack stack, String request, int quietMs) throws Exception {
    URI u = URI.create(stack.proxyUrl());
    try (Socket s = new Socket(u.getHost(), u.getPort())) {
      s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
      s.getOutputStream().flush();
      s.setSoTimeout(quietMs);
      ByteArrayOutputStream buf = new ByteArrayOutputStream();
      byte[] b = new byte[65536];
      try {
        int r;
        while ((r = s.getInputStream().read(b)) > 0) {
          buf.write(b, 0, r);
        }
      } catch (SocketTimeoutException quiet) {
        // done
      }
      return buf.toString(StandardCharsets.ISO_8859_1);
    }
  }

  private static String chunkedPost(DevStack stack, String token, String chunks) {
    return "POST " + stack.examplePath() + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token
        + "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks;
  }

  @Test
  void trailersNeverCarryCallerCredentialsUpstream() throws Exception {
    try (ScriptedUpstream up = new ScriptedUpstream(RawUpstreamTest::ok)) {
      DevStack stack = start(up);
      try {
        String body = DevStack.BODY;
        String answer = raw(stack, chunkedPost(stack, stack.mint(Map.of()),
            Integer.toHexString(body.length()) + "\r\n" + body + "\r\n0\r\nAuthorization: Bearer CALLER-SECRET\r\n"
                + "Cookie: session=CALLER-COOKIE\r\nX-Goog-Api-Key: AIzaCALLERKEY\r\n\r\n"), 1500);
        assertThat(answer).startsWith("HTTP/1.1 200 OK").contains("for-request-1");
        assertThat(up.received).hasSize(1);
        assertThat(up.received.get(0)).contains(body).doesNotContain("CALLER-SECRET").doesNotContain("CALLER-COOKIE")
            .doesNotContain("AIzaCALLERKEY");
      } finally {
        stack.dev.close();
      }
    }
  }

  @Test
  void interimResponsesAreSkippedAndNeverEndTheExchange() throws Exception {
    try (ScriptedUpstream up =
        new ScriptedUpstream(n -> "HTTP/1.1 103 Early Hints\r\nLink: </x>; rel=preload\r\n\r\n<pause>" + ok(n))) {
      DevStack stack = start(up);
      try {
        String token = stack.mint(Map.of());
        String request = "POST " + stack.examplePath() + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token
            + "\r\nConnection: close\r\nContent-Length: " + DevStack.BODY.length() + "\r\n\r\n" + DevStack.BODY;
        // sequential callers on new connections share pooled upstream connections: each must get its own answer
        for (int i = 1; i <= 4; i++) {
          String answer = raw(stack, request, 3000);
          assertThat(answer).as("caller %d", i).startsWith("HTTP/1.1 200 OK").contains("for-request-")
              .doesNotContain("103 Early Hints");
        }
        stack.dev.close(); // flushes the trail
        List<JsonNode> records = stack.auditRecords();
        assertThat(records).hasSize(4).extracting(r -> r.get("status").asInt()).containsOnly(200);
      } finally {
        stack.dev.close();
      }
    }
  }

  @Test
  void aMalformedChunkFromTheCallerIsNeverForwardedAsACompleteBody() throws Exception {
    try (ScriptedUpstream up = new ScriptedUpstream(RawUpstreamTest::ok)) {
      DevStack stack = start(up);
      try {
        String body = DevStack.BODY;
        String answer = raw(stack, chunkedPost(stack, stack.mint(Map.of()),
            Integer.toHexString(body.length()) + "\r\n" + body + "\r\nZZZ\r\nrest of the body\r\n0\r\n\r\n"), 2000);
        assertThat(answer).doesNotContain("for-request-");
        for (String got : up.received) {
          assertThat(got).doesNotEndWith("\r\n0\r\n\r\n");
        }
      } finally {
        stack.dev.close();
      }
    }
  }

  @Test
  void aMalformedBodyFromUpstreamCutsTheCallerOffInsteadOfLookingComplete() throws Exception {
    try (ScriptedUpstream up = new ScriptedUpstream(
        n -> "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "5\r\n{\"a\":\r\nZZZ\r\n\r\n")) {
      DevStack stack = start(up);
      try {
        String token = stack.mint(Map.of());
        String answer = raw(stack, "POST " + stack.examplePath() + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token
            + "\r\nContent-Length: " + DevStack.BODY.length() + "\r\n\r\n" + DevStack.BODY, 2000);
        assertThat(answer).startsWith("HTTP/1.1 200 OK").doesNotContain("\r\n0\r\n\r\n");
        stack.dev.close(); // flushes the trail
        List<JsonNode> records = stack.auditRecords();
        assertThat(records).anySatisfy(r -> assertThat(r.get("reason").asText()).isEqualTo("upstream-malformed"));
      } finally {
        stack.dev.close();
      }
    }
  }

  @Test
  void aVertexThatDoesNotAnswerInTimeIs504InGoogleShape() throws Exception {
    try (ScriptedUpstream up = new ScriptedUpstream(n -> {
      try {
        Thread.sleep(3000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return ok(n);
    })) {
      DevStack stack = start(up, ", response_timeout: 300ms");
      try {
        var r = stack.post(stack.examplePath(), "Bearer " + stack.mint(Map.of()), DevStack.BODY);
        assertThat(r.statusCode()).isEqualTo(504);
        JsonNode error = DevStack.JSON.readTree(r.body()).get("error");
        assertThat(error.get("status").asText()).isEqualTo("DEADLINE_EXCEEDED");
        assertThat(error.at("/details/0/reason").asText()).isEqualTo("upstream-timeout");
      } finally {
        stack.dev.close();
      }
    }
  }

  @Test
  void credentialsInTheQueryStringAreRefusedAndNeverRecorded() throws Exception {
    try (ScriptedUpstream up = new ScriptedUpstream(RawUpstreamTest::ok)) {
      DevStack stack = start(up);
      try {
        String token = stack.mint(Map.of());
        for (String query :
            List.of("key=AIzaSECRET1", "$key=AIzaSECRET2", "%6Bey=AIzaSECRET3", "acc%65ss_tok%65n=ya29.SECRET4")) {
          assertThat(stack.post(stack.examplePath() + "?" + query, "Bearer " + token, DevStack.BODY).statusCode())
              .as(query).isEqualTo(400);
        }
        stack.dev.close();
        String trail = String.join("\n", stack.trailRecords().stream().map(JsonNode::toString).toList());
        assertThat(trail).doesNotContain("SECRET1", "SECRET2", "SECRET3", "SECRET4").contains("\"query\":\"key\"");
        assertThat(up.received).isEmpty();
      } finally {
        stack.dev.close();
      }
    }
  }
}

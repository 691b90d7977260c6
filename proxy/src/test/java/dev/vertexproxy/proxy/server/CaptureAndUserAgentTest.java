package dev.vertexproxy.proxy.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vertexproxy.proxy.config.AuditConfig.Capture;
import dev.vertexproxy.proxy.config.AuditConfig.Durability;
import dev.vertexproxy.proxy.config.AuditConfig.OnFailure;
import dev.vertexproxy.proxy.upstream.UpstreamUserAgent;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What reaches Vertex and the record besides the call itself, on real sockets: the User-Agent that joins our record to
 * Google's audit log, and {@code audit.capture}'s body hash and body text — hashed over exactly the bytes Vertex got,
 * redacted, never on the proxy's own routes, nothing by default.
 */
class CaptureAndUserAgentTest {
  private static final String JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";
  private static final String HEAD = "POST " + SocketProxy.GEMINI + " HTTP/1.1\r\nHost: proxy.example\r\n"
      + "Authorization: Bearer caller-jwt\r\nContent-Type: application/json\r\n";

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

  private void start(Capture capture) throws Exception {
    proxy = new SocketProxy(tmp, Durability.GROUP_COMMIT, OnFailure.REJECT, capture, upstream);
  }

  private String call(String raw) throws Exception {
    try (RawSocket caller = new RawSocket(proxy.port())) {
      return caller.send(raw).response();
    }
  }

  private static String sized(String body) {
    return HEAD + "Content-Length: " + body.length() + "\r\n\r\n" + body; // ASCII bodies: the socket sends Latin-1
  }

  private static String sha256(byte[] bytes) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
  }

  @Test
  void theUserAgentToVertexCarriesTheRequestIdAndOnlyAHarmlessCopyOfTheCallers() throws Exception {
    start(Capture.NONE);
    String response = call(HEAD.replace("Authorization", "User-Agent: my-sdk/1.0\t\u00e9x\r\nAuthorization")
        + "Content-Length: 2\r\n\r\n{}");
    String id = DurableAnswerTest.RawSocketHeaders.requestId(response);
    BytesUpstream.Received got = upstream.requests.get(0);
    assertThat(got.header("user-agent")).isEqualTo("my-sdk/1.0??x " + UpstreamUserAgent.of(null, id))
        .endsWith("(request-id " + id + ")");
    assertThat(got.header("authorization")).isEqualTo("Bearer ya29.test");

    call(HEAD.replace("Authorization", "User-Agent: " + "a".repeat(1000) + "\r\nAuthorization")
        + "Content-Length: 2\r\n\r\n{}");
    assertThat(upstream.requests.get(1).header("user-agent")).startsWith("a".repeat(256) + " vertex-proxy/");
    call(sized("{}"));
    assertThat(upstream.requests.get(2).header("user-agent")).as("no caller agent: the proxy's part alone")
        .startsWith("vertex-proxy/");

    try (RawSocket caller = new RawSocket(proxy.port())) {
      String refused = caller.send(HEAD.replace("Authorization", "User-Agent: a\rInjected: 1\r\nAuthorization")
          + "Content-Length: 2\r\n\r\n{}").untilClosed();
      assertThat(refused).startsWith("HTTP/1.1 400");
    }
    assertThat(upstream.requests).as("a bare CR never reaches Vertex").hasSize(3);
    List<ObjectNode> records = proxy.records();
    assertThat(records.get(0).get("user_agent").asText()).as("the record keeps what the caller sent")
        .isEqualTo("my-sdk/1.0\t\u00e9x");
  }

  @Test
  void bodySha256IsOverExactlyTheBytesVertexGotChunkedOrSized() throws Exception {
    start(new Capture(true, List.of(), 1024));
    call(sized("{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"h\\u00e9llo\"}]}]}"));
    call(HEAD + "Transfer-Encoding: chunked\r\n\r\n5\r\n{\"a\":\r\n7\r\n\"bcdef\"\r\n1\r\n}\r\n0\r\n\r\n");
    List<ObjectNode> records = proxy.records();
    assertThat(records).hasSize(2);
    for (int i = 0; i < 2; i++) {
      assertThat(records.get(i).get("body_sha256").asText()).isEqualTo(sha256(upstream.requests.get(i).body()));
      assertThat(records.get(i).has("request_body")).as("only the hash was asked for").isFalse();
    }
    assertThat(new String(upstream.requests.get(1).body(), StandardCharsets.UTF_8)).isEqualTo("{\"a\":\"bcdef\"}");
  }

  @Test
  void aCapturedBodyIsRedactedCappedAndFlagged() throws Exception {
    start(new Capture(false, List.of("publishers.models.generate*"), 200));
    String whole = "{\"contents\":\"tell me\",\"access_token\":\"ya29.a0secret\",\"apiKey\":\"k-123\","
        + "\"generationConfig\":{\"maxOutputTokens\":64},\"note\":\"Bearer " + JWT + "\"}";
    call(sized(whole));
    String longOne = "{\"contents\":\"" + "x".repeat(150) + "\",\"client_secret\":\"s3cr3t-value-that-runs-past-the-cut\"}";
    call(sized(longOne));
    List<ObjectNode> records = proxy.records();
    String first = records.get(0).get("request_body").asText();
    assertThat(first).contains("tell me", "\"maxOutputTokens\":64", "\"access_token\":\"[redacted]\"",
        "\"apiKey\":\"[redacted]\"").doesNotContain("ya29", "k-123", JWT);
    assertThat(records.get(0).has("request_body_truncated")).isFalse();
    String second = records.get(1).get("request_body").asText();
    assertThat(second).startsWith("{\"contents\":\"xxx").contains("\"client_secret\":\"[redacted]\"")
        .doesNotContain("s3cr3t");
    assertThat(records.get(1).get("request_body_truncated").asBoolean()).isTrue();
    assertThat(records.toString()).doesNotContain("ya29.a0secret", "s3cr3t", "caller-jwt");
  }

  @Test
  void nothingIsCapturedByDefaultNorOnTheProxysOwnRoutes() throws Exception {
    start(Capture.NONE);
    call(sized("{\"contents\":\"a\"}"));
    proxy.records().forEach(r -> assertThat(r.has("body_sha256") || r.has("request_body")).as("%s", r).isFalse());
    proxy.close();
    proxy = new SocketProxy(tmp.resolve("second"), Durability.GROUP_COMMIT, OnFailure.REJECT,
        new Capture(true, List.of("**"), 1024), upstream);
    call("POST /_proxy/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\ncode=secret");
    call(sized("{}"));
    List<ObjectNode> records = proxy.records();
    assertThat(records.get(0).get("path").asText()).isEqualTo("/_proxy/echo");
    assertThat(records.get(0).has("body_sha256") || records.get(0).has("request_body")).isFalse();
    assertThat(records.get(1).get("request_body").asText()).isEqualTo("{}");
  }
}

package dev.vertexproxy.bench;

import dev.vertexproxy.proxy.upstream.HopByHop;
import dev.vertexproxy.proxy.upstream.Origin;
import dev.vertexproxy.proxy.upstream.UpstreamRequest;
import dev.vertexproxy.proxy.upstream.UpstreamUserAgent;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseDecoder;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The header work of an allowed exchange, on the event loop, with heads as the Gen AI SDK and Vertex send them (decoded
 * by Netty's own HTTP decoders in setup, so the header objects are the ones the proxy gets):
 *
 * <ul>
 *   <li>{@code upstreamRequestHead}: {@link UpstreamRequest#head}, the head Vertex gets, from a 12-header caller head:
 *       hop-by-hop and {@code Connection}-named headers removed, the caller's bearer, {@code x-goog-user-project} and
 *       forwarding headers dropped, Host set to the origin, the Google token as Authorization, User-Agent with the
 *       request id, framing written by the proxy (target: under 2 µs);</li>
 *   <li>{@code connectionGuard}: {@link HopByHop#protectedOption}, the admission check that the caller's
 *       {@code Connection} header names nothing the proxy relies on;</li>
 *   <li>{@code responseHead}: the caller-bound copy of Vertex's response head: {@link HopByHop#strip} plus the framing
 *       and request-id header the relay writes (those few lines mirror {@code UpstreamRelay.onHead} and
 *       {@code RelayEvents.started}, which are private to the relay); the relay changes the decoded head in place, so
 *       each call starts from a copy, and {@code responseHeadCopyOnly} measures that copy alone to subtract.</li>
 * </ul>
 * Setup checks the output (what reaches Vertex, what goes back), so a change that made these calls cheaper by doing
 * less fails the run instead of reporting a better time.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Benchmark)
public class HeaderRewriteBenchmark {
  private static final String URI =
      "/v1beta1/projects/acme-ml-prod/locations/us-central1/publishers/google/models/gemini-2.0-flash:generateContent";
  private static final String REQUEST_ID = "3f9c1a52-7d1e-4b8a-9c0e-5a6b7c8d9e0f";
  private static final String REQUEST_ID_HEADER = "x-vertex-proxy-request-id";
  private static final Origin ORIGIN = new Origin(true, "us-central1-aiplatform.googleapis.com", 443);
  /** A GitLab ID token is about a kilobyte; only its size matters here. */
  private static final String CALLER_TOKEN = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImRldiIsInR5cCI6IkpXVCJ9." + "x".repeat(760)
      + "." + "s".repeat(342);
  private static final String GOOGLE_TOKEN = "ya29.c." + "g".repeat(240);
  private static final String SDK = "google-genai-sdk/1.20.0 gl-python/3.12.3";

  private final CpuPerOp cpu = new CpuPerOp();
  private HttpHeaders callerHeaders;
  private HttpResponse vertexHead;

  @Setup(Level.Trial)
  public void decode() {
    String request = "POST " + URI + " HTTP/1.1\r\n"
        + "Host: vertex-proxy.acme.internal:8443\r\n"
        + "Accept: */*\r\n"
        + "Accept-Encoding: gzip, deflate\r\n"
        + "Connection: keep-alive\r\n"
        + "User-Agent: " + SDK + "\r\n"
        + "x-goog-api-client: " + SDK + "\r\n"
        + "Content-Type: application/json\r\n"
        + "Authorization: Bearer " + CALLER_TOKEN + "\r\n"
        + "x-goog-user-project: acme-ml-prod\r\n"
        + "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n"
        + "X-Server-Timeout: 60\r\n"
        + "Content-Length: 312\r\n"
        + "\r\n";
    callerHeaders = ((HttpRequest) decodeHead(new EmbeddedChannel(new HttpRequestDecoder()), request)).headers();
    String response = "HTTP/1.1 200 OK\r\n"
        + "Content-Type: application/json; charset=UTF-8\r\n"
        + "Vary: Origin\r\n"
        + "Vary: X-Origin\r\n"
        + "Vary: Referer\r\n"
        + "Date: Wed, 02 Dec 2026 15:00:00 GMT\r\n"
        + "Server: scaffolding on HTTPServer2\r\n"
        + "X-XSS-Protection: 0\r\n"
        + "X-Frame-Options: SAMEORIGIN\r\n"
        + "X-Content-Type-Options: nosniff\r\n"
        + "Alt-Svc: h3=\":443\"; ma=2592000,h3-29=\":443\"; ma=2592000\r\n"
        + "Transfer-Encoding: chunked\r\n"
        + "\r\n";
    vertexHead = (HttpResponse) decodeHead(new EmbeddedChannel(new HttpResponseDecoder()), response);
    checkUpstreamHead(upstreamRequestHead());
    checkCallerHead(responseHead());
    if (connectionGuard() != null) {
      throw new IllegalStateException("Connection: keep-alive was taken for a protected option");
    }
  }

  @Setup(Level.Iteration)
  public void startCpu() {
    cpu.start();
  }

  @TearDown(Level.Iteration)
  public void reportCpu() {
    cpu.report();
  }

  @Benchmark
  public HttpRequest upstreamRequestHead() {
    cpu.op();
    return UpstreamRequest.head("POST", URI, callerHeaders, false, 312, ORIGIN, GOOGLE_TOKEN, REQUEST_ID);
  }

  @Benchmark
  public String connectionGuard() {
    cpu.op();
    return HopByHop.protectedOption(callerHeaders);
  }

  @Benchmark
  public HttpResponse responseHead() {
    cpu.op();
    HttpResponse res = copyOfVertexHead();
    // UpstreamRelay.onHead: the framing back to the caller is the proxy's own
    boolean chunked = HttpUtil.isTransferEncodingChunked(res);
    long length = chunked ? -1 : HttpUtil.getContentLength(res, -1L);
    HopByHop.strip(res.headers());
    res.headers().remove(HttpHeaderNames.TRANSFER_ENCODING);
    if (length >= 0) {
      res.headers().set(HttpHeaderNames.CONTENT_LENGTH, length);
    } else {
      HttpUtil.setTransferEncodingChunked(res, true);
    }
    // RelayEvents.started
    res.headers().set(REQUEST_ID_HEADER, REQUEST_ID);
    return res;
  }

  @Benchmark
  public HttpResponse responseHeadCopyOnly() {
    cpu.op();
    return copyOfVertexHead();
  }

  private HttpResponse copyOfVertexHead() {
    return new DefaultHttpResponse(vertexHead.protocolVersion(), vertexHead.status(), vertexHead.headers().copy());
  }

  private static HttpObject decodeHead(EmbeddedChannel channel, String raw) {
    channel.writeInbound(Unpooled.copiedBuffer(raw, StandardCharsets.US_ASCII));
    HttpObject head = channel.readInbound();
    if (head.decoderResult().isFailure()) {
      throw new IllegalStateException("setup head does not decode", head.decoderResult().cause());
    }
    Object rest;
    while ((rest = channel.readInbound()) != null) {
      if (!(rest instanceof HttpContent)) {
        throw new IllegalStateException("unexpected " + rest);
      }
      ReferenceCountUtil.release(rest);
    }
    channel.finishAndReleaseAll();
    return head;
  }

  private static void checkUpstreamHead(HttpRequest head) {
    Map<String, List<String>> expected = new TreeMap<>();
    expected.put("accept", List.of("*/*"));
    expected.put("accept-encoding", List.of("gzip, deflate"));
    expected.put("authorization", List.of("Bearer " + GOOGLE_TOKEN));
    expected.put("connection", List.of("keep-alive"));
    expected.put("content-length", List.of("312"));
    expected.put("content-type", List.of("application/json"));
    expected.put("host", List.of("us-central1-aiplatform.googleapis.com"));
    expected.put("traceparent", List.of("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
    expected.put("user-agent", List.of(UpstreamUserAgent.of(SDK, REQUEST_ID)));
    expected.put("x-goog-api-client", List.of(SDK));
    expected.put("x-server-timeout", List.of("60"));
    check("upstream request head", expected, head.headers());
    String ua = head.headers().get(HttpHeaderNames.USER_AGENT);
    if (!ua.startsWith(SDK + " vertex-proxy/") || !ua.endsWith("(request-id " + REQUEST_ID + ")")) {
      throw new IllegalStateException("upstream User-Agent: " + ua);
    }
    if (!"POST".equals(head.method().name()) || !URI.equals(head.uri())) {
      throw new IllegalStateException("upstream request line: " + head.method() + " " + head.uri());
    }
  }

  private static void checkCallerHead(HttpResponse head) {
    Map<String, List<String>> expected = new TreeMap<>();
    expected.put("alt-svc", List.of("h3=\":443\"; ma=2592000,h3-29=\":443\"; ma=2592000"));
    expected.put("content-type", List.of("application/json; charset=UTF-8"));
    expected.put("date", List.of("Wed, 02 Dec 2026 15:00:00 GMT"));
    expected.put("server", List.of("scaffolding on HTTPServer2"));
    expected.put("transfer-encoding", List.of("chunked"));
    expected.put("vary", List.of("Origin", "X-Origin", "Referer"));
    expected.put(REQUEST_ID_HEADER, List.of(REQUEST_ID));
    expected.put("x-content-type-options", List.of("nosniff"));
    expected.put("x-frame-options", List.of("SAMEORIGIN"));
    expected.put("x-xss-protection", List.of("0"));
    check("caller response head", expected, head.headers());
    if (head.status().code() != 200) {
      throw new IllegalStateException("caller response status " + head.status());
    }
  }

  private static void check(String what, Map<String, List<String>> expected, HttpHeaders actual) {
    Map<String, List<String>> got = new TreeMap<>();
    for (Map.Entry<String, String> e : actual) {
      got.computeIfAbsent(e.getKey().toLowerCase(Locale.ROOT), k -> new ArrayList<>()).add(e.getValue());
    }
    if (!got.equals(expected)) {
      throw new IllegalStateException(what + ": expected " + expected + " but was " + got);
    }
  }
}

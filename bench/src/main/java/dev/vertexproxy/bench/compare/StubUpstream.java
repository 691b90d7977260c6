package dev.vertexproxy.bench.compare;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An upstream that answers like Vertex AI for the side-by-side benchmark, so the direct run (D) is the floor every
 * proxy is compared against. Plain HTTP/1.1, keep-alive, TCP_NODELAY, epoll when available; responses are
 * pre-encoded bytes, so the stub costs as little as it can per request.
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar dev.vertexproxy.bench.compare.StubUpstream \
 *     [--port 0] [--host 127.0.0.1] [--threads N] [--sse-events 5] [--sse-gap-ms 20] [--duration 1800] \
 *     [--stall-at N --stall-ms M]
 * </pre>
 *
 * <ul>
 *   <li>{@code POST …:generateContent} → 200, a ~300-byte Gemini JSON answer
 *       ({@code candidates[0].content.parts[0].text}, {@code usageMetadata}, {@code modelVersion}), Content-Length.
 *   <li>{@code POST …:streamGenerateContent} (e.g. {@code ?alt=sse}) → 200 {@code text/event-stream}, chunked,
 *       {@code --sse-events} events {@code --sse-gap-ms} apart, each {@code data: {…}\r\n\r\n} its own chunk,
 *       written and flushed alone, the first one at once. The query parameters {@code bench_events} and
 *       {@code bench_gap_ms} override both for one request (proxies forward query strings).
 *   <li>anything else → 404 with a Google-style JSON error.
 * </ul>
 * Request bodies are read and dropped chunk by chunk; the answer goes once the whole request is in.
 * {@code --stall-at N --stall-ms M} holds the answer to the N-th request (counted from 1 over all connections) for
 * M ms, once, to check that a load generator counts a stall against every request it delayed.
 *
 * <p>Stdout: first {@code {"port":N}} as soon as it listens, then, when it stops, one JSON object with what it
 * served. It stops when stdin closes (stdin that is {@code /dev/null}, as a background job of a script gets, is
 * ignored), on SIGTERM, or after {@code --duration} seconds (default 1800), whichever comes first;
 * {@code main} halts 30 s past that ({@link Watchdog}). Diagnostics go to stderr.
 */
public final class StubUpstream implements AutoCloseable {
  static final Set<String> OPTIONS = Set.of("port", "host", "threads", "sse-events", "sse-gap-ms", "duration", "stall-at",
      "stall-ms");
  static final String MODEL_VERSION = "gemini-2.0-flash-001";
  static final String ANSWER = "{\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":"
      + "\"Hello from the benchmark stub, sized like a short Gemini reply.\"}]},\"finishReason\":\"STOP\"}],"
      + "\"usageMetadata\":{\"promptTokenCount\":8,\"candidatesTokenCount\":14,\"totalTokenCount\":22},"
      + "\"modelVersion\":\"" + MODEL_VERSION + "\",\"responseId\":\"stub-response-0001\"}";
  private static final String NOT_FOUND = "{\"error\":{\"code\":404,\"message\":\"The stub serves POST "
      + "…:generateContent and …:streamGenerateContent only.\",\"status\":\"NOT_FOUND\"}}";
  private static final ByteBuf ANSWER_KEEP = json("200 OK", ANSWER, false);
  private static final ByteBuf ANSWER_CLOSE = json("200 OK", ANSWER, true);
  private static final ByteBuf MISSING_KEEP = json("404 Not Found", NOT_FOUND, false);
  private static final ByteBuf MISSING_CLOSE = json("404 Not Found", NOT_FOUND, true);
  private static final ByteBuf BAD_REQUEST = bytes("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  private static final ByteBuf SSE_KEEP = bytes("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
      + "Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n");
  private static final ByteBuf SSE_CLOSE = bytes("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
      + "Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
  private static final ByteBuf LAST_CHUNK = bytes("0\r\n\r\n");

  private final Net net;
  private final Channel listener;
  private final int events;
  private final long gapMillis;
  private final long stallAt;
  private final long stallMillis;
  private final AtomicLong requests = new AtomicLong();
  private final AtomicLong answers = new AtomicLong();
  private final AtomicLong streams = new AtomicLong();
  private final AtomicLong sent = new AtomicLong();
  private final AtomicLong missing = new AtomicLong();
  private final AtomicLong bad = new AtomicLong();
  private final AtomicLong connections = new AtomicLong();

  private StubUpstream(Cli cli) throws InterruptedException {
    this.events = (int) cli.integer("sse-events", 5, 1);
    this.gapMillis = cli.integer("sse-gap-ms", 20, 0);
    this.stallAt = cli.integer("stall-at", 0, 0);
    this.stallMillis = cli.integer("stall-ms", 0, 0);
    int threads = (int) cli.integer("threads", Runtime.getRuntime().availableProcessors(), 1);
    String host = cli.string("host", "127.0.0.1");
    int port = (int) cli.integer("port", 0, 0);
    this.net = new Net("stub-upstream", threads);
    try {
      this.listener = net.server().childHandler(new ChannelInitializer<Channel>() {
        @Override
        protected void initChannel(Channel ch) {
          connections.incrementAndGet();
          ch.pipeline().addLast(new HttpRequestDecoder(), new Exchange());
        }
      }).bind(host, port).sync().channel();
    } catch (RuntimeException | InterruptedException e) {
      net.close();
      throw e;
    }
  }

  /** Starts a stub listening as {@code args} say (the command-line options above). */
  public static StubUpstream start(String... args) throws InterruptedException {
    return new StubUpstream(Cli.parse(args, OPTIONS));
  }

  public int port() {
    return ((InetSocketAddress) listener.localAddress()).getPort();
  }

  /** What the stub has served so far. */
  public Map<String, Object> counts() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("connections", connections.get());
    m.put("requests", requests.get());
    m.put("generate", answers.get());
    m.put("streams", streams.get());
    m.put("events", sent.get());
    m.put("not_found", missing.get());
    m.put("bad_requests", bad.get());
    m.put("transport", Net.transport());
    return m;
  }

  @Override
  public void close() {
    listener.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
    net.close();
  }

  public static void main(String[] args) throws InterruptedException {
    Watchdog.arm("StubUpstream", args, OPTIONS, c -> c.seconds("duration", 1800), System.out);
    System.exit(run(args, System.out, System.in));
  }

  static int run(String[] args, PrintStream out, InputStream in) throws InterruptedException {
    Cli cli;
    StubUpstream stub;
    long durationNanos;
    try {
      cli = Cli.parse(args, OPTIONS);
      durationNanos = cli.seconds("duration", 1800);
      stub = new StubUpstream(cli);
    } catch (RuntimeException e) {
      System.err.println("StubUpstream: " + e.getMessage());
      return 2;
    }
    Json.print(out, Map.of("port", stub.port()));
    System.err.println("StubUpstream: listening on " + stub.listener.localAddress() + " (" + Net.transport() + ")");
    CountDownLatch stop = new CountDownLatch(1);
    CountDownLatch stopped = new CountDownLatch(1);
    Thread hook = new Thread(() -> {
      stop.countDown();
      try {
        stopped.await(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "stub-upstream-stop");
    Runtime.getRuntime().addShutdownHook(hook);
    if (in != null && !(in == System.in && isDevNull())) {
      Thread reader = new Thread(() -> {
        try {
          byte[] sink = new byte[256];
          while (in.read(sink) >= 0) {
            // anything written to stdin is ignored; only its end matters
          }
        } catch (IOException e) {
          System.err.println("StubUpstream: stdin: " + e.getMessage());
        }
        stop.countDown();
      }, "stub-upstream-stdin");
      reader.setDaemon(true);
      reader.start();
    } else {
      System.err.println("StubUpstream: stdin is /dev/null: stopping on SIGTERM or after --duration only");
    }
    if (!stop.await(durationNanos, TimeUnit.NANOSECONDS)) {
      System.err.println("StubUpstream: --duration reached");
    }
    stub.close();
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("tool", "StubUpstream");
    result.putAll(stub.counts());
    Json.print(out, result);
    stopped.countDown();
    return 0;
  }

  private static boolean isDevNull() {
    try {
      return Files.readSymbolicLink(Path.of("/proc/self/fd/0")).toString().equals("/dev/null");
    } catch (IOException | UnsupportedOperationException e) {
      return false;
    }
  }

  /** One SSE event as one HTTP chunk. */
  static ByteBuf event(ByteBuf into, int index, int count) {
    String data = "data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"event " + index + " \"}]}"
        + (index == count - 1 ? ",\"finishReason\":\"STOP\"}],\"usageMetadata\":{\"promptTokenCount\":8,"
            + "\"candidatesTokenCount\":" + count + ",\"totalTokenCount\":" + (8 + count) + "}" : "}]")
        + ",\"modelVersion\":\"" + MODEL_VERSION + "\"}\r\n\r\n";
    byte[] b = data.getBytes(StandardCharsets.UTF_8);
    into.writeCharSequence(Integer.toHexString(b.length) + "\r\n", StandardCharsets.US_ASCII);
    into.writeBytes(b);
    into.writeCharSequence("\r\n", StandardCharsets.US_ASCII);
    return into;
  }

  private static ByteBuf json(String status, String body, boolean close) {
    return bytes("HTTP/1.1 " + status + "\r\nContent-Type: application/json; charset=UTF-8\r\nContent-Length: "
        + body.getBytes(StandardCharsets.UTF_8).length + "\r\n" + (close ? "Connection: close\r\n" : "") + "\r\n" + body);
  }

  private static ByteBuf bytes(String s) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    return Unpooled.unreleasableBuffer(Unpooled.directBuffer(b.length).writeBytes(b).asReadOnly());
  }

  private enum Kind { ANSWER, STREAM, MISSING }

  /** One connection: reads a request (its body dropped as it comes), answers it once the request is complete. */
  private final class Exchange extends ChannelInboundHandlerAdapter {
    private Kind kind;
    private boolean keepAlive;
    private int streamEvents;
    private long streamGap;
    private boolean stall;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      try {
        if (msg instanceof HttpRequest) {
          HttpRequest r = (HttpRequest) msg;
          if (r.decoderResult().isFailure()) {
            bad.incrementAndGet();
            kind = null;
            ctx.writeAndFlush(BAD_REQUEST.duplicate()).addListener(ChannelFutureListener.CLOSE);
            return;
          }
          long n = requests.incrementAndGet();
          stall = stallAt > 0 && n == stallAt;
          keepAlive = HttpUtil.isKeepAlive(r);
          kind = classify(r);
        }
        if (msg instanceof LastHttpContent && kind != null) {
          Kind k = kind;
          kind = null;
          if (stall) {
            stall = false;
            ctx.executor().schedule(() -> answer(ctx, k), stallMillis, TimeUnit.MILLISECONDS);
          } else {
            answer(ctx, k);
          }
        }
      } finally {
        ReferenceCountUtil.release(msg);
      }
    }

    private Kind classify(HttpRequest r) {
      String uri = r.uri();
      int q = uri.indexOf('?');
      String path = q < 0 ? uri : uri.substring(0, q);
      if (!r.method().equals(HttpMethod.POST)) {
        return Kind.MISSING;
      }
      if (path.endsWith(":generateContent")) {
        return Kind.ANSWER;
      }
      if (!path.endsWith(":streamGenerateContent")) {
        return Kind.MISSING;
      }
      streamEvents = events;
      streamGap = gapMillis;
      if (q >= 0 && uri.indexOf("bench_", q) > 0) {
        Map<String, List<String>> p = new QueryStringDecoder(uri).parameters();
        streamEvents = (int) parameter(p, "bench_events", events, 1);
        streamGap = parameter(p, "bench_gap_ms", gapMillis, 0);
      }
      return Kind.STREAM;
    }

    private long parameter(Map<String, List<String>> p, String name, long fallback, long min) {
      List<String> v = p.get(name);
      if (v == null || v.isEmpty()) {
        return fallback;
      }
      try {
        return Math.max(min, Long.parseLong(v.get(0)));
      } catch (NumberFormatException e) {
        return fallback;
      }
    }

    private void answer(ChannelHandlerContext ctx, Kind k) {
      if (!ctx.channel().isActive()) {
        return;
      }
      switch (k) {
        case ANSWER:
          answers.incrementAndGet();
          closeUnlessKeepAlive(ctx.writeAndFlush((keepAlive ? ANSWER_KEEP : ANSWER_CLOSE).duplicate()), keepAlive);
          break;
        case STREAM:
          streams.incrementAndGet();
          ctx.write((keepAlive ? SSE_KEEP : SSE_CLOSE).duplicate());
          sendEvent(ctx, 0, streamEvents, streamGap, keepAlive);
          break;
        default:
          missing.incrementAndGet();
          closeUnlessKeepAlive(ctx.writeAndFlush((keepAlive ? MISSING_KEEP : MISSING_CLOSE).duplicate()), keepAlive);
      }
    }

    private void sendEvent(ChannelHandlerContext ctx, int index, int count, long gap, boolean keep) {
      if (!ctx.channel().isActive()) {
        return;
      }
      ByteBuf chunk = event(ctx.alloc().buffer(256), index, count);
      sent.incrementAndGet();
      if (index == count - 1) {
        ctx.write(chunk);
        closeUnlessKeepAlive(ctx.writeAndFlush(LAST_CHUNK.duplicate()), keep);
        return;
      }
      ctx.writeAndFlush(chunk);
      ctx.executor().schedule(() -> sendEvent(ctx, index + 1, count, gap, keep), gap, TimeUnit.MILLISECONDS);
    }

    private void closeUnlessKeepAlive(ChannelFuture written, boolean keep) {
      if (!keep) {
        written.addListener(ChannelFutureListener.CLOSE);
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }
}

package dev.vertexproxy.emulators;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.ssl.SslContext;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A local stand-in for Vertex AI's REST API ({@code aiplatform.googleapis.com}), for dev mode and the proxy's
 * end-to-end tests: the proxy forwards to it ({@code upstream.url_template: http://127.0.0.1:PORT}) and the Gen AI
 * SDK or curl can talk to it directly.
 *
 * <p>It speaks Vertex's wire formats for the methods tests exercise ({@code generateContent},
 * {@code streamGenerateContent} as SSE or JSON array, {@code countTokens}, {@code computeTokens}, {@code predict},
 * {@code rawPredict}, custom jobs, {@code models:upload} and its operation) under {@code /v1/} and {@code /v1beta1/},
 * with {@code projects/{p}/locations/{l}/} or in express-mode form; anything else is a Google-shaped 404. Only bearers
 * that the given {@link IssuedTokens} knows and that have not expired (by the given clock) get through; everything
 * else is 401 UNAUTHENTICATED. Every request, refused ones included, is recorded for {@link #seen()}.
 *
 * <p>Relay tests get two extra response headers: a hop-by-hop {@code X-Emulator-Hop} (named in {@code Connection},
 * so a proxy must strip it) and {@code X-Emulator-Principal} naming who the token stood for (never the token).
 *
 * <p>Thread-safe. Deterministic: ids come from counters and times from the clock.
 */
public final class VertexEmulator implements AutoCloseable {

  /** How Vertex's streamed answers are paced: one chunk right away, then one per interval. */
  record Pacing(Duration interval, int events) {
  }

  /**
   * One request as the emulator received it.
   *
   * @param method    HTTP method
   * @param path      the request target as received, query included ({@code /v1/...:streamGenerateContent?alt=sse})
   * @param headers   every request header; names are looked up case-insensitively, values in arrival order
   * @param principal who the bearer stood for, or {@code null} when the request was refused as unauthenticated
   * @param bodyBytes the request body's length in bytes
   */
  public record SeenRequest(String method, String path, Map<String, List<String>> headers, String principal,
                            long bodyBytes) {
  }

  private static final Pacing DEFAULT_PACING = new Pacing(Duration.ofMillis(250), 4);
  private static final int MAX_BODY_BYTES = 64 * 1024 * 1024;

  private final EventLoopGroup group;
  private final Channel serverChannel;
  private final URI baseUri;
  private final List<SeenRequest> seen;
  private final AtomicReference<Pacing> pacing;

  private VertexEmulator(EventLoopGroup group, Channel serverChannel, List<SeenRequest> seen,
      AtomicReference<Pacing> pacing, boolean tls) {
    this.group = group;
    this.serverChannel = serverChannel;
    this.seen = seen;
    this.pacing = pacing;
    InetSocketAddress bound = (InetSocketAddress) serverChannel.localAddress();
    this.baseUri = tls
        ? URI.create("https://localhost:" + bound.getPort())
        : URI.create("http://" + bound.getAddress().getHostAddress() + ":" + bound.getPort());
  }

  /**
   * Starts listening on {@code bind} (port 0 picks a free port; see {@link #baseUri()}).
   *
   * @param tokens the only bearers accepted, with the principal each stands for
   * @param clock  decides token expiry and every timestamp in answers
   */
  public static VertexEmulator start(InetSocketAddress bind, IssuedTokens tokens, Clock clock) {
    return start(bind, tokens, clock, null);
  }

  /**
   * Like {@link #start(InetSocketAddress, IssuedTokens, Clock)}, serving HTTPS with {@code tls} when it is not null,
   * as Vertex does; the proxy's upstream TLS (trust, SNI, hostname verification) is tested against this.
   */
  public static VertexEmulator start(InetSocketAddress bind, IssuedTokens tokens, Clock clock, SslContext tls) {
    Objects.requireNonNull(bind, "bind");
    Objects.requireNonNull(tokens, "tokens");
    Objects.requireNonNull(clock, "clock");
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    // The state exists before the socket does: a connection may arrive the moment bind() returns.
    List<SeenRequest> seen = new CopyOnWriteArrayList<>();
    AtomicReference<Pacing> pacing = new AtomicReference<>(DEFAULT_PACING);
    VertexEmulatorHandler handler = new VertexEmulatorHandler(tokens, clock, new VertexEmulatorApi(clock),
        pacing::get, seen::add);
    try {
      Channel channel = new ServerBootstrap()
          .group(group)
          .channel(NioServerSocketChannel.class)
          .childHandler(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
              if (tls != null) {
                ch.pipeline().addLast("tls", tls.newHandler(ch.alloc()));
              }
              ch.pipeline()
                  .addLast("http", new HttpServerCodec())
                  .addLast("aggregate", new HttpObjectAggregator(MAX_BODY_BYTES))
                  .addLast("vertex", handler);
            }
          })
          .bind(bind)
          .sync()
          .channel();
      return new VertexEmulator(group, channel, seen, pacing, tls != null);
    } catch (InterruptedException e) {
      group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while binding the Vertex emulator to " + bind, e);
    } catch (RuntimeException e) {
      group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
      throw new IllegalStateException("could not bind the Vertex emulator to " + bind, e);
    }
  }

  /** Where the emulator listens, e.g. {@code http://127.0.0.1:41234} (no trailing slash). */
  public URI baseUri() {
    return baseUri;
  }

  /** Every request received since start or the last {@link #clear()}, in arrival order; an immutable snapshot. */
  public List<SeenRequest> seen() {
    return List.copyOf(seen);
  }

  /** Forgets the recorded requests (stored jobs and operations stay). */
  public void clear() {
    seen.clear();
  }

  /**
   * Paces later streamed answers: {@code events} chunks, the first sent at once and each further one
   * {@code interval} after the previous. Default: 250 ms × 4.
   */
  public void streamPacing(Duration interval, int events) {
    Objects.requireNonNull(interval, "interval");
    if (interval.isNegative()) {
      throw new IllegalArgumentException("interval: " + interval + " (expected: >= 0)");
    }
    if (events < 1) {
      throw new IllegalArgumentException("events: " + events + " (expected: >= 1)");
    }
    pacing.set(new Pacing(interval, events));
  }

  /** Stops listening and closes open connections; waits briefly for that to finish. */
  @Override
  public void close() {
    serverChannel.close().awaitUninterruptibly();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
  }
}

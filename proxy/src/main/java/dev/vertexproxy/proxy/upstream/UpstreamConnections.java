package dev.vertexproxy.proxy.upstream;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;

/**
 * Keep-alive connections to Vertex, pooled per event loop and origin. A caller's exchange always uses a connection on
 * its own event loop, so the relay never crosses threads and the per-loop pools need no locks. TLS uses the system
 * trust store (plus {@code upstream.ca_file}), SNI and HTTPS hostname verification.
 *
 * <p>Thread-safety: {@link #lease} and a lease's release must be called on the given event loop.
 */
public final class UpstreamConnections implements LeaseSource, AutoCloseable {
  /** Name of the pipeline slot a caller fills with its response handler while it holds the connection. */
  static final String RELAY = "relay";
  /** The response timeout of the exchange holding the connection, armed once the whole request is with Vertex. */
  static final String RESPONSE_TIMEOUT = "response-timeout";
  /** Last in every connection's pipeline: whatever reaches it arrived while no exchange was listening. */
  static final String GUARD = "unsolicited-guard";
  private static final AttributeKey<Origin> ORIGIN = AttributeKey.valueOf("vertex-proxy.origin");
  private static final AttributeKey<Long> IDLE_SINCE = AttributeKey.valueOf("vertex-proxy.idle-since");
  /**
   * A pooled connection idle longer than this is closed rather than reused: servers drop idle connections on their
   * own schedule, and reusing one just as its close is on the wire fails the request.
   */
  static final long MAX_IDLE_NANOS = TimeUnit.SECONDS.toNanos(60);

  private final Class<? extends Channel> channelType;
  private final SslContext ssl;
  private final Duration connectTimeout;
  private final int maxIdlePerOrigin;
  private final Map<EventLoop, Map<Origin, Pool>> idle = new ConcurrentHashMap<>();
  /** Where host names are resolved: name lookups can block, so never on an event loop. */
  private final Executor resolver;
  private final LongAdder opened = new LongAdder();
  private final LongAdder reused = new LongAdder();

  public UpstreamConnections(Class<? extends Channel> channelType, Duration connectTimeout, Path caFile, int maxIdlePerOrigin,
      Executor resolver) throws IOException {
    this.channelType = channelType;
    this.resolver = resolver;
    this.connectTimeout = connectTimeout;
    this.maxIdlePerOrigin = maxIdlePerOrigin;
    try {
      SslContextBuilder b = SslContextBuilder.forClient()
          .protocols("TLSv1.3", "TLSv1.2")
          .applicationProtocolConfig(new ApplicationProtocolConfig(
              ApplicationProtocolConfig.Protocol.ALPN,
              ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
              ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
              ApplicationProtocolNames.HTTP_1_1));
      if (caFile != null) {
        b.trustManager(TrustAnchors.systemPlus(caFile));
      }
      this.ssl = b.build();
    } catch (SSLException e) {
      throw new IOException("cannot set up upstream TLS: " + e.getMessage(), e);
    }
  }

  /** A connection to {@code origin} on {@code loop}: an idle pooled one if there is one, else a new one. */
  Future<Channel> acquire(EventLoop loop, Origin origin) {
    Promise<Channel> promise = loop.newPromise();
    ArrayDeque<Channel> pool = pool(loop, origin).idle;
    Channel ch;
    while ((ch = pool.pollLast()) != null) {
      Long idleSince = ch.attr(IDLE_SINCE).get();
      if (ch.isActive() && idleSince != null && System.nanoTime() - idleSince < MAX_IDLE_NANOS) {
        reused.increment();
        return promise.setSuccess(ch);
      }
      ch.close();
    }
    CompletableFuture.supplyAsync(() -> {
      try {
        return new InetSocketAddress(InetAddress.getByName(origin.host()), origin.port());
      } catch (UnknownHostException e) {
        throw new CompletionException(e);
      }
    }, resolver).whenComplete((address, err) -> loop.execute(() -> {
      if (err != null) {
        promise.tryFailure(err instanceof CompletionException && err.getCause() != null ? err.getCause() : err);
      } else {
        connect(loop, origin, address, pool, promise);
      }
    }));
    return promise;
  }

  private void connect(EventLoop loop, Origin origin, InetSocketAddress address, ArrayDeque<Channel> pool,
      Promise<Channel> promise) {
    Bootstrap b = new Bootstrap()
        .group(loop)
        .channel(channelType)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, connectTimeout.toMillis()))
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.AUTO_READ, false)
        .handler(new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel c) {
            ChannelPipeline p = c.pipeline();
            if (origin.tls()) {
              SslHandler h = ssl.newHandler(c.alloc(), origin.host(), origin.port());
              SSLEngine engine = h.engine();
              SSLParameters params = engine.getSSLParameters();
              params.setEndpointIdentificationAlgorithm("HTTPS");
              engine.setSSLParameters(params);
              h.setHandshakeTimeoutMillis(connectTimeout.toMillis());
              p.addLast("tls", h);
            }
            p.addLast("http", new HttpClientCodec(8192, 64 * 1024, 64 * 1024, true));
            p.addLast(GUARD, UnsolicitedGuard.INSTANCE);
          }
        });
    ChannelFuture f = b.connect(address);
    f.addListener(x -> {
      if (!x.isSuccess()) {
        promise.tryFailure(x.cause());
        return;
      }
      Channel c = f.channel();
      opened.increment();
      c.attr(ORIGIN).set(origin);
      c.closeFuture().addListener(closed -> pool.remove(c));
      SslHandler tls = c.pipeline().get(SslHandler.class);
      if (tls == null) {
        promise.trySuccess(c);
      } else {
        tls.handshakeFuture().addListener(h -> {
          if (h.isSuccess()) {
            promise.trySuccess(c);
          } else {
            c.close();
            promise.tryFailure(h.cause());
          }
        });
        c.read();
      }
    });
  }

  /**
   * A connection to {@code origin} on {@code loop}, held by one exchange until it {@link UpstreamLease#release releases}
   * or {@link UpstreamLease#close closes} it.
   */
  @Override
  public Future<UpstreamLease> lease(EventLoop loop, Origin origin) {
    Promise<UpstreamLease> leased = loop.newPromise();
    acquire(loop, origin).addListener(f -> {
      if (f.isSuccess()) {
        Pool pool = pool(loop, origin);
        pool.leased(System.nanoTime());
        leased.setSuccess(new UpstreamLease((Channel) f.getNow(), this::release, pool::ended));
      } else {
        leased.setFailure(f.cause());
      }
    });
    return leased;
  }

  /**
   * A pooled connection is only ever spoken to by the exchange holding it. Anything Vertex sends while none does (bytes
   * after the framed end of the last response, an answer to a request nobody sent) would be read by the next caller as
   * its own answer, so it closes the connection instead; so does an error on an idle connection.
   */
  @ChannelHandler.Sharable
  private static final class UnsolicitedGuard extends ChannelInboundHandlerAdapter {
    static final UnsolicitedGuard INSTANCE = new UnsolicitedGuard();

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ReferenceCountUtil.release(msg);
      ctx.close();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }

  /** How many connections to Vertex were opened so far (pooled reuse does not count). */
  public long opened() {
    return opened.sum();
  }

  /** How many exchanges were given an idle pooled connection instead of a new one. */
  public long reused() {
    return reused.sum();
  }

  /**
   * Returns a connection whose last exchange ended cleanly; it is closed instead when the pool is full: when it holds
   * {@code max_idle_per_host} idle connections already and keeping this one would also leave more connections open
   * than were in use at once lately ({@link Pool}).
   */
  void release(Channel ch) {
    Origin origin = ch.attr(ORIGIN).get();
    if (!ch.isActive() || origin == null || maxIdlePerOrigin == 0) {
      ch.close();
      return;
    }
    Pool p = pool(ch.eventLoop(), origin);
    ArrayDeque<Channel> pool = p.idle;
    if (pool.size() >= maxIdlePerOrigin && !p.inDemand()) {
      ch.close();
      return;
    }
    ch.attr(IDLE_SINCE).set(System.nanoTime());
    pool.addLast(ch);
    // An idle pooled connection is read from, so that a close by the server is noticed and it leaves the pool.
    ch.read();
  }

  private Pool pool(EventLoop loop, Origin origin) {
    return idle.computeIfAbsent(loop, l -> new HashMap<>()).computeIfAbsent(origin, o -> new Pool());
  }

  /**
   * One event loop's connections to one origin: the idle ones, and how many are leased now and were at most lately.
   *
   * <p>Why the peak. The idle cap alone made a loop whose callers keep more exchanges in flight than the cap churn:
   * the answers of one read batch release more connections than the cap keeps, the closed ones are opened again (a
   * TCP and TLS handshake each) by the next requests a moment later — with one event loop and 32 keep-alive callers,
   * most exchanges opened a connection. So a released connection is also kept while the loop's connections to the
   * origin (idle and leased) stay below the most that were leased at once in this or the previous minute: idle
   * sockets stay bounded by recent real concurrency, and drop back to the cap as the peak ages out.
   */
  private static final class Pool {
    final ArrayDeque<Channel> idle = new ArrayDeque<>();
    private int leased;
    private int peak;
    private int previousPeak;
    private long windowStart = System.nanoTime();

    void leased(long now) {
      roll(now);
      leased++;
      peak = Math.max(peak, leased);
    }

    void ended() {
      leased--;
    }

    /** Keeping one more idle connection stays within what was in use at once lately. */
    boolean inDemand() {
      roll(System.nanoTime());
      return idle.size() + leased < Math.max(peak, previousPeak);
    }

    private void roll(long now) {
      if (now - windowStart >= MAX_IDLE_NANOS) {
        previousPeak = now - windowStart >= 2 * MAX_IDLE_NANOS ? leased : peak;
        peak = leased;
        windowStart = now;
      }
    }
  }

  @Override
  public void close() {
    for (Map.Entry<EventLoop, Map<Origin, Pool>> e : idle.entrySet()) {
      // copy first: closing a channel removes it from its deque (close listener)
      e.getKey().execute(() -> e.getValue().values().forEach(p -> new ArrayList<>(p.idle).forEach(Channel::close)));
    }
  }
}

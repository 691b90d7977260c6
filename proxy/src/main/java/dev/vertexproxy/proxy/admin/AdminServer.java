package dev.vertexproxy.proxy.admin;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.timeout.ReadTimeoutHandler;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executor;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The operator's listener (keep it on loopback or a private network): {@code GET /metrics} (Prometheus text),
 * {@code GET /healthz} (the process is up), {@code GET /readyz} (identity keys loaded, audit writable, not draining),
 * {@code GET /policy} (the policy in force, its load time and the last refused reload with its problems, as JSON) and
 * {@code POST /policy/reload} (re-read the policy file; a policy that does not validate is refused and the running one
 * stays).
 * Requests are tiny, so they are aggregated (bounded to 4 KiB). Thread-safe.
 */
public final class AdminServer implements AutoCloseable {
  private final Channel channel;

  private AdminServer(Channel channel) {
    this.channel = channel;
  }

  /** Reloads the policy; returns what the operator sees on success, throws with the problems when it was refused. */
  @FunctionalInterface
  public interface PolicyReload {
    String reload() throws Exception;
  }

  /** The policy's two admin endpoints: {@code POST /policy/reload} and the status {@code GET /policy} shows (JSON). */
  public record PolicyAdmin(PolicyReload reload, Supplier<String> status) {
  }

  public static AdminServer start(InetSocketAddress bind, EventLoopGroup boss, EventLoopGroup workers,
      Class<? extends ServerSocketChannel> type, ProxyMetrics metrics, BooleanSupplier ready, PolicyAdmin policy,
      Executor blocking) throws InterruptedException {
    Channel ch = new ServerBootstrap()
        .group(boss, workers)
        .channel(type)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel c) {
            c.pipeline().addLast(new ReadTimeoutHandler(30))
                .addLast(new HttpServerCodec(4096, 8192, 4096))
                .addLast(new HttpObjectAggregator(4096))
                .addLast(new Endpoints(metrics, ready, policy, blocking));
          }
        })
        .bind(bind).sync().channel();
    return new AdminServer(ch);
  }

  public InetSocketAddress address() {
    return (InetSocketAddress) channel.localAddress();
  }

  @Override
  public void close() {
    channel.close().syncUninterruptibly();
  }

  private static final class Endpoints extends SimpleChannelInboundHandler<FullHttpRequest> {
    private final ProxyMetrics metrics;
    private final BooleanSupplier ready;
    private final PolicyAdmin policy;
    private final Executor blocking;

    Endpoints(ProxyMetrics metrics, BooleanSupplier ready, PolicyAdmin policy, Executor blocking) {
      this.metrics = metrics;
      this.ready = ready;
      this.policy = policy;
      this.blocking = blocking;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
      String path = req.uri();
      int q = path.indexOf('?');
      if (q >= 0) {
        path = path.substring(0, q);
      }
      FullHttpResponse res;
      if (path.equals("/policy/reload") && req.method().equals(HttpMethod.POST) && policy != null) {
        // reading and compiling the policy file is file I/O: off the event loop, answer when done
        boolean keepAlive = HttpUtil.isKeepAlive(req);
        blocking.execute(() -> {
          String body;
          HttpResponseStatus status;
          try {
            body = "reloaded: " + policy.reload().reload() + "\n";
            status = HttpResponseStatus.OK;
          } catch (Exception e) {
            body = "policy not reloaded, the running policy stays:\n" + e.getMessage() + "\n";
            status = HttpResponseStatus.BAD_REQUEST;
          }
          String text = body;
          HttpResponseStatus code = status;
          ctx.executor().execute(() -> send(ctx, text(ctx, code, text, "text/plain; charset=utf-8"), keepAlive));
        });
        return;
      }
      if (!req.method().equals(HttpMethod.GET) && !req.method().equals(HttpMethod.HEAD)) {
        res = text(ctx, HttpResponseStatus.METHOD_NOT_ALLOWED, "method not allowed\n", "text/plain; charset=utf-8");
      } else if (path.equals("/metrics")) {
        res = text(ctx, HttpResponseStatus.OK, metrics.scrape(), "text/plain; version=0.0.4; charset=utf-8");
      } else if (path.equals("/policy") && policy != null) {
        res = text(ctx, HttpResponseStatus.OK, policy.status().get(), "application/json; charset=utf-8");
      } else if (path.equals("/healthz")) {
        res = text(ctx, HttpResponseStatus.OK, "ok\n", "text/plain; charset=utf-8");
      } else if (path.equals("/readyz")) {
        boolean ok = ready.getAsBoolean();
        res = text(ctx, ok ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE, ok ? "ready\n" : "not ready\n",
            "text/plain; charset=utf-8");
      } else {
        res = text(ctx, HttpResponseStatus.NOT_FOUND, "not found\n", "text/plain; charset=utf-8");
      }
      send(ctx, res, HttpUtil.isKeepAlive(req));
    }

    private static void send(ChannelHandlerContext ctx, FullHttpResponse res, boolean keepAlive) {
      HttpUtil.setKeepAlive(res, keepAlive);
      var f = ctx.writeAndFlush(res);
      if (!keepAlive) {
        f.addListener(ChannelFutureListener.CLOSE);
      }
    }

    private static FullHttpResponse text(ChannelHandlerContext ctx, HttpResponseStatus status, String body, String type) {
      ByteBuf buf = ctx.alloc().buffer();
      buf.writeCharSequence(body, StandardCharsets.UTF_8);
      FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, buf);
      r.headers().set(HttpHeaderNames.CONTENT_TYPE, type).set(HttpHeaderNames.CONTENT_LENGTH, buf.readableBytes());
      return r;
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }
}

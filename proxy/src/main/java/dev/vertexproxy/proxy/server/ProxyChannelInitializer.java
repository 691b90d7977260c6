package dev.vertexproxy.proxy.server;

import dev.vertexproxy.proxy.config.ProxyConfig;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.timeout.IdleStateHandler;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The caller pipeline, top-down in the order a request meets it:
 * TLS → idle timeout → HTTP/1.1 codec (bounded request line, headers and chunks) → {@link ExchangeDriver}
 * (route → identity → policy → credentials → upstream relay → audit).
 */
final class ProxyChannelInitializer extends ChannelInitializer<SocketChannel> {
  private final ProxyContext px;
  private final Supplier<SslContext> tls;
  private final ChannelGroup channels;
  private final ProxyConfig.Listen listen;

  ProxyChannelInitializer(ProxyContext px, Supplier<SslContext> tls, ChannelGroup channels, ProxyConfig.Listen listen) {
    this.px = px;
    this.tls = tls;
    this.channels = channels;
    this.listen = listen;
  }

  @Override
  protected void initChannel(SocketChannel ch) {
    if (channels.size() >= px.limits().maxConnections() || px.draining().get()) {
      ch.close();
      return;
    }
    channels.add(ch);
    ChannelPipeline p = ch.pipeline();
    addTls(p, ch);
    addTimeouts(p);
    addHttp1(p);
    p.addLast("exchange", new ExchangeDriver(px, listen));
  }

  private void addTls(ChannelPipeline p, SocketChannel ch) {
    if (tls != null) {
      p.addLast("tls", tls.get().newHandler(ch.alloc())); // the current certificate: it may have been reloaded
    }
  }

  private void addTimeouts(ChannelPipeline p) {
    p.addLast("idle", new IdleStateHandler(0, 0, px.limits().idleTimeout().toMillis(), TimeUnit.MILLISECONDS));
  }

  private void addHttp1(ChannelPipeline p) {
    p.addLast("http", new HttpServerCodec(px.limits().maxInitialLineBytes(), px.limits().maxHeaderBytes(), 64 * 1024));
  }
}

package dev.vertexproxy.proxy.server;

import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.timeout.IdleStateHandler;
import java.util.concurrent.TimeUnit;

/**
 * The caller pipeline, top-down in the order a request meets it:
 * TLS → idle timeout → HTTP/1.1 codec (bounded request line, headers and chunks) → {@link ExchangeDriver}
 * (route → identity → policy → credentials → upstream relay → audit).
 */
final class ProxyChannelInitializer extends ChannelInitializer<SocketChannel> {
  private final ProxyContext px;
  private final SslContext tls;
  private final ChannelGroup channels;

  ProxyChannelInitializer(ProxyContext px, SslContext tls, ChannelGroup channels) {
    this.px = px;
    this.tls = tls;
    this.channels = channels;
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
    p.addLast("exchange", new ExchangeDriver(px));
  }

  private void addTls(ChannelPipeline p, SocketChannel ch) {
    if (tls != null) {
      p.addLast("tls", tls.newHandler(ch.alloc()));
    }
  }

  private void addTimeouts(ChannelPipeline p) {
    p.addLast("idle", new IdleStateHandler(0, 0, px.limits().idleTimeout().toMillis(), TimeUnit.MILLISECONDS));
  }

  private void addHttp1(ChannelPipeline p) {
    p.addLast("http", new HttpServerCodec(px.limits().maxInitialLineBytes(), px.limits().maxHeaderBytes(), 64 * 1024));
  }
}

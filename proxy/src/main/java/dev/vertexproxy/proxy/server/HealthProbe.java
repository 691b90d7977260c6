package dev.vertexproxy.proxy.server;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;

/**
 * {@code GET /healthz} on the serving port, without a body: load balancers probe the port they send traffic to. It is
 * answered before an exchange exists, so probes neither fill the audit trail nor count as exchanges; anything else on
 * that path (another method, a query, a body) is routed like every request, and refused with its record.
 */
final class HealthProbe {
  private static final String PATH = "/healthz";

  private HealthProbe() {
  }

  static boolean matches(HttpRequest req) {
    return req.decoderResult().isSuccess() && PATH.equals(req.uri()) && HttpMethod.GET.equals(req.method())
        && !HttpUtil.isTransferEncodingChunked(req) && HttpUtil.getContentLength(req, 0L) == 0;
  }

  /**
   * 200 while this replica should get traffic, 503 while it should not (draining, audit down, issuer keys not loaded).
   *
   * @return whether the connection stays open for the next request
   */
  static boolean answer(ChannelHandlerContext ctx, HttpRequest req, boolean ready, boolean draining) {
    boolean keepAlive = HttpUtil.isKeepAlive(req) && !draining;
    FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
        ready ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE,
        ctx.alloc().buffer().writeBytes((ready ? "ok\n" : "not ready\n").getBytes(StandardCharsets.US_ASCII)));
    res.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8")
        .set(HttpHeaderNames.CONTENT_LENGTH, res.content().readableBytes())
        .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE);
    if (!keepAlive) {
      res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
      ctx.writeAndFlush(res).addListener(ChannelFutureListener.CLOSE);
      return false;
    }
    ctx.writeAndFlush(res);
    return true;
  }
}

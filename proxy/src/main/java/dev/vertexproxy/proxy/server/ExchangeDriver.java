package dev.vertexproxy.proxy.server;

import dev.vertexproxy.proxy.admission.Admission;
import dev.vertexproxy.proxy.admission.RequestHead;
import dev.vertexproxy.proxy.config.ProxyConfig;
import dev.vertexproxy.proxy.logging.RequestLog;
import dev.vertexproxy.proxy.reason.Reason;
import dev.vertexproxy.proxy.upstream.UpstreamRelay;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drives each HTTP/1.1 exchange of one caller connection through the request flow ({@link RequestFlow}): head →
 * admission → {@link UpstreamRelay} → exactly one audit record and metric. Last in the caller pipeline. It owns what is
 * about the connection: pipelining (one exchange at a time, later requests wait in the stash), the request head that
 * opens an exchange, the header timer between exchanges, idle and error events. What happens to the current exchange
 * from there — holding body chunks back while admission decides, the relay, reading and dropping a refused body on a
 * deadline, and the endings — is {@link ExchangePhases}, which hands an ended exchange back
 * ({@link #nextRequestOrClose}). Decisions belong to the admission steps, the bytes to and from Vertex to the relay;
 * both call back on this channel's event loop, so all state here is confined to one thread.
 *
 * <p>{@code AUTO_READ} is off: the caller's body is read only as fast as Vertex takes it (and not at all until the
 * request is admitted — chunks that arrived with the head are held, bounded by one read), and Vertex's response only as
 * fast as the caller takes it; once the request is complete, one read stays asked for ({@link #readsAhead}). A refusal
 * ends the exchange; there is no fall-through.
 *
 * <p>Every entry into this class or {@link ExchangePhases} that works on an exchange — a Netty callback, the admission
 * verdict, a write listener, a timer — runs inside that exchange's {@link RequestLog} context, so every log line about
 * it carries its request id and none carries another's: the context is entered per callback and the MDC restored on the
 * way out.
 */
final class ExchangeDriver extends ChannelInboundHandlerAdapter {
  private static final Logger log = LoggerFactory.getLogger(ExchangeDriver.class);
  private final ProxyContext px;
  private final ProxyConfig.Listen listen;
  private ChannelHandlerContext ctx;
  private ExchangePhases phases;
  private Exchange current;
  private final HeaderTimer headerTimer = new HeaderTimer();
  private final ArrayDeque<Object> stash = new ArrayDeque<>();
  private boolean dispatching;
  /** Between a channelRead and its channelReadComplete: writes to Vertex wait for the batch's end to be flushed. */
  private boolean inReadBatch;

  ExchangeDriver(ProxyContext px) {
    this(px, new ProxyConfig.Listen(null, null));
  }

  /** With {@code listen}'s trusted proxies deciding whose forwarded header names the client ({@link ForwardedFor}). */
  ExchangeDriver(ProxyContext px, ProxyConfig.Listen listen) {
    this.px = px;
    this.listen = listen;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    this.phases = new ExchangePhases(ctx, px, this);
    px.metrics().connections().incrementAndGet();
    armHeaderTimer();
    ctx.read();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    px.metrics().connections().decrementAndGet();
    cancelHeaderTimer();
    Exchange ex = current;
    if (ex != null) {
      ex.log.run(() -> phases.closed(ex));
    }
    releaseStash();
    ctx.fireChannelInactive();
  }

  /**
   * Every decoded message goes through the stash, in order. One socket read can carry the rest of this request and the
   * next (pipelined) one; messages of a later request wait here until the current exchange has ended.
   */
  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    inReadBatch = true;
    stash.add(msg);
    dispatchStash();
  }

  /**
   * The end of one socket read: the body chunks it brought were written to Vertex's connection one by one and leave
   * now, in one flush (one write, one TLS record) rather than one per chunk.
   */
  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    inReadBatch = false;
    flushUpstream();
    ctx.fireChannelReadComplete();
  }

  private void flushUpstream() {
    Exchange ex = current;
    if (ex != null && ex.relay != null) {
      ex.relay.flush();
    }
  }

  private void dispatchStash() {
    if (dispatching) {
      return; // re-entered from below: the loop further up the stack carries on
    }
    dispatching = true;
    try {
      Object msg;
      while ((current == null || !current.requestComplete) && (msg = stash.poll()) != null) {
        Object m = msg;
        scoped(current).run(() -> {
          if (m instanceof HttpRequest req) {
            onRequestHead(req);
          }
          if (m instanceof HttpContent content) {
            onRequestContent(content);
          } else if (!(m instanceof HttpRequest)) {
            ReferenceCountUtil.release(m);
          }
        });
      }
    } finally {
      dispatching = false;
    }
    if (!inReadBatch) {
      flushUpstream(); // dispatched from the stash outside a read (the next request): no channelReadComplete follows
    }
    if (ctx.channel().isActive() && (current == null || readsAhead(current))) {
      ctx.read(); // idle between exchanges, or the request is all here: wait for the next one
    }
  }

  /**
   * Whether the caller's socket is read while {@code ex} is answered: once its request is complete and nothing waits in
   * the stash, a kept-alive connection keeps one read asked for, so that the next request is read as soon as it comes
   * and the socket is not taken off and put back on the poller around every exchange. What that read brings waits in
   * the stash, and no more is read until it was dispatched: one read's worth, as with the chunks held during admission.
   */
  private boolean readsAhead(Exchange ex) {
    return ex.requestComplete && ex.keepAlive && stash.isEmpty();
  }

  // ---- request head: admission ---------------------------------------------------------------------------------

  private void onRequestHead(HttpRequest req) {
    cancelHeaderTimer();
    if (current != null && !current.recorded) {
      // We read one request at a time, so this cannot happen unless the codec misbehaves: refuse to interleave.
      ctx.close();
      return;
    }
    if (HealthProbe.matches(req)) {
      if (HealthProbe.answer(ctx, req, px.ready().getAsBoolean(), px.draining().get())) {
        armHeaderTimer();
      }
      return;
    }
    InetAddress peer = ctx.channel().remoteAddress() instanceof InetSocketAddress a ? a.getAddress() : null;
    String peerIp = peer == null ? null : peer.getHostAddress();
    String sourceIp = peer == null ? null
        : ForwardedFor.sourceIp(peer, req.headers(), listen.trustedProxies(), listen.forwardedHeader());
    // after a decoding failure the codec discards the rest of the connection's bytes: answer, then close
    boolean keepAlive = HttpUtil.isKeepAlive(req) && !px.draining().get() && req.decoderResult().isSuccess();
    Exchange ex = new Exchange(Exchange.newRequestId(), System.nanoTime(), px.clock().instant(), sourceIp, peerIp,
        new Admission(RequestHead.of(req)), req.headers().get(HttpHeaderNames.USER_AGENT), keepAlive);
    current = ex;
    px.metrics().inFlight().incrementAndGet();
    // A verdict that lets the request go to Vertex is acted on in a task of its own, even when every step decided at
    // once: the rest of what this read decoded (the body chunks that came with the head) is dispatched first, so a
    // malformed chunk in them refuses the request before its head can leave. A refusal is answered at once: its own
    // reason (a head too long, say) is the one the caller must hear, not a chunk's after it.
    ex.log.run(() -> px.admission().admit(ex.admission, ctx.executor(), verdict -> {
      if (verdict.proceeds()) {
        ctx.executor().execute(() -> ex.log.run(() -> phases.admitted(ex, verdict)));
      } else {
        ex.log.run(() -> phases.admitted(ex, verdict));
      }
    }));
  }

  /** The log context of {@code ex}, or one that changes nothing between exchanges. */
  private static RequestLog.Context scoped(Exchange ex) {
    return ex == null ? RequestLog.none() : ex.log;
  }

  // ---- request body --------------------------------------------------------------------------------------------

  private void onRequestContent(HttpContent content) {
    Exchange ex = current;
    if (ex == null) {
      content.release();
      return;
    }
    switch (ex.phase) {
      case ADMITTING, SERVING, RELAYING, RESPONDING -> phases.onBody(ex, content);
      default -> phases.onRefusedBody(ex, content);
    }
  }

  // ---- between exchanges ---------------------------------------------------------------------------------------

  /** Whether {@code ex} is still the connection's exchange (a timer of an earlier one may fire late). */
  boolean isCurrent(Exchange ex) {
    return current == ex;
  }

  /** {@code ex} ended ({@link ExchangePhases}): go on to the next request, pipelined or not yet sent, or close. */
  void nextRequestOrClose(boolean keepOpen) {
    if (current != null) {
      current.cancelDiscardDeadline();
    }
    if (!keepOpen) {
      releaseStash();
      ctx.close();
      return;
    }
    current = null;
    armHeaderTimer();
    dispatchStash();
  }

  private void releaseStash() {
    Object m;
    while ((m = stash.poll()) != null) {
      ReferenceCountUtil.release(m);
    }
  }

  // ---- connection housekeeping ---------------------------------------------------------------------------------

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    scoped(current).run(() -> onUserEvent(ctx, evt));
  }

  private void onUserEvent(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof IdleStateEvent && (current == null || current.recorded)) {
      ctx.close();
      return;
    }
    if (evt instanceof IdleStateEvent && current.responseStarted() && !ctx.channel().isWritable()) {
      // The caller stopped taking the response for a whole idle timeout: free the upstream connection and the buffers.
      phases.abort(current, Reason.CLIENT_STALLED);
      return;
    }
    ctx.fireUserEventTriggered(evt);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    Exchange ex = current;
    scoped(ex).run(() -> {
      if (ex != null && !ex.recorded) {
        phases.abort(ex, Reason.CONNECTION_ERROR);
      } else {
        ctx.close();
      }
      if (!(cause instanceof IOException)) {
        log.warn("caller connection error: {}", cause.toString());
      }
    });
  }

  /** Between exchanges, a caller has {@code limits.request_header_timeout} to send the next request head. */
  private void armHeaderTimer() {
    headerTimer.arm(ctx, px.limits().requestHeaderTimeout(), () -> {
      if (current == null || current.recorded) {
        ctx.close();
      }
    });
  }

  private void cancelHeaderTimer() {
    headerTimer.cancel();
  }
}

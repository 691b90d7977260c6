package dev.vertexproxy.proxy.server;

import dev.vertexproxy.proxy.admission.Admission;
import dev.vertexproxy.proxy.admission.RequestHead;
import dev.vertexproxy.proxy.admission.Verdict;
import dev.vertexproxy.proxy.config.ProxyConfig;
import dev.vertexproxy.proxy.logging.RequestLog;
import dev.vertexproxy.proxy.reason.Reason;
import dev.vertexproxy.proxy.server.Exchange.Phase;
import dev.vertexproxy.proxy.upstream.Origin;
import dev.vertexproxy.proxy.upstream.UpstreamRelay;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drives each HTTP/1.1 exchange of one caller connection through the request flow ({@link RequestFlow}): head →
 * admission → {@link UpstreamRelay} → exactly one audit record and metric ({@link #end}). Last in the caller pipeline.
 * It owns what is about the connection: pipelining (one exchange at a time, later requests wait in the stash), holding
 * body chunks back while admission decides, reading and dropping a refused body on a deadline, and the endings.
 * Decisions belong to the admission steps, the bytes to and from Vertex to the relay; both call back on this channel's
 * event loop, so all state here is confined to one thread.
 *
 * <p>{@code AUTO_READ} is off: the caller's body is read only as fast as Vertex takes it (and not at all until the
 * request is admitted — chunks that arrived with the head are held, bounded by one read), and Vertex's response only as
 * fast as the caller takes it. A refusal ends the exchange; there is no fall-through.
 *
 * <p>Every entry into this class that works on an exchange — a Netty callback, the admission verdict, a write listener,
 * a timer — runs inside that exchange's {@link RequestLog} context, so every log line about it carries its request id
 * and none carries another's: the context is entered per callback and the MDC restored on the way out.
 */
final class ExchangeDriver extends ChannelInboundHandlerAdapter {
  private static final Logger log = LoggerFactory.getLogger(ExchangeDriver.class);
  private final ProxyContext px;
  private final ProxyConfig.Listen listen;
  private ChannelHandlerContext ctx;
  private Exchange current;
  private final HeaderTimer headerTimer = new HeaderTimer();
  private final ArrayDeque<Object> stash = new ArrayDeque<>();
  private boolean dispatching;

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
    px.metrics().connections().incrementAndGet();
    armHeaderTimer();
    ctx.read();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    px.metrics().connections().decrementAndGet();
    cancelHeaderTimer();
    Exchange ex = current;
    scoped(ex).run(() -> closed(ex));
    releaseStash();
    ctx.fireChannelInactive();
  }

  private void closed(Exchange ex) {
    if (ex != null) {
      ex.cancelDiscardDeadline();
      if (!ex.recorded) {
        if (!ex.responseStarted()) {
          ex.status = 499;
        }
        if (ex.reason == null) {
          ex.reason = Reason.CLIENT_CLOSED;
        }
        ex.brokeMidResponse = ex.phase == Phase.RESPONDING;
        end(ex);
      }
      ex.closeRelay();
    }
  }

  /**
   * Every decoded message goes through the stash, in order. One socket read can carry the rest of this request and the
   * next (pipelined) one; messages of a later request wait here until the current exchange has ended.
   */
  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    stash.add(msg);
    dispatchStash();
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
    if (current == null && ctx.channel().isActive()) {
      ctx.read(); // idle between exchanges: wait for the next request
    }
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
    ex.log.run(() -> px.admission().admit(ex.admission, ctx.executor(), verdict -> ex.log.run(() -> admitted(ex, verdict))));
  }

  /** The log context of {@code ex}, or one that changes nothing between exchanges. */
  private static RequestLog.Context scoped(Exchange ex) {
    return ex == null ? RequestLog.none() : ex.log;
  }

  private void admitted(Exchange ex, Verdict verdict) {
    if (ex.phase != Phase.ADMITTING) {
      return; // ended meanwhile: the caller went away while a step was deciding
    }
    ex.admittedNanos = System.nanoTime();
    if (!verdict.proceeds()) {
      refuse(ex, verdict.reason(), verdict.message());
      return;
    }
    Admission a = ex.admission;
    RequestHead head = a.head();
    Origin origin = px.hosts().originFor(a.route().location());
    HttpRequest upstream = UpstreamRelay.upstreamRequest(head.method(), head.uri(), head.headers(), head.chunked(),
        head.declaredBodyBytes(), origin, a.googleToken().value());
    ex.phase = Phase.RELAYING;
    if (head.expectContinue() && !ex.requestComplete) {
      ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE));
    }
    ex.relay = UpstreamRelay.open(px.connections(), ctx.channel().eventLoop(), origin, upstream, ex.requestId,
        ctx.channel(), px.responseTimeout(), new RelayEvents(this, ex, px.draining()::get, px.metrics().streams()),
        px.metrics()::upstreamConnectFailure);
    boolean anyHeld = !ex.held.isEmpty();
    HttpContent c;
    while ((c = ex.held.poll()) != null) {
      ex.relay.sendBody(c);
    }
    if (!anyHeld && !ex.requestComplete) {
      ctx.read();
    }
  }

  // ---- request body --------------------------------------------------------------------------------------------

  private void onRequestContent(HttpContent content) {
    Exchange ex = current;
    if (ex == null) {
      content.release();
      return;
    }
    switch (ex.phase) {
      case ADMITTING, RELAYING, RESPONDING -> onBody(ex, content);
      default -> onRefusedBody(ex, content);
    }
  }

  private void onBody(Exchange ex, HttpContent content) {
    if (content.decoderResult().isFailure()) {
      // A malformed chunk must not become a clean end of body upstream: Vertex would run a request cut short. If the
      // head already went, closing that connection leaves Vertex a body that never ended.
      content.release();
      ex.keepAlive = false;
      refuse(ex, Reason.REQUEST_MALFORMED, "The request body is not valid HTTP/1.1 chunked encoding.");
      return;
    }
    ex.bytesIn += content.content().readableBytes();
    ex.requestComplete |= content instanceof LastHttpContent;
    long max = px.limits().maxBodyBytes();
    if (ex.bytesIn > max) {
      content.release();
      refuse(ex, Reason.BODY_TOO_LARGE, "The request body is larger than this proxy accepts (" + max + " bytes).");
      return;
    }
    if (ex.relay != null) {
      ex.relay.sendBody(content);
    } else {
      ex.held.add(content);
    }
  }

  /** The body of a request already answered: read and dropped, so the connection can carry the next request. */
  private void onRefusedBody(Exchange ex, HttpContent content) {
    boolean last = content instanceof LastHttpContent;
    ex.discarded += content.content().readableBytes();
    content.release();
    ex.requestComplete |= last;
    if (ex.phase != Phase.DISCARDING) {
      return; // the refusal is still being written (its listener decides what comes next), or the exchange was cut
    }
    if (last) {
      ex.phase = Phase.ENDED;
      ex.cancelDiscardDeadline();
      nextRequestOrClose(true);
    } else if (ex.discarded > RefusedBody.DISCARD_LIMIT) {
      ctx.close();
    } else {
      ctx.read();
    }
  }

  // ---- what the relay reports (RelayEvents calls these) ---------------------------------------------------------

  /** A request chunk reached Vertex: read the caller's next one, unless the request is complete. */
  void requestBodyWritten(Exchange ex) {
    if (!ex.requestComplete && !ex.recorded) {
      ctx.read();
    }
  }

  /** Vertex's answer reached the caller in full. */
  void completed(Exchange ex) {
    ex.reason = Reason.ALLOWED;
    boolean keepOpen = ex.keepAlive && ex.requestComplete && !px.draining().get();
    end(ex);
    nextRequestOrClose(keepOpen);
  }

  // ---- endings -------------------------------------------------------------------------------------------------

  /**
   * Answers the caller with an error in Google's JSON shape — or, once Vertex's answer has started, cuts the connection
   * ({@link #abort}). If the caller's body has not fully arrived, the rest is read and dropped when it is small and
   * declared, and the connection closes otherwise, so an unread body is never mistaken for the next request.
   */
  void refuse(Exchange ex, Reason reason, String message) {
    if (ex.recorded || ex.phase == Phase.REFUSING) {
      return;
    }
    if (ex.responseStarted()) {
      abort(ex, reason);
      return;
    }
    ex.releaseHeld();
    ex.closeRelay();
    ex.relay = null;
    ex.refused = true;
    ex.reason = reason;
    ex.status = reason.httpStatus();
    RequestHead head = ex.admission.head();
    boolean keepOpen = ex.keepAlive && !px.draining().get()
        && (ex.requestComplete || RefusedBody.drainable(head, ex.bytesIn));
    FullHttpResponse res = ErrorResponses.of(ctx.alloc(), reason, message, ex.requestId);
    if (!keepOpen) {
      res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    }
    ex.bytesOut = res.content().readableBytes();
    ex.phase = Phase.REFUSING;
    if (keepOpen && !ex.requestComplete) {
      armDiscardDeadline(ex, head.declaredBodyBytes() - ex.bytesIn);
    }
    ctx.writeAndFlush(res).addListener(f -> ex.log.run(() -> refusalWritten(ex, keepOpen, f.isSuccess())));
  }

  private void refusalWritten(Exchange ex, boolean keepOpen, boolean written) {
    end(ex);
    if (keepOpen && written && !ex.requestComplete) {
      ex.phase = Phase.DISCARDING;
      ctx.read();
    } else {
      nextRequestOrClose(keepOpen && written);
    }
  }

  /** The refused body must be read by its deadline ({@link RefusedBody#deadlineMillis}), or the connection closes. */
  private void armDiscardDeadline(Exchange ex, long owed) {
    long ms = RefusedBody.deadlineMillis(owed);
    ex.discardDeadline = ctx.executor().schedule(() -> {
      if (current == ex && !ex.requestComplete) {
        ex.log.run(() -> {
          log.debug("refused body not read within {} ms; closing", ms);
        });
        ctx.close();
      }
    }, ms, TimeUnit.MILLISECONDS);
  }

  /** Something broke after the response started: the only honest signal left is to cut the connection. */
  private void abort(Exchange ex, Reason reason) {
    if (ex.recorded) {
      return;
    }
    ex.reason = reason;
    ex.brokeMidResponse = ex.phase == Phase.RESPONDING;
    ex.releaseHeld();
    ex.closeRelay();
    end(ex);
    ctx.close();
  }

  /** The single end of every exchange: one metric and one audit record. */
  private void end(Exchange ex) {
    if (ex.recorded) {
      return;
    }
    ex.recorded = true;
    ex.phase = Phase.ENDED;
    ex.releaseHeld();
    if (ex.relay != null) {
      ex.bytesOut = ex.relay.bytesOut();
    }
    ExchangeRecord.write(px, ex);
  }

  private void nextRequestOrClose(boolean keepOpen) {
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
      abort(current, Reason.CLIENT_STALLED);
      return;
    }
    ctx.fireUserEventTriggered(evt);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    Exchange ex = current;
    scoped(ex).run(() -> {
      if (ex != null && !ex.recorded) {
        abort(ex, Reason.CONNECTION_ERROR);
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

package dev.vertexproxy.proxy.upstream;

import dev.vertexproxy.proxy.logging.RequestLog;
import dev.vertexproxy.proxy.reason.Reason;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import java.time.Duration;
import java.util.ArrayDeque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries one admitted request to Vertex and its response back to the caller, both streamed with backpressure: the
 * next request chunk is read from the caller only once the last one reached Vertex's socket ({@link
 * Events#requestBodyWritten}), and the next response piece is read from Vertex only once the caller's socket took the
 * last one. The framing of both messages is the proxy's, written from what its decoders read ({@link HopByHop}).
 * Both directions flush once per read batch, not per piece: Vertex's pieces when its read is complete, the caller's
 * when the driver {@link #flush flushes} at the end of the caller's read; the head goes with the first chunks, and what
 * came in the read that brought the answer's end waits with that end, so a small answer leaves in one write.
 *
 * <p>After the exchange driver (server package), which admitted the request; before Vertex. The connection is a
 * {@link UpstreamLease}: given back to the pool only when the response ended exactly at its framed end, keep-alive, with
 * the whole request sent; closed on anything else. Interim {@code 1xx} responses are skipped, a {@code 101} refused.
 *
 * <p>Confined to the caller's event loop, which is also the upstream connection's. Ends once: with {@link
 * Events#responseCompleted} or {@link Events#failed}, or when the driver {@link #close closes} it.
 */
public final class UpstreamRelay {
  private static final Logger log = LoggerFactory.getLogger(UpstreamRelay.class);

  /** What the exchange driver hears from the relay, always on the caller's event loop. */
  public interface Events {
    /** The response head, framed by the proxy, is about to go to the caller: the driver adds its own headers. */
    void responseStarted(HttpResponse head);

    /** A request body chunk reached Vertex's socket buffer, and the request is not complete yet. */
    void requestBodyWritten();

    /**
     * Vertex's answer reached its framed end, and its last piece is held back (with the head too, when the answer has
     * no body): it goes to the caller only when the driver runs {@code finish}, on the caller's event loop — after the
     * exchange's audit record is durable — and {@link #responseCompleted} follows. If the driver closes the relay
     * instead, the caller never sees the answer complete. By default the last piece goes at once.
     */
    default void responseEnding(Runnable finish) {
      finish.run();
    }

    /** The whole response reached the caller; the upstream connection is already given back or closed. */
    void responseCompleted();

    /** The exchange cannot go on: the relay already closed the upstream connection. */
    void failed(Reason reason, String message);
  }

  private final String requestId;
  private final Channel caller;
  private final Duration responseTimeout;
  private final Events events;
  private final Runnable connectFailed;
  /** The log scope of the exchange that opened the relay: its own lines run from listeners where none is entered. */
  private final RequestLog.Context logContext = RequestLog.current();
  private final ArrayDeque<Object> pending = new ArrayDeque<>();
  private final ResponseHandler handler = new ResponseHandler();
  /** A HEAD request: its answer has no body, whatever its Content-Length says. */
  private final boolean headRequest;
  private UpstreamLease lease;
  private boolean ended;
  private boolean requestSent;
  private boolean responseStarted;
  /** The final response reached its framed end: anything after it is not an answer to our request. */
  private boolean responseEnded;
  /** What waits for the driver's {@code finish} ({@link Events#responseEnding}): a bodiless head, the last piece. */
  private HttpResponse heldHead;
  private LastHttpContent heldLast;
  private long bytesOut;
  private boolean unflushed; // a request body chunk was written to Vertex and not flushed yet

  private UpstreamRelay(String requestId, Channel caller, Duration responseTimeout, Events events, Runnable connectFailed,
      boolean headRequest) {
    this.requestId = requestId;
    this.caller = caller;
    this.responseTimeout = responseTimeout;
    this.events = events;
    this.connectFailed = connectFailed;
    this.headRequest = headRequest;
  }

  /**
   * Starts relaying {@code request} (from {@link UpstreamRequest#head}) to {@code origin}: takes a lease on a connection
   * and sends the head with the {@code firstChunks} of its body in one flush, then whatever body chunks were
   * {@link #sendBody sent} meanwhile. {@code connectFailed} runs when no connection could be had (for the metric).
   */
  public static UpstreamRelay open(LeaseSource connections, EventLoop loop, Origin origin, HttpRequest request,
      Iterable<? extends HttpContent> firstChunks, String requestId, Channel caller, Duration responseTimeout,
      Events events, Runnable connectFailed) {
    UpstreamRelay relay = new UpstreamRelay(requestId, caller, responseTimeout, events, connectFailed,
        HttpMethod.HEAD.equals(request.method()));
    relay.pending.add(request);
    for (HttpContent c : firstChunks) {
      relay.pending.add(withoutTrailers(c));
    }
    connections.lease(loop, origin).addListener(f -> {
      if (!f.isSuccess()) {
        relay.connectFailed.run();
        relay.fail(f.cause());
      } else {
        relay.leased((UpstreamLease) f.getNow());
      }
    });
    return relay;
  }

  /** Sends a request body chunk on, now or once the connection is there; trailers never go (they are headers too). */
  public void sendBody(HttpContent content) {
    writeBody(content);
    flush();
  }

  /** As {@link #sendBody}, unflushed: it leaves with the next {@link #flush} (the driver's, at its read's end). */
  public void writeBody(HttpContent content) {
    if (ended) {
      content.release();
      return;
    }
    content = withoutTrailers(content);
    if (lease == null) {
      pending.add(content);
      return;
    }
    write(content);
    unflushed = true;
  }

  /** Flushes what {@link #writeBody} wrote since the last flush (nothing when nothing is waiting). */
  public void flush() {
    if (unflushed && lease != null && !ended) {
      unflushed = false;
      lease.flush();
    }
  }

  private static HttpContent withoutTrailers(HttpContent content) {
    return content instanceof LastHttpContent last && !last.trailingHeaders().isEmpty()
        ? new DefaultLastHttpContent(last.content()) : content;
  }

  /** Bytes of response body written to the caller so far. */
  public long bytesOut() {
    return bytesOut;
  }

  /** Ends the relay early (the driver refused or aborted the exchange): the upstream connection is closed. */
  public void close() {
    if (ended) {
      return;
    }
    ended = true;
    pending.forEach(ReferenceCountUtil::release);
    pending.clear();
    ReferenceCountUtil.release(heldHead);
    ReferenceCountUtil.release(heldLast);
    heldHead = null;
    heldLast = null;
    if (lease != null) {
      lease.close();
    }
  }

  private void leased(UpstreamLease l) {
    if (ended) {
      l.release(true); // never used: as good as idle
      return;
    }
    lease = l;
    l.attach(handler);
    Object msg;
    while ((msg = pending.poll()) != null) {
      write(msg);
    }
    l.flush();
    l.read();
  }

  private void write(Object msg) {
    boolean last = msg instanceof LastHttpContent;
    boolean body = msg instanceof HttpContent;
    lease.write(msg).addListener((ChannelFutureListener) f -> {
      if (!f.isSuccess()) {
        fail(f.cause());
      } else if (last) {
        requestSent = true;
        // from now on, silence is Vertex's: a slow upload is not counted against the response timeout
        lease.armResponseTimeout(responseTimeout);
      } else if (body && !ended) {
        events.requestBodyWritten();
      }
    });
  }

  private void fail(Throwable cause) {
    if (ended) {
      return;
    }
    if (responseEnded) {
      // The whole answer is here (its end may wait for its record): a close now costs a connection, not the answer.
      handler.upstreamKeepAlive = false;
      return;
    }
    if (responseStarted) {
      end(Reason.UPSTREAM_RESET, "Vertex AI closed the connection mid-response.");
    } else if (cause instanceof ConnectTimeoutException) {
      end(Reason.UPSTREAM_TIMEOUT, "Vertex AI did not accept a connection in time.");
    } else {
      logContext.run(() -> log.warn("request {}: upstream failure: {}", requestId,
          cause == null ? "closed" : cause.toString()));
      end(Reason.UPSTREAM_UNREACHABLE, "The proxy could not reach Vertex AI.");
    }
  }

  private void end(Reason reason, String message) {
    handler.flushCaller(); // what the caller was sent so far leaves before the cut, which then cannot look complete
    close();
    events.failed(reason, message);
  }

  /** The driver's go for the held end of the answer: the last piece (and a held head) to the caller, then the end. */
  private void finish() {
    if (ended || heldLast == null) {
      return; // closed meanwhile: close() released what was held
    }
    if (heldHead != null) {
      caller.write(heldHead);
    }
    LastHttpContent last = heldLast;
    heldHead = null;
    heldLast = null;
    handler.callerUnflushed = false; // this flush takes it
    caller.writeAndFlush(last).addListener((ChannelFutureListener) f -> {
      if (ended) {
        return;
      }
      if (!f.isSuccess()) {
        end(Reason.CLIENT_CLOSED, "The caller went away.");
      } else {
        // read now, not when the message arrived: bytes decoded after the end may have arrived in between
        ended = true;
        lease.release(handler.upstreamKeepAlive && requestSent);
        events.responseCompleted();
      }
    });
  }

  /** Vertex's response, piece by piece, to the caller; reads more only once the caller took the last piece. */
  private final class ResponseHandler extends ChannelInboundHandlerAdapter {
    private boolean upstreamKeepAlive;
    private boolean skippingInterim;
    /** False while the relay deliberately waits for a slow caller: that silence is not Vertex's. */
    private boolean awaitingUpstream = true;
    /** The head of an answer that has no body: it goes with the last piece, so the caller cannot read it as complete. */
    private boolean holdHead;
    /** Something of this read batch was written to the caller and waits for the batch's end to be flushed. */
    private boolean callerUnflushed;

    @Override
    public void channelRead(ChannelHandlerContext bctx, Object msg) {
      awaitingUpstream = false;
      if (responseEnded) {
        // Bytes past the framed end of the response: Vertex is answering something we did not ask (a request smuggled
        // in a body, say). Never relay them, and never hand this connection to the next caller.
        ReferenceCountUtil.release(msg);
        upstreamKeepAlive = false;
        return;
      }
      if (ended) {
        ReferenceCountUtil.release(msg);
        return;
      }
      if (msg instanceof HttpResponse res && !onHead(bctx, res)) {
        return;
      }
      if (skippingInterim && msg instanceof HttpContent) {
        skippingInterim = !(msg instanceof LastHttpContent);
        ReferenceCountUtil.release(msg);
        readUpstream();
        return;
      }
      if (msg instanceof HttpContent c && c.decoderResult().isFailure()) {
        // A malformed body from upstream: the caller must not take a truncated answer for a complete one.
        ReferenceCountUtil.release(msg);
        end(Reason.UPSTREAM_MALFORMED, "Vertex AI sent a malformed response.");
        return;
      }
      if (msg instanceof HttpContent c) {
        bytesOut += c.content().readableBytes();
      }
      if (msg instanceof LastHttpContent last) {
        // The end waits for the driver (its record first), and what this read brought before it waits with it: a small
        // answer leaves in one write. Reading goes on: bytes past the end are caught above.
        responseEnded = true;
        heldLast = last;
        lease.read();
        events.responseEnding(UpstreamRelay.this::finish);
        return;
      }
      if (holdHead && msg instanceof HttpResponse res) {
        heldHead = res;
        return;
      }
      // written now, flushed when this read from Vertex is over (channelReadComplete): one write per read batch
      callerUnflushed = true;
      caller.write(msg).addListener((ChannelFutureListener) f -> {
        if (ended) {
          return;
        }
        if (!f.isSuccess()) {
          end(Reason.CLIENT_CLOSED, "The caller went away.");
        } else {
          readUpstream();
        }
      });
    }

    /** The end of one read from Vertex: whatever it brought that was written to the caller goes out now. */
    @Override
    public void channelReadComplete(ChannelHandlerContext bctx) {
      if (heldLast == null) {
        flushCaller(); // a held end takes what is unflushed with it (finish)
      }
      bctx.fireChannelReadComplete();
    }

    private void flushCaller() {
      if (callerUnflushed) {
        callerUnflushed = false;
        caller.flush();
      }
    }

    /** A response head: false when it was consumed here (interim, refused). */
    private boolean onHead(ChannelHandlerContext bctx, HttpResponse res) {
      int code = res.status().code();
      if (res.decoderResult().isFailure() || code == 101) {
        ReferenceCountUtil.release(res);
        fail(code == 101 ? new IllegalStateException("upstream switched protocols") : res.decoderResult().cause());
        return false;
      }
      if (code >= 100 && code < 200) {
        // Interim (100, 102, 103): the codec follows it with an empty end that is not the real response's end.
        ReferenceCountUtil.release(res);
        skippingInterim = true;
        readUpstream();
        return false;
      }
      ResponseFraming framing = ResponseFraming.apply(res, headRequest);
      upstreamKeepAlive = framing.upstreamKeepAlive();
      holdHead = framing.holdHead();
      responseStarted = true;
      events.responseStarted(res);
      return true;
    }

    private void readUpstream() {
      awaitingUpstream = true;
      lease.read();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext bctx, Object evt) {
      if (evt instanceof IdleStateEvent && !ended && awaitingUpstream) {
        end(Reason.UPSTREAM_TIMEOUT, "Vertex AI did not answer in time.");
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext bctx) {
      fail(null);
      bctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext bctx, Throwable cause) {
      fail(cause);
    }
  }
}

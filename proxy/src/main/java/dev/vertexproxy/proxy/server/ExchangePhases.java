package dev.vertexproxy.proxy.server;

import dev.vertexproxy.proxy.admission.Admission;
import dev.vertexproxy.proxy.admission.RequestHead;
import dev.vertexproxy.proxy.admission.Verdict;
import dev.vertexproxy.proxy.audit.AuditLog.AuditReceipt;
import dev.vertexproxy.proxy.reason.Reason;
import dev.vertexproxy.proxy.reserved.ReservedRoutes;
import dev.vertexproxy.proxy.server.Exchange.Phase;
import dev.vertexproxy.proxy.upstream.Origin;
import dev.vertexproxy.proxy.upstream.UpstreamRelay;
import dev.vertexproxy.proxy.upstream.UpstreamRequest;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.ReferenceCounted;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves the current exchange of one caller connection through its {@link Phase phases} — admission verdict, relay and
 * Vertex's answer, or a refusal and the dropping of the rest of its body — to its single end ({@link #end}): one audit
 * record, one metric. The {@link ExchangeDriver} owns the connection (which exchange is current, when the next one
 * starts), calls in here and takes an ended exchange back ({@link ExchangeDriver#nextRequestOrClose}).
 *
 * <p>Confined to the connection's event loop. Every method runs inside the exchange's
 * {@link dev.vertexproxy.proxy.logging.RequestLog} context: the driver and {@link RelayEvents} enter it before they
 * call, and the callbacks this class schedules itself — the refusal's write listener, the discard deadline — enter it
 * themselves. It logs under the driver's name.
 *
 * <p>The audit record comes before the end of the answer ({@link AuditPlan}): unless {@code durability: none}, an
 * exchange is recorded when its answer is complete but for its last piece — Vertex's last chunk, or the whole of a
 * response the proxy made — and that piece goes to the caller only once the record is durable ({@link #endThen}). The
 * audit writer completes on its own thread; the continuation hops back to this event loop and never waits on it. In
 * {@code sync}, a decision record is durable before anything leaves for Vertex ({@link #admitted}).
 */
final class ExchangePhases {
  private static final Logger log = LoggerFactory.getLogger(ExchangeDriver.class);
  private final ChannelHandlerContext ctx;
  private final ProxyContext px;
  private final ExchangeDriver connection;
  private final AuditPlan plan;

  ExchangePhases(ChannelHandlerContext ctx, ProxyContext px, ExchangeDriver connection) {
    this.ctx = ctx;
    this.px = px;
    this.connection = connection;
    this.plan = px.auditPlan();
  }

  // ---- admitted -----------------------------------------------------------------------------------------------

  /**
   * Admission decided about {@code ex}: a refusal answers it; otherwise it is relayed to Vertex — in {@code sync} only
   * once its decision record is durable.
   */
  void admitted(Exchange ex, Verdict verdict) {
    if (ex.phase != Phase.ADMITTING) {
      return; // ended meanwhile: the caller went away while a step was deciding
    }
    ex.admittedNanos = System.nanoTime();
    if (verdict.endpoint() != null) {
      ex.phase = Phase.SERVING;
      ex.reserved = new ReservedAnswer(ctx, this, ex, verdict.endpoint());
      ex.reserved.start();
      return;
    }
    if (!verdict.proceeds()) {
      refuse(ex, verdict.reason(), verdict.message());
      return;
    }
    if (!plan.decisionFirst()) {
      forward(ex);
      return;
    }
    // sync: nothing of the request (head, 100 Continue, body) moves until the decision is on disk; chunks read with the
    // head stay held, and no more are read meanwhile
    CompletableFuture<AuditReceipt> decision = px.audit().append(ex.toDecisionEvent());
    onLoop(ex, decision, () -> {
      if (ex.phase != Phase.ADMITTING) {
        return; // ended meanwhile: the caller went away, or a held chunk was malformed
      }
      Throwable failure = failure(decision);
      if (failure == null) {
        forward(ex);
      } else if (plan.refusesWithoutRecord()) {
        log.error("request {}: decision record could not be written ({}); not forwarded", ex.requestId,
            failure.getMessage());
        refuse(ex, Reason.AUDIT_UNAVAILABLE, "The audit trail cannot be written; requests are refused until it can.");
      } else {
        log.error("request {}: decision record could not be written ({}); forwarded anyway (audit.on_failure: continue)",
            ex.requestId, failure.getMessage());
        forward(ex);
      }
    });
  }

  /**
   * Relays an admitted {@code ex} to Vertex: the body chunks held back so far go first, and the caller's next chunk is
   * read once Vertex took them (at once if none was held).
   */
  private void forward(Exchange ex) {
    Admission a = ex.admission;
    RequestHead head = a.head();
    Origin origin = px.hosts().originFor(a.route().location());
    HttpRequest upstream = UpstreamRequest.head(head.method(), head.uri(), head.headers(), head.chunked(),
        head.declaredBodyBytes(), origin, a.googleToken().value(), ex.requestId);
    ex.capture = plan.capture().start(a.route().method());
    ex.phase = Phase.RELAYING;
    if (head.expectContinue() && !ex.requestComplete) {
      ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE));
    }
    // the chunks held so far go with the head, in one flush; the relay owns them from here
    List<HttpContent> first = List.copyOf(ex.held);
    ex.held.clear();
    first.forEach(c -> capture(ex, c));
    ex.relay = UpstreamRelay.open(px.connections(), ctx.channel().eventLoop(), origin, upstream, first, ex.requestId,
        ctx.channel(), px.responseTimeout(), new RelayEvents(this, ex, px.draining()::get, px.metrics().streams()),
        px.metrics()::upstreamConnectFailure);
    if (first.isEmpty() && !ex.requestComplete) {
      ctx.read();
    }
  }

  // ---- request body -------------------------------------------------------------------------------------------

  /** A body chunk of a request being admitted or relayed: held back until admission decided, then sent on. */
  void onBody(Exchange ex, HttpContent content) {
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
      sendBody(ex, content);
    } else if (ex.reserved != null) {
      ex.reserved.body(content);
    } else {
      ex.held.add(content);
    }
  }

  /**
   * A chunk on its way to Vertex, written now and flushed at the end of the caller's read batch ({@link
   * ExchangeDriver}); what {@code audit.capture} keeps of the body is taken from it as it goes.
   */
  private static void sendBody(Exchange ex, HttpContent content) {
    capture(ex, content);
    ex.relay.writeBody(content);
  }

  private static void capture(Exchange ex, HttpContent content) {
    if (ex.capture != null) {
      ex.capture.add(content.content(), content instanceof LastHttpContent);
    }
  }

  /** A reserved route's answer ({@link ReservedAnswer}): recorded, written, then the connection goes on or closes. */
  void served(Exchange ex, FullHttpResponse res) {
    if (ex.recorded || ex.phase != Phase.SERVING) {
      res.release();
      return;
    }
    boolean keepOpen = ex.keepAlive && ex.requestComplete && !px.draining().get();
    ReservedAnswer.closeUnlessKeptOpen(res, keepOpen);
    ex.phase = Phase.RESPONDING;
    endThen(ex, false, res, () -> ctx.writeAndFlush(res).addListener(f -> ex.log.run(() -> {
      connection.nextRequestOrClose(keepOpen && f.isSuccess());
    })));
  }

  /** The body of a request already answered: read and dropped, so the connection can carry the next request. */
  void onRefusedBody(Exchange ex, HttpContent content) {
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
      connection.nextRequestOrClose(true);
    } else if (ex.discarded > RefusedBody.DISCARD_LIMIT) {
      ctx.close();
    } else {
      ctx.read();
    }
  }

  // ---- what the relay reports (RelayEvents calls these) -------------------------------------------------------

  /** A request chunk reached Vertex: read the caller's next one, unless the request is complete. */
  void requestBodyWritten(Exchange ex) {
    if (!ex.requestComplete && !ex.recorded) {
      ctx.read();
    }
  }

  /** Vertex's answer is complete but for its last piece, held by the relay: it goes once the record is durable. */
  void responseEnding(Exchange ex, Runnable finish) {
    if (ex.recorded) {
      return; // cut meanwhile: the relay is closed, and released what it held
    }
    ex.reason = Reason.ALLOWED;
    endThen(ex, false, null, finish);
  }

  /** Vertex's answer reached the caller in full. */
  void completed(Exchange ex) {
    ex.reason = Reason.ALLOWED;
    boolean keepOpen = ex.keepAlive && ex.requestComplete && !px.draining().get();
    end(ex, false); // recorded already, before the last piece went (responseEnding)
    connection.nextRequestOrClose(keepOpen);
  }

  // ---- endings ------------------------------------------------------------------------------------------------

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
    if (ex.admission.reserved()) {
      if (ex.admission.allowHeader() != null) {
        res.headers().set(HttpHeaderNames.ALLOW, ex.admission.allowHeader());
      }
      ReservedRoutes.addSecurityHeaders(res.headers());
    }
    if (!keepOpen) {
      res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    }
    ex.bytesOut = res.content().readableBytes();
    ex.phase = Phase.REFUSING;
    if (keepOpen && !ex.requestComplete) {
      armDiscardDeadline(ex, head.declaredBodyBytes() - ex.bytesIn);
    }
    // Refusing for the audit trail itself goes out whether or not its record can be written: the caller must hear why,
    // and that record is also the write whose success restores service.
    boolean bestEffort = reason == Reason.AUDIT_UNAVAILABLE;
    endThen(ex, bestEffort, res,
        () -> ctx.writeAndFlush(res).addListener(f -> ex.log.run(() -> refusalWritten(ex, keepOpen, f.isSuccess()))));
  }

  private void refusalWritten(Exchange ex, boolean keepOpen, boolean written) {
    if (keepOpen && written && !ex.requestComplete) {
      ex.phase = Phase.DISCARDING;
      ctx.read();
    } else {
      connection.nextRequestOrClose(keepOpen && written);
    }
  }

  /** The refused body must be read by its deadline ({@link RefusedBody#deadlineMillis}), or the connection closes. */
  private void armDiscardDeadline(Exchange ex, long owed) {
    long ms = RefusedBody.deadlineMillis(owed);
    ex.discardDeadline = ctx.executor().schedule(() -> {
      if (connection.isCurrent(ex) && !ex.requestComplete) {
        ex.log.run(() -> {
          log.debug("refused body not read within {} ms; closing", ms);
        });
        ctx.close();
      }
    }, ms, TimeUnit.MILLISECONDS);
  }

  /** Something broke after the response started: the only honest signal left is to cut the connection. */
  void abort(Exchange ex, Reason reason) {
    if (ex.recorded) {
      return;
    }
    ex.reason = reason;
    ex.brokeMidResponse = ex.phase == Phase.RESPONDING;
    ex.releaseHeld();
    ex.closeRelay();
    end(ex, false);
    ctx.close();
  }

  /** The single end of an exchange: one metric, one record; null if recorded already. answerWaits: {@link #endThen}. */
  private CompletableFuture<AuditReceipt> end(Exchange ex, boolean answerWaits) {
    if (ex.recorded) {
      return null;
    }
    ex.recorded = true;
    ex.phase = Phase.ENDED;
    ex.releaseHeld();
    if (ex.relay != null) {
      ex.bytesOut = ex.relay.bytesOut();
    }
    return ExchangeRecord.write(px, ex, !answerWaits);
  }

  /**
   * Ends {@code ex}, then completes its answer with {@code deliver}: at once in {@code durability: none} or when
   * {@code bestEffort}; otherwise once its record is durable, and it counts as in flight until then. If the record fails
   * and {@code on_failure: reject}, the connection is cut instead ({@code undelivered} released); with {@code continue}
   * the answer is completed all the same (the loss is counted and logged by {@link ExchangeRecord}).
   */
  private void endThen(Exchange ex, boolean bestEffort, ReferenceCounted undelivered, Runnable deliver) {
    boolean waits = !bestEffort && plan.answersAfterRecord();
    CompletableFuture<AuditReceipt> record = end(ex, waits);
    if (record == null || !waits) {
      deliver.run();
      return;
    }
    onLoop(ex, record, () -> {
      try {
        if (failure(record) == null || !plan.refusesWithoutRecord()) {
          deliver.run();
        } else { // never a complete answer the trail lacks
          log.warn("request {}: answer cut off: its audit record could not be written", ex.requestId);
          ReferenceCountUtil.release(undelivered);
          ex.closeRelay();
          ctx.close();
        }
      } finally {
        px.metrics().inFlight().decrementAndGet(); // only now: a drain's close must come after this last write
      }
    });
  }

  /** Runs {@code then} on this event loop in {@code ex}'s log context once {@code stage} completed (at once if it has). */
  private void onLoop(Exchange ex, CompletableFuture<?> stage, Runnable then) {
    if (stage.isDone() && ctx.executor().inEventLoop()) {
      then.run();
    } else {
      stage.whenComplete((r, err) -> ctx.executor().execute(() -> ex.log.run(then)));
    }
  }

  /** Why {@code done} failed, or {@code null} if it succeeded. */
  private static Throwable failure(CompletableFuture<?> done) {
    try {
      done.join();
      return null;
    } catch (CompletionException | CancellationException e) {
      return e.getCause() != null ? e.getCause() : e;
    }
  }

  /** The caller's connection closed under {@code ex}: unless it was recorded already, it ends as the caller's doing. */
  void closed(Exchange ex) {
    ex.cancelDiscardDeadline();
    if (!ex.recorded) {
      if (!ex.responseStarted()) {
        ex.status = 499;
      }
      if (ex.reason == null) {
        ex.reason = Reason.CLIENT_CLOSED;
      }
      ex.brokeMidResponse = ex.phase == Phase.RESPONDING;
      end(ex, false);
    }
    ex.closeRelay();
  }
}

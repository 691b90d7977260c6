package dev.vertexproxy.proxy.server;

import dev.vertexproxy.proxy.reason.Reason;
import dev.vertexproxy.proxy.upstream.UpstreamRelay;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponse;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

/**
 * What the {@link UpstreamRelay} reports about one exchange, turned into the terms of {@link ExchangePhases}: the
 * caller-facing headers of Vertex's answer, reading the caller's next chunk, the end, a failure. On the connection's
 * event loop, each inside the exchange's log scope (the relay calls from its own listeners and handlers, where none is
 * entered).
 */
final class RelayEvents implements UpstreamRelay.Events {
  private final ExchangePhases phases;
  private final Exchange ex;
  private final BooleanSupplier draining;
  private final AtomicLong streams;

  RelayEvents(ExchangePhases phases, Exchange ex, BooleanSupplier draining, AtomicLong streams) {
    this.phases = phases;
    this.streams = streams;
    this.ex = ex;
    this.draining = draining;
  }

  @Override
  public void responseStarted(HttpResponse head) {
    ex.log.run(() -> started(head));
  }

  private void started(HttpResponse head) {
    head.headers().set(ErrorResponses.REQUEST_ID_HEADER, ex.requestId);
    if (!ex.keepAlive || draining.getAsBoolean()) {
      head.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    }
    ex.status = head.status().code();
    ex.phase = Exchange.Phase.RESPONDING;
    if (ex.firstByteNanos == 0) {
      ex.firstByteNanos = System.nanoTime();
    }
    String type = head.headers().get(HttpHeaderNames.CONTENT_TYPE);
    if (!ex.streaming && type != null && type.regionMatches(true, 0, "text/event-stream", 0, 17)) {
      ex.streaming = true;
      streams.incrementAndGet();
    }
  }

  @Override
  public void requestBodyWritten() {
    ex.log.run(() -> phases.requestBodyWritten(ex));
  }

  @Override
  public void responseEnding(Runnable finish) {
    ex.log.run(() -> phases.responseEnding(ex, finish));
  }

  @Override
  public void responseCompleted() {
    ex.log.run(() -> phases.completed(ex));
  }

  @Override
  public void failed(Reason reason, String message) {
    ex.log.run(() -> phases.refuse(ex, reason, message));
  }
}

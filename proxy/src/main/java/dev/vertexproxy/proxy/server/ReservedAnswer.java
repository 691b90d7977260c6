package dev.vertexproxy.proxy.server;

import dev.vertexproxy.proxy.admission.Admission;
import dev.vertexproxy.proxy.admission.RequestHead;
import dev.vertexproxy.proxy.reason.Reason;
import dev.vertexproxy.proxy.reserved.ReservedEndpoint;
import dev.vertexproxy.proxy.reserved.ReservedRequest;
import dev.vertexproxy.proxy.reserved.ReservedResponse;
import dev.vertexproxy.proxy.reserved.ReservedRoutes;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An exchange the proxy answers itself ({@link dev.vertexproxy.proxy.admission.Verdict#serve}): the request body is
 * read in full — bounded by {@link ReservedRoutes#MAX_BODY_BYTES}, chunk by chunk as the caller sends it — then the
 * {@link ReservedEndpoint} decides, and its answer is written with the protective headers every reserved route
 * carries. The exchange then ends through {@link ExchangePhases} like every other: one audit record, one metric.
 *
 * <p>Confined to the connection's event loop; the endpoint's stage may complete on any thread and hops back here.
 */
final class ReservedAnswer {
  private static final Logger log = LoggerFactory.getLogger(ReservedAnswer.class);

  private final ChannelHandlerContext ctx;
  private final ExchangePhases phases;
  private final Exchange ex;
  private final ReservedEndpoint endpoint;
  private final ByteArrayOutputStream body = new ByteArrayOutputStream();
  private boolean invoked;

  ReservedAnswer(ChannelHandlerContext ctx, ExchangePhases phases, Exchange ex, ReservedEndpoint endpoint) {
    this.ctx = ctx;
    this.phases = phases;
    this.ex = ex;
    this.endpoint = endpoint;
  }

  /** Starts with the chunks held back during admission; invokes the endpoint at once when the body is complete. */
  void start() {
    HttpContent c;
    while ((c = ex.held.poll()) != null) {
      if (!append(c)) {
        return;
      }
    }
    if (ex.requestComplete) {
      invoke();
    } else {
      if (ex.admission.head().expectContinue()) {
        ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE));
      }
      ctx.read();
    }
  }

  /** A body chunk the driver read for this exchange (size limits and framing already checked by the phases). */
  void body(HttpContent content) {
    if (append(content) && !invoked) {
      if (content instanceof LastHttpContent) {
        invoke();
      } else {
        ctx.read();
      }
    }
  }

  private boolean append(HttpContent content) {
    try {
      ByteBuf b = content.content();
      if (body.size() + b.readableBytes() > ReservedRoutes.MAX_BODY_BYTES) {
        phases.refuse(ex, Reason.BODY_TOO_LARGE,
            "The request body is larger than this proxy route accepts (" + ReservedRoutes.MAX_BODY_BYTES + " bytes).");
        return false;
      }
      byte[] bytes = new byte[b.readableBytes()];
      b.getBytes(b.readerIndex(), bytes);
      body.writeBytes(bytes);
      return true;
    } finally {
      content.release();
    }
  }

  private void invoke() {
    invoked = true;
    Admission a = ex.admission;
    RequestHead head = a.head();
    ReservedRequest request;
    try {
      QueryStringDecoder query = new QueryStringDecoder(head.uri(), StandardCharsets.UTF_8, true, 64);
      request = new ReservedRequest(ex.requestId, HttpMethod.valueOf(head.method()), query.rawPath(),
          query.parameters(), head.headers(), body.toByteArray(), ex.sourceIp, ex.startTime);
    } catch (IllegalArgumentException e) {
      // a bad %-escape in the query: the router never saw this path, so this is where it is refused
      phases.refuse(ex, Reason.REQUEST_MALFORMED, "The query string is not validly percent-encoded.");
      return;
    }
    CompletionStage<ReservedResponse> stage;
    try {
      stage = endpoint.handle(request);
    } catch (RuntimeException e) {
      failed(e);
      return;
    }
    stage.whenCompleteAsync((response, err) -> ex.log.run(() -> {
      if (err != null || response == null) {
        failed(err);
      } else {
        answer(response);
      }
    }), ctx.executor());
  }

  private void failed(Throwable err) {
    log.error("reserved endpoint {} failed instead of answering", ex.path, err);
    phases.refuse(ex, Reason.INTERNAL_ERROR, "The proxy could not answer this request.");
  }

  private void answer(ReservedResponse response) {
    if (ex.recorded) {
      return; // the caller went away while the endpoint was deciding
    }
    byte[] bytes = response.body();
    FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
        HttpResponseStatus.valueOf(response.status()), ctx.alloc().buffer(bytes.length).writeBytes(bytes));
    res.headers().set(response.headers());
    ReservedRoutes.addSecurityHeaders(res.headers());
    res.headers().set(HttpHeaderNames.CONTENT_LENGTH, bytes.length).set(ErrorResponses.REQUEST_ID_HEADER, ex.requestId);
    res.headers().remove(HttpHeaderNames.TRANSFER_ENCODING);
    if (response.caller() != null) {
      ex.admission.caller(response.caller(), null);
    }
    ex.admission.reservedMethod(response.auditMethod());
    ex.reason = response.reason();
    ex.status = response.status();
    ex.bytesOut = bytes.length;
    if (response.message() != null && response.status() >= 400) {
      log.info("{} {}: {} ({})", ex.admission.head().method(), ex.path, response.status(), response.message());
    }
    phases.served(ex, res);
  }

  /** Whether the connection may carry another request after this answer. */
  static void closeUnlessKeptOpen(FullHttpResponse res, boolean keepOpen) {
    if (!keepOpen) {
      res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    }
  }
}

package dev.vertexproxy.proxy.server;

import dev.vertexproxy.policy.Decision;
import dev.vertexproxy.policy.Policy;
import dev.vertexproxy.policy.route.Route;
import dev.vertexproxy.policy.route.RouteException;
import dev.vertexproxy.proxy.config.AuditConfig;
import dev.vertexproxy.proxy.credentials.GoogleTokenProvider.GoogleToken;
import dev.vertexproxy.proxy.credentials.TokenRequest;
import dev.vertexproxy.proxy.identity.IdentityException;
import dev.vertexproxy.proxy.upstream.Origin;
import dev.vertexproxy.proxy.upstream.UpstreamConnections;
import dev.vertexproxy.proxy.upstream.UpstreamHosts;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ConnectTimeoutException;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HexFormat;
import java.util.Locale;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries each exchange of one caller connection through the request flow, in order:
 * <pre>
 *   guard (limits, framing) → {@link #route} → {@link #verifyIdentity} → {@link #decide} → {@link #obtainGoogleToken}
 *   → {@link #relay} to Vertex → response streamed back → exactly one audit record and metric ({@link #end})
 * </pre>
 * Sits last in the caller pipeline, after the HTTP codec. Identity and Google-token steps may complete on other threads;
 * their results always hop back onto this channel's event loop, so all state here is confined to one thread and the
 * event loop never blocks. {@code AUTO_READ} is off: the caller's body is read only as fast as Vertex takes it (and not
 * at all until the request is authorised — chunks that arrived with the head are held, bounded by one read), and
 * Vertex's response only as fast as the caller takes it. A failed step ends the exchange: there is no fall-through.
 *
 * <p>Why one handler and not one per step: the steps are asynchronous, and the body chunks that follow a request head
 * must wait for all of them; keeping the steps as methods of one connection-scoped state machine keeps that hold-back
 * in one place. Each step is a short method named after the decision it makes.
 */
final class ExchangeHandler extends ChannelInboundHandlerAdapter {
  private static final Logger log = LoggerFactory.getLogger(ExchangeHandler.class);
  /** A refused request's unread body up to this size is read and dropped to keep the connection; larger closes it. */
  private static final long DISCARD_LIMIT = 64 * 1024;
  private static final String HEALTH_PATH = "/healthz";
  /**
   * Reading a refused body must not let an unauthenticated caller hold a connection: each byte resets the idle timer, so
   * the drain has its own deadline, sized for the bytes still owed at this minimum rate after a grace, and capped.
   */
  private static final long DISCARD_MIN_BYTES_PER_SECOND = 16 * 1024;
  private static final long DISCARD_GRACE_MS = 1000;
  private static final long DISCARD_MAX_MS = 5000;

  private final ProxyContext px;
  private ChannelHandlerContext ctx;
  private Exchange current;
  private Channel backend;
  private ScheduledFuture<?> headerTimer;
  private final ArrayDeque<Object> stash = new ArrayDeque<>();
  private boolean dispatching;

  ExchangeHandler(ProxyContext px) {
    this.px = px;
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
    if (ex != null) {
      ex.cancelDiscardDeadline();
    }
    if (ex != null && !ex.ended) {
      if (ex.status == 0 || !ex.responseStarted) {
        ex.status = 499;
      }
      if (ex.reason == null || "allowed".equals(ex.reason)) {
        ex.reason = "client-closed";
      }
      end(ex);
    }
    closeBackend();
    releaseStash();
    ctx.fireChannelInactive();
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
      return; // re-entered from a step below: the loop further up the stack carries on
    }
    dispatching = true;
    try {
      Object msg;
      while ((current == null || !current.requestComplete) && (msg = stash.poll()) != null) {
        dispatch(msg);
      }
    } finally {
      dispatching = false;
    }
    if (current == null && ctx.channel().isActive()) {
      ctx.read(); // idle between exchanges: wait for the next request
    }
  }

  private void dispatch(Object msg) {
    if (msg instanceof HttpRequest req) {
      onRequestHead(req);
    }
    if (msg instanceof HttpContent content) {
      onRequestContent(content);
    } else if (!(msg instanceof HttpRequest)) {
      ReferenceCountUtil.release(msg);
    }
  }

  // ---- guard ---------------------------------------------------------------------------------------------------

  private void onRequestHead(HttpRequest req) {
    cancelHeaderTimer();
    if (current != null && !current.ended) {
      // We read one request at a time, so this cannot happen unless the codec misbehaves: refuse to interleave.
      ctx.close();
      return;
    }
    if (isHealthCheck(req)) {
      answerHealthCheck(req);
      return;
    }
    String requestId = newRequestId();
    String sourceIp = ctx.channel().remoteAddress() instanceof InetSocketAddress a ? a.getAddress().getHostAddress() : null;
    boolean expect = HttpUtil.is100ContinueExpected(req);
    // after a decoding failure the codec discards the rest of the connection's bytes: answer, then close
    boolean keepAlive = HttpUtil.isKeepAlive(req) && !px.draining().get() && req.decoderResult().isSuccess();
    Exchange ex = new Exchange(requestId, System.nanoTime(), px.clock().instant(), sourceIp, req.method().name(), req.uri(),
        req.headers().get(HttpHeaderNames.USER_AGENT), keepAlive, expect);
    ex.requestHeaders = req.headers();
    current = ex;
    px.metrics().inFlight().incrementAndGet();

    // The decoder's verdict comes before anything reads a framing header: after a failure those headers are whatever
    // the caller wrote (a Content-Length of "0x2" or "2, 181"), and the body length is unknown.
    if (req.decoderResult().isFailure()) {
      ex.declaredBodyBytes = -1;
      Throwable cause = req.decoderResult().cause();
      if (cause instanceof TooLongHttpLineException) {
        refuse(ex, new Refusal(HttpResponseStatus.REQUEST_URI_TOO_LONG, "uri-too-long", "The request line is longer than this proxy accepts."));
      } else if (cause instanceof TooLongHttpHeaderException || cause instanceof TooLongFrameException) {
        refuse(ex, new Refusal(HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "headers-too-large", "The request headers are larger than this proxy accepts."));
      } else {
        refuse(ex, Refusal.badRequest("request-malformed", "The request is not valid HTTP/1.1."));
      }
      return;
    }
    // Decoded, so the framing headers are the decoder's own: one valid Content-Length, or a final chunked coding.
    ex.chunked = HttpUtil.isTransferEncodingChunked(req);
    // -1 when unknown (chunked); 0 when the request has no body at all
    ex.declaredBodyBytes = ex.chunked ? -1 : HttpUtil.getContentLength(req, 0L);
    if (px.auditOnFailure() == AuditConfig.OnFailure.REJECT && !px.audit().healthy()) {
      refuse(ex, Refusal.unavailable("audit-unavailable", "The audit trail cannot be written; requests are refused until it can."));
      return;
    }
    String expectValue = req.headers().get(HttpHeaderNames.EXPECT);
    if (expectValue != null && !expect) {
      refuse(ex, new Refusal(HttpResponseStatus.EXPECTATION_FAILED, "expectation-unsupported", "Only Expect: 100-continue is supported."));
      return;
    }
    if (req.headers().contains(HttpHeaderNames.TRANSFER_ENCODING) && !HttpUtil.isTransferEncodingChunked(req)) {
      refuse(ex, new Refusal(HttpResponseStatus.NOT_IMPLEMENTED, "transfer-encoding-unsupported", "Only chunked transfer encoding is supported."));
      return;
    }
    String protectedOption = HopByHop.protectedOption(req.headers());
    if (protectedOption != null) {
      // RFC 9110 lets Connection make any header hop-by-hop, i.e. deleted on the way: never the framing, the host or a
      // credential, or Vertex would read the rest of the body as a request the policy never saw.
      refuse(ex, Refusal.badRequest("connection-header-invalid",
          "The Connection header may not name " + protectedOption + "."));
      return;
    }
    if (req.headers().contains("x-http-method-override") || req.headers().contains("x-method-override")) {
      // Google honours method overrides; the method it would execute must be the one the policy decided on.
      refuse(ex, Refusal.badRequest("method-override-not-allowed", "HTTP method override headers are not accepted."));
      return;
    }
    if (ex.declaredBodyBytes > px.limits().maxBodyBytes()) {
      refuse(ex, new Refusal(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "body-too-large",
          "The request body is larger than this proxy accepts (" + px.limits().maxBodyBytes() + " bytes)."));
      return;
    }
    if (!route(ex)) {
      return;
    }
    verifyIdentity(ex, req.headers());
  }

  /**
   * {@code GET /healthz} on the serving port, without a body: load balancers probe the port they send traffic to. It is
   * answered here, before an exchange exists, so probes neither fill the audit trail nor count as exchanges; anything
   * else on that path (another method, a query, a body) is routed like every request, and refused with its record.
   */
  private static boolean isHealthCheck(HttpRequest req) {
    return req.decoderResult().isSuccess() && HEALTH_PATH.equals(req.uri()) && HttpMethod.GET.equals(req.method())
        && !HttpUtil.isTransferEncodingChunked(req) && HttpUtil.getContentLength(req, 0L) == 0;
  }

  /** 200 while this replica should get traffic, 503 while it should not (draining, audit down, issuer keys not loaded). */
  private void answerHealthCheck(HttpRequest req) {
    boolean ready = px.ready().getAsBoolean();
    boolean keepAlive = HttpUtil.isKeepAlive(req) && !px.draining().get();
    FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
        ready ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE,
        ctx.alloc().buffer().writeBytes((ready ? "ok\n" : "not ready\n").getBytes(StandardCharsets.US_ASCII)));
    res.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8")
        .set(HttpHeaderNames.CONTENT_LENGTH, res.content().readableBytes())
        .set(HttpHeaderNames.CACHE_CONTROL, "no-store");
    if (!keepAlive) {
      res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
      ctx.writeAndFlush(res).addListener(ChannelFutureListener.CLOSE);
      return;
    }
    ctx.writeAndFlush(res);
    armHeaderTimer();
  }

  private void onRequestContent(HttpContent content) {
    Exchange ex = current;
    if (ex == null || ex.ended) {
      // The body of a request we already answered: read and drop it so the connection can carry the next request.
      boolean last = content instanceof LastHttpContent;
      long n = content.content().readableBytes();
      content.release();
      if (ex == null) {
        return;
      }
      ex.discarded += n;
      if (last) {
        ex.requestComplete = true; // holds the next request back until the refusal's write completes
      }
      if (!ex.discarding) {
        return; // the refusal is still being written; its listener decides what comes next
      }
      if (last) {
        ex.discarding = false;
        ex.cancelDiscardDeadline();
        nextRequestOrClose(true);
      } else if (ex.discarded > DISCARD_LIMIT) {
        ctx.close();
      } else {
        ctx.read();
      }
      return;
    }
    if (content.decoderResult().isFailure()) {
      // A malformed chunk must not become a clean end of body upstream: Vertex would run a request cut short.
      // If the head already went to Vertex, closing that connection leaves it a body that never ended; the caller still
      // gets its 400 unless Vertex's answer has started (then refuse cuts the connection instead).
      content.release();
      ex.keepAlive = false;
      refuse(ex, Refusal.badRequest("request-malformed", "The request body is not valid HTTP/1.1 chunked encoding."));
      return;
    }
    ex.bytesIn += content.content().readableBytes();
    boolean last = content instanceof LastHttpContent;
    if (last) {
      ex.requestComplete = true;
      if (!((LastHttpContent) content).trailingHeaders().isEmpty()) {
        // Trailers are headers too: a caller's credential must not ride to Google behind the body.
        content = new DefaultLastHttpContent(content.content());
      }
    }
    if (ex.bytesIn > px.limits().maxBodyBytes()) {
      content.release();
      refuse(ex, new Refusal(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "body-too-large",
          "The request body is larger than this proxy accepts (" + px.limits().maxBodyBytes() + " bytes)."));
      return;
    }
    if (ex.relaying && backend != null) {
      backend.writeAndFlush(content).addListener(requestBodyWritten(ex));
    } else {
      ex.hold(content);
    }
  }

  /** After a body chunk reached Vertex's socket buffer: read the next one, or give up if Vertex went away. */
  private ChannelFutureListener requestBodyWritten(Exchange ex) {
    return f -> {
      if (!f.isSuccess()) {
        failUpstream(ex, f.cause());
      } else if (!ex.requestComplete && !ex.ended) {
        ctx.read();
      } else if (ex.requestComplete && !ex.ended) {
        armResponseTimeout();
      }
    };
  }

  /**
   * From the moment the whole request is with Vertex, silence longer than {@code upstream.response_timeout} ends the
   * exchange; a slow upload is not counted against it.
   */
  private void armResponseTimeout() {
    Channel b = backend;
    if (b != null) {
      px.connections().armResponseTimeout(b, px.responseTimeout());
    }
  }

  // ---- route ---------------------------------------------------------------------------------------------------

  /** Maps method + path to the Vertex method and resource; anything the catalog does not know is never forwarded. */
  private boolean route(Exchange ex) {
    try {
      Route r = px.router().route(ex.httpMethod, ex.uri);
      ex.route = r;
      if (!UpstreamHosts.validLocation(r.location())) {
        refuse(ex, Refusal.badRequest("location-invalid", "The location in the path is not a valid Vertex AI location."));
        return false;
      }
      return true;
    } catch (RouteException e) {
      // The router refuses credentials in the query string in every spelling; the record keeps names, not values.
      ex.query = queryNames(ex.uri);
      if ("route-not-found".equals(e.reason())) {
        refuse(ex, Refusal.notFound(e.reason(), "No Vertex AI method matches " + ex.httpMethod + " " + ex.path + "."));
      } else {
        refuse(ex, Refusal.badRequest(e.reason(), e.getMessage()));
      }
      return false;
    }
  }

  // ---- identity ------------------------------------------------------------------------------------------------

  /** Verifies the caller's bearer JWT ({@code Proxy-Authorization} wins over {@code Authorization}). */
  private void verifyIdentity(Exchange ex, HttpHeaders headers) {
    String header = headers.get(HttpHeaderNames.PROXY_AUTHORIZATION);
    if (header == null) {
      header = headers.get(HttpHeaderNames.AUTHORIZATION);
    }
    if (header == null) {
      refuse(ex, Refusal.unauthenticated("token-missing", "Request is missing an OIDC bearer token (Authorization: Bearer <token>)."));
      return;
    }
    if (header.length() < 8 || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      refuse(ex, Refusal.unauthenticated("token-malformed", "The Authorization header must use the Bearer scheme."));
      return;
    }
    String token = header.substring(7).trim();
    onLoop(px.verifier().verify(token), (caller, err) -> {
      if (ex.ended) {
        return;
      }
      if (err != null) {
        Throwable cause = unwrap(err);
        if (cause instanceof IdentityException ie) {
          refuse(ex, new Refusal(HttpResponseStatus.valueOf(ie.httpStatus()), ie.reason(), ie.getMessage()));
        } else {
          log.warn("request {}: identity verification failed unexpectedly: {}", ex.requestId, cause.toString());
          refuse(ex, Refusal.unavailable("identity-unavailable", "The caller's identity could not be verified right now."));
        }
        return;
      }
      ex.caller = caller;
      decide(ex);
    });
  }

  // ---- policy --------------------------------------------------------------------------------------------------

  /** Default deny: only an allow rule that matches, with no deny rule matching, lets the exchange go on. */
  private void decide(Exchange ex) {
    Policy policy = px.policy().get();
    ex.policyVersion = policy.version();
    Decision d = policy.decide(ex.caller, ex.route);
    ex.rule = d.rule();
    ex.reason = d.reason();
    if (!d.allowed()) {
      ex.decision = "deny";
      refuse(ex, Refusal.denied(d.reason(), d.message()));
      return;
    }
    ex.decision = "allow";
    obtainGoogleToken(ex, d.serviceAccount());
  }

  // ---- credentials ---------------------------------------------------------------------------------------------

  /** A cached Google access token for the rule's service account; never fetched on this thread. */
  private void obtainGoogleToken(Exchange ex, String serviceAccount) {
    onLoop(px.googleTokens().tokenFor(TokenRequest.impersonating(serviceAccount)), (token, err) -> {
      if (ex.ended) {
        return;
      }
      if (err != null) {
        px.metrics().googleTokenFetch("failure");
        log.warn("request {}: no Google token for {}: {}", ex.requestId, serviceAccount, unwrap(err).getMessage());
        refuse(ex, Refusal.unavailable("google-token-unavailable",
            "The proxy could not obtain Google credentials for this request; try again later."));
        return;
      }
      ex.googlePrincipal = token.principal();
      relay(ex, token);
    });
  }

  // ---- upstream ------------------------------------------------------------------------------------------------

  /** Connects (or reuses a pooled connection) to the location's Vertex host and sends the request head. */
  private void relay(Exchange ex, GoogleToken token) {
    Origin origin = px.hosts().originFor(ex.route.location());
    Future<Channel> connecting = px.connections().acquire(ctx.channel().eventLoop(), origin);
    connecting.addListener(f -> {
      if (!f.isSuccess()) {
        px.metrics().upstreamConnectFailure();
        if (!ex.ended) {
          failUpstream(ex, f.cause());
        }
        return;
      }
      Channel ch = (Channel) f.getNow();
      if (ex.ended) {
        px.connections().release(ch);
        return;
      }
      backend = ch;
      px.connections().attach(ch, new ResponseRelay(ex));
      sendRequestHead(ex, ch, origin, token);
    });
  }

  private void sendRequestHead(Exchange ex, Channel ch, Origin origin, GoogleToken token) {
    HttpRequest head = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.valueOf(ex.httpMethod), ex.uri);
    // copy of the caller's headers, minus hop-by-hop, framing, caller credentials and Google steering headers
    HttpHeaders out = head.headers();
    out.set(ex.requestHeaders);
    HopByHop.stripForUpstream(out);
    out.set(HttpHeaderNames.HOST, origin.hostHeader());
    out.set(HttpHeaderNames.AUTHORIZATION, "Bearer " + token.value());
    out.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
    // The framing is the proxy's: what our decoder read, written anew, never a caller header carried over.
    if (ex.chunked) {
      out.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
    } else if (ex.declaredBodyBytes > 0 || hasRequestBody(ex.httpMethod)) {
      out.set(HttpHeaderNames.CONTENT_LENGTH, ex.declaredBodyBytes);
    }
    ex.requestHeaders = null;
    ex.relaying = true;
    if (ex.expectContinue && !ex.requestComplete) {
      ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE));
    }
    ch.write(head).addListener(requestBodyWrittenOrFail(ex));
    HttpContent c;
    ChannelFutureListener last = null;
    while ((c = ex.held.poll()) != null) {
      last = requestBodyWritten(ex);
      ch.write(c).addListener(last);
    }
    ch.flush();
    if (last == null && !ex.requestComplete) {
      ctx.read();
    }
    ch.read();
  }

  /** Methods whose requests carry a body by definition: Google's front end wants a length even when it is 0. */
  private static boolean hasRequestBody(String httpMethod) {
    return "POST".equals(httpMethod) || "PUT".equals(httpMethod) || "PATCH".equals(httpMethod);
  }

  private ChannelFutureListener requestBodyWrittenOrFail(Exchange ex) {
    return f -> {
      if (!f.isSuccess()) {
        failUpstream(ex, f.cause());
      }
    };
  }

  private void failUpstream(Exchange ex, Throwable cause) {
    if (ex.ended) {
      return;
    }
    if (ex.responseStarted) {
      abort(ex, "upstream-reset");
      return;
    }
    if (cause instanceof ConnectTimeoutException) {
      refuse(ex, Refusal.gatewayTimeout("upstream-timeout", "Vertex AI did not accept a connection in time."));
    } else {
      log.warn("request {}: upstream failure: {}", ex.requestId, cause == null ? "closed" : cause.toString());
      refuse(ex, Refusal.badGateway("upstream-unreachable", "The proxy could not reach Vertex AI."));
    }
  }

  /** Relays Vertex's response to the caller as it arrives, reading more only once the caller took the last piece. */
  private final class ResponseRelay extends ChannelInboundHandlerAdapter {
    private final Exchange ex;
    private boolean upstreamKeepAlive;
    private boolean skippingInterim;
    /** False while the relay deliberately waits for a slow caller: that silence is not Vertex's. */
    private boolean awaitingUpstream = true;
    /** The final response reached its framed end: anything after it is not an answer to our request. */
    private boolean responseEnded;

    ResponseRelay(Exchange ex) {
      this.ex = ex;
    }

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
      if (ex.ended) {
        ReferenceCountUtil.release(msg);
        return;
      }
      if (msg instanceof io.netty.handler.codec.http.HttpResponse res) {
        if (res.decoderResult().isFailure()) {
          ReferenceCountUtil.release(msg);
          bctx.channel().close();
          failUpstream(ex, res.decoderResult().cause());
          return;
        }
        int code = res.status().code();
        if (code == 101) {
          ReferenceCountUtil.release(msg);
          bctx.channel().close();
          failUpstream(ex, new IllegalStateException("upstream switched protocols"));
          return;
        }
        if (code >= 100 && code < 200) {
          // Interim (100 Continue, 102, 103 Early Hints): the codec follows it with an empty end-of-message that
          // must not be mistaken for the end of the real response.
          ReferenceCountUtil.release(msg);
          skippingInterim = true;
          readUpstream(bctx);
          return;
        }
        // The framing of what goes back to the caller is the proxy's, from what the decoder read: an upstream
        // Connection header naming Content-Length must not leave the caller's keep-alive connection unframed.
        boolean chunked = HttpUtil.isTransferEncodingChunked(res);
        long length = chunked ? -1 : HttpUtil.getContentLength(res, -1L);
        // a body that ends only when the connection closes can never be followed by another response on it
        upstreamKeepAlive = HttpUtil.isKeepAlive(res) && (chunked || length >= 0);
        HopByHop.strip(res.headers());
        res.headers().remove(HttpHeaderNames.TRANSFER_ENCODING);
        if (code == 204 || code == 304) {
          // no body by definition: no framing header at all
        } else if (length >= 0) {
          res.headers().set(HttpHeaderNames.CONTENT_LENGTH, length);
        } else {
          HttpUtil.setTransferEncodingChunked(res, true);
        }
        res.headers().set(ErrorResponses.REQUEST_ID_HEADER, ex.requestId);
        if (!ex.keepAlive || px.draining().get()) {
          res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        ex.status = res.status().code();
        ex.responseStarted = true;
      }
      if (skippingInterim && msg instanceof HttpContent) {
        skippingInterim = !(msg instanceof LastHttpContent);
        ReferenceCountUtil.release(msg);
        readUpstream(bctx);
        return;
      }
      if (msg instanceof HttpContent c && c.decoderResult().isFailure()) {
        // A malformed body from upstream: the caller must not take a truncated answer for a complete one.
        ReferenceCountUtil.release(msg);
        bctx.channel().close();
        abort(ex, "upstream-malformed");
        return;
      }
      boolean last = msg instanceof LastHttpContent;
      if (msg instanceof HttpContent c) {
        ex.bytesOut += c.content().readableBytes();
      }
      responseEnded = last;
      ctx.writeAndFlush(msg).addListener(f -> {
        if (!f.isSuccess()) {
          abort(ex, "client-closed");
        } else if (last) {
          // read now, not when the message arrived: bytes decoded after the end may have arrived in between
          completed(ex, bctx.channel(), upstreamKeepAlive);
        } else {
          readUpstream(bctx);
        }
      });
    }

    private void readUpstream(ChannelHandlerContext bctx) {
      awaitingUpstream = true;
      bctx.read();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext bctx, Object evt) {
      if (evt instanceof IdleStateEvent && !ex.ended && awaitingUpstream) {
        bctx.channel().close();
        if (ex.responseStarted) {
          abort(ex, "upstream-timeout");
        } else {
          refuse(ex, Refusal.gatewayTimeout("upstream-timeout", "Vertex AI did not answer in time."));
        }
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext bctx) {
      if (!ex.ended) {
        failUpstream(ex, null);
      }
      bctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext bctx, Throwable cause) {
      bctx.channel().close();
      if (!ex.ended) {
        failUpstream(ex, cause);
      }
    }
  }

  /** The response went out in full: give the upstream connection back, end the exchange, and read the next request. */
  private void completed(Exchange ex, Channel ch, boolean upstreamKeepAlive) {
    Channel b = backend;
    backend = null;
    if (b != null) {
      px.connections().detach(b);
      if (upstreamKeepAlive && ex.requestComplete) {
        px.connections().release(b);
      } else {
        b.close();
      }
    }
    boolean keepOpen = ex.keepAlive && ex.requestComplete && !px.draining().get();
    end(ex);
    nextRequestOrClose(keepOpen);
  }

  // ---- endings -------------------------------------------------------------------------------------------------

  /**
   * Answers the caller with an error in Google's JSON shape. If the caller's body has not fully arrived, the connection
   * closes after the answer, so an unread body is never mistaken for the next request.
   */
  private void refuse(Exchange ex, Refusal refusal) {
    if (ex.ended) {
      return;
    }
    if (ex.responseStarted) {
      abort(ex, refusal.reason());
      return;
    }
    ex.releaseHeld();
    closeBackend();
    ex.status = refusal.status().code();
    if (ex.decision == null) {
      ex.decision = "deny"; // refused before the policy allowed anything
    }
    ex.reason = refusal.reason();
    // A client that asked for 100-continue and got a final status may never send its body: don't wait for it.
    boolean drainBody = !ex.requestComplete && !ex.expectContinue && ex.declaredBodyBytes >= 0
        && ex.declaredBodyBytes - ex.bytesIn <= DISCARD_LIMIT;
    boolean keepOpen = ex.keepAlive && !px.draining().get() && (ex.requestComplete || drainBody);
    FullHttpResponse res = ErrorResponses.of(ctx.alloc(), refusal, ex.requestId);
    if (!keepOpen) {
      res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    }
    ex.bytesOut = res.content().readableBytes();
    ex.responseStarted = true;
    if (keepOpen && !ex.requestComplete) {
      long owed = ex.declaredBodyBytes - ex.bytesIn;
      long ms = Math.min(DISCARD_MAX_MS, DISCARD_GRACE_MS + owed * 1000 / DISCARD_MIN_BYTES_PER_SECOND);
      ex.discardDeadline = ctx.executor().schedule(() -> {
        if (current == ex && !ex.requestComplete) {
          log.debug("request {}: refused body not read within {} ms; closing", ex.requestId, ms);
          ctx.close();
        }
      }, ms, TimeUnit.MILLISECONDS);
    }
    ctx.writeAndFlush(res).addListener(f -> {
      end(ex);
      if (keepOpen && f.isSuccess() && !ex.requestComplete) {
        ex.discarding = true;
        ctx.read();
      } else {
        nextRequestOrClose(keepOpen && f.isSuccess());
      }
    });
  }

  /** Something broke after the response started: the only honest signal left is to cut the connection. */
  private void abort(Exchange ex, String reason) {
    if (ex.ended) {
      return;
    }
    ex.reason = reason;
    ex.releaseHeld();
    closeBackend();
    end(ex);
    ctx.close();
  }

  /** The single end of every exchange: one metric and one audit record. */
  private void end(Exchange ex) {
    if (ex.ended) {
      return;
    }
    ex.ended = true;
    ex.releaseHeld();
    px.metrics().inFlight().decrementAndGet();
    long nanos = System.nanoTime() - ex.startNanos;
    px.metrics().exchange(ex.route == null ? null : ex.route.method().name(), ex.decision, ex.reason, ex.status, Duration.ofNanos(nanos));
    px.audit().append(ex.toAuditEvent(TimeUnit.NANOSECONDS.toMillis(nanos))).whenComplete((receipt, err) -> {
      if (err != null) {
        px.metrics().auditWrite("failure");
        log.error("request {}: audit record could not be written: {}", ex.requestId, unwrap(err).getMessage());
      } else {
        px.metrics().auditWrite("success");
      }
    });
    // The audit trail is the access log; this line is for debugging only, since a synchronous console write on the
    // event loop for every exchange would cost more than the rest of the exchange.
    if (log.isDebugEnabled()) {
      log.debug("{} {} {} {} method={} decision={} reason={} rule={} status={} ms={}", ex.requestId, ex.sourceIp, ex.httpMethod, ex.path,
          ex.route == null ? "-" : ex.route.method().name(), ex.decision, ex.reason, ex.rule, ex.status,
          TimeUnit.NANOSECONDS.toMillis(nanos));
    }
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

  /** Drops the upstream connection of an exchange that is ending early; its relay is detached first, so it stays quiet. */
  private void closeBackend() {
    Channel b = backend;
    backend = null;
    if (b != null) {
      px.connections().detach(b);
      b.close();
    }
  }

  // ---- connection housekeeping ---------------------------------------------------------------------------------

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof IdleStateEvent && (current == null || current.ended)) {
      ctx.close();
      return;
    }
    if (evt instanceof IdleStateEvent && current.responseStarted && !ctx.channel().isWritable()) {
      // The caller stopped taking the response for a whole idle timeout: free the upstream connection and the buffers.
      abort(current, "client-stalled");
      return;
    }
    ctx.fireUserEventTriggered(evt);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    Exchange ex = current;
    if (ex != null && !ex.ended) {
      abort(ex, "connection-error");
    } else {
      ctx.close();
    }
    if (!(cause instanceof java.io.IOException)) {
      log.warn("caller connection error: {}", cause.toString());
    }
  }

  private void armHeaderTimer() {
    cancelHeaderTimer();
    long ms = px.limits().requestHeaderTimeout().toMillis();
    headerTimer = ctx.executor().schedule(() -> {
      if (current == null || current.ended) {
        ctx.close();
      }
    }, ms, TimeUnit.MILLISECONDS);
  }

  private void cancelHeaderTimer() {
    if (headerTimer != null) {
      headerTimer.cancel(false);
      headerTimer = null;
    }
  }

  private <T> void onLoop(java.util.concurrent.CompletableFuture<T> future, BiConsumer<T, Throwable> then) {
    future.whenComplete((v, e) -> {
      if (ctx.executor().inEventLoop()) {
        then.accept(v, e);
      } else {
        ctx.executor().execute(() -> then.accept(v, e));
      }
    });
  }

  private static Throwable unwrap(Throwable t) {
    while ((t instanceof CompletionException || t instanceof java.util.concurrent.ExecutionException) && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }

  /** The parameter names of a request target's query (never values), as the router's loggable form has them. */
  static String queryNames(String uri) {
    String target = dev.vertexproxy.policy.route.Router.loggableTarget(uri);
    int q = target.indexOf('?');
    return q < 0 ? null : target.substring(q + 1);
  }

  private static String newRequestId() {
    byte[] b = new byte[12];
    ThreadLocalRandom.current().nextBytes(b);
    return HexFormat.of().formatHex(b).toLowerCase(Locale.ROOT);
  }
}

package dev.vertexproxy.proxy.server;

import dev.vertexproxy.policy.Caller;
import dev.vertexproxy.policy.route.Route;
import dev.vertexproxy.proxy.audit.AuditEvent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.util.ReferenceCountUtil;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Map;

/**
 * Everything one request/response exchange has learned on its way through the pipeline, and the body chunks it holds
 * back while a decision is pending. Confined to the connection's event loop: no field is touched from another thread.
 * It ends exactly once ({@link #end}), which is where its single audit record and metric come from.
 */
final class Exchange {
  final String requestId;
  final long startNanos;
  final Instant startTime;
  final String sourceIp;
  final String httpMethod;
  final String uri;
  final String path;
  /** Query string as received; parameter names only once routing refused it. */
  String query;
  final String userAgent;
  boolean keepAlive;
  final boolean expectContinue;

  Route route;
  Caller caller;
  String decision;
  String rule;
  String reason;
  String googlePrincipal;
  String policyVersion;
  int status;
  long bytesIn;
  long bytesOut;

  /** The caller's request headers, kept only until the request head goes upstream. */
  io.netty.handler.codec.http.HttpHeaders requestHeaders;
  boolean chunked;
  long declaredBodyBytes;
  /** Answered before its body was read: the rest of the body is being read and dropped. */
  boolean discarding;
  long discarded;
  /** Closes the connection if the refused body has not been read in full by then. */
  io.netty.util.concurrent.ScheduledFuture<?> discardDeadline;
  boolean requestComplete;
  boolean relaying;
  boolean responseStarted;
  boolean ended;
  final ArrayDeque<HttpContent> held = new ArrayDeque<>();

  Exchange(String requestId, long startNanos, Instant startTime, String sourceIp, String httpMethod, String uri,
      String userAgent, boolean keepAlive, boolean expectContinue) {
    this.requestId = requestId;
    this.startNanos = startNanos;
    this.startTime = startTime;
    this.sourceIp = sourceIp;
    this.httpMethod = httpMethod;
    this.uri = uri;
    int q = uri.indexOf('?');
    this.path = truncate(q < 0 ? uri : uri.substring(0, q), 2048);
    this.query = q < 0 ? null : truncate(uri.substring(q + 1), 2048);
    this.userAgent = userAgent == null ? null : truncate(userAgent, 256);
    this.keepAlive = keepAlive;
    this.expectContinue = expectContinue;
  }

  void hold(HttpContent content) {
    held.add(content);
  }

  void cancelDiscardDeadline() {
    if (discardDeadline != null) {
      discardDeadline.cancel(false);
      discardDeadline = null;
    }
  }

  void releaseHeld() {
    HttpContent c;
    while ((c = held.poll()) != null) {
      ReferenceCountUtil.release(c);
    }
  }

  AuditEvent toAuditEvent(long durationMs) {
    Map<String, Object> claims = caller == null ? null : caller.claims();
    return new AuditEvent(startTime, requestId,
        caller == null ? null : caller.issuer(),
        caller == null ? null : caller.subject(),
        claims, sourceIp, httpMethod, path, query,
        route == null ? null : route.method().name(),
        route == null ? null : route.version(),
        route == null ? null : route.resource(),
        route == null ? null : route.project(),
        route == null ? null : route.location(),
        decision, rule, reason, googlePrincipal, status, durationMs, bytesIn, bytesOut, policyVersion, userAgent);
  }

  private static String truncate(String s, int max) {
    return s.length() <= max ? s : s.substring(0, max) + "…";
  }
}

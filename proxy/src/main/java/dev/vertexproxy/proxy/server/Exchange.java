package dev.vertexproxy.proxy.server;

import dev.vertexproxy.policy.Caller;
import dev.vertexproxy.policy.Decision;
import dev.vertexproxy.policy.route.Route;
import dev.vertexproxy.policy.route.Router;
import dev.vertexproxy.proxy.admission.Admission;
import dev.vertexproxy.proxy.audit.AuditEvent;
import dev.vertexproxy.proxy.logging.RequestLog;
import dev.vertexproxy.proxy.reason.Outcome;
import dev.vertexproxy.proxy.reason.Reason;
import dev.vertexproxy.proxy.upstream.UpstreamRelay;
import io.netty.handler.codec.http.HttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * One request/response exchange on a caller connection: its {@link Phase}, what admission learned ({@link Admission}),
 * the body chunks held back while admission decides, and what the audit record needs. Confined to the connection's event
 * loop. It is recorded exactly once ({@link #recorded}), which is where its single audit record and metric come from.
 */
final class Exchange {
  /** Where an exchange is; the request side's progress ({@link #requestComplete}) is tracked beside it. */
  enum Phase {
    /** The admission steps are deciding; body chunks that arrive are held back, unread beyond one read. */
    ADMITTING,
    /** A reserved route: the proxy reads the (bounded) body and its endpoint decides; nothing goes to Vertex. */
    SERVING,
    /** Admitted: the request streams to Vertex; its answer has not started. */
    RELAYING,
    /** Vertex's answer streams to the caller: from here on, a failure can only cut the connection. */
    RESPONDING,
    /** A refusal is being written; body chunks that arrive are dropped. */
    REFUSING,
    /** Refused and recorded; the rest of the body is read and dropped so the connection can carry the next request. */
    DISCARDING,
    /** Answered and recorded. */
    ENDED
  }

  final String requestId;
  final long startNanos;
  final Instant startTime;
  final String sourceIp;
  /** The TCP peer, when it is not {@link #sourceIp} (a trusted proxy named the client); else {@code null}. */
  final String peerIp;
  final String path;
  /** Query string as received (truncated); parameter names only once routing refused it. */
  private final String query;
  final String userAgent;
  final Admission admission;
  /** What log lines about this exchange carry: its id and the caller's trace id; entered around its work. */
  final RequestLog.Context log;
  boolean keepAlive;

  Phase phase = Phase.ADMITTING;
  /** Why it ended; {@code null} until then (an admitted exchange in flight has no reason yet). */
  Reason reason;
  /** It broke while Vertex's response was streaming: the caller got a cut connection, not an answer. */
  boolean brokeMidResponse;
  /** A refusal answered it: the decision is {@code deny} even when no policy step ran. */
  boolean refused;
  boolean recorded;
  int status;
  long bytesIn;
  long bytesOut;
  long discarded;
  boolean requestComplete;
  /** {@link System#nanoTime} when admission decided, and when Vertex's response head arrived; 0 until then. */
  long admittedNanos;
  long firstByteNanos;
  /** Vertex answers with server-sent events: counted as a stream in flight until the exchange is recorded. */
  boolean streaming;
  UpstreamRelay relay;
  /** The proxy's own answer, for a reserved route; {@code null} otherwise. */
  ReservedAnswer reserved;
  /** What {@code audit.capture} keeps of the body as it is forwarded; {@code null} when nothing is. */
  BodyCapture capture;
  /** Closes the connection if the refused body has not been read in full by then. */
  ScheduledFuture<?> discardDeadline;
  final ArrayDeque<HttpContent> held = new ArrayDeque<>();

  Exchange(String requestId, long startNanos, Instant startTime, String sourceIp, String peerIp, Admission admission,
      String userAgent, boolean keepAlive) {
    this.requestId = requestId;
    this.startNanos = startNanos;
    this.startTime = startTime;
    this.sourceIp = sourceIp;
    this.peerIp = peerIp == null || peerIp.equals(sourceIp) ? null : peerIp;
    this.admission = admission;
    this.log = RequestLog.of(requestId, RequestLog.traceId(admission.head().headers().get("traceparent"),
        admission.head().headers().get("X-Cloud-Trace-Context")));
    String uri = admission.head().uri();
    int q = uri.indexOf('?');
    this.path = truncate(q < 0 ? uri : uri.substring(0, q), 2048);
    this.query = q < 0 ? null : truncate(uri.substring(q + 1), 2048);
    this.userAgent = userAgent == null ? null : truncate(userAgent, 256);
    this.keepAlive = keepAlive;
  }

  /** 24 hex digits, random: the id the caller, the audit record and the logs share. */
  static String newRequestId() {
    byte[] b = new byte[12];
    ThreadLocalRandom.current().nextBytes(b);
    return HexFormat.of().formatHex(b);
  }

  /** Whether the caller has started to receive an answer (Vertex's or a refusal). */
  boolean responseStarted() {
    return phase.compareTo(Phase.RESPONDING) >= 0;
  }

  void cancelDiscardDeadline() {
    if (discardDeadline != null) {
      discardDeadline.cancel(false);
      discardDeadline = null;
    }
  }

  /** Ends the relay early, if there is one: its upstream connection closes. */
  void closeRelay() {
    if (relay != null) {
      relay.close();
    }
  }

  void releaseHeld() {
    HttpContent c;
    while ((c = held.poll()) != null) {
      ReferenceCountUtil.release(c);
    }
  }

  /** {@code allow} once the policy allowed, {@code deny} when it denied or a refusal came first, else none. */
  String decision() {
    Decision d = admission.decision();
    if (d != null && d.allowed()) {
      return "allow";
    }
    return d != null || refused ? "deny" : null;
  }

  Outcome outcome() {
    return Outcome.of(reason, brokeMidResponse);
  }

  /** The exchange record: what was decided and what happened, {@code durationMs} after the head arrived. */
  AuditEvent toAuditEvent(long durationMs) {
    return event(reason, outcome().code(), durationMs);
  }

  /**
   * The decision record of {@code durability: sync}: admission allowed the call, nothing has been forwarded yet. Its
   * reason is the allowing one; status, duration and bytes do not exist yet.
   */
  AuditEvent toDecisionEvent() {
    return event(Reason.ALLOWED, null, 0).asDecision();
  }

  private AuditEvent event(Reason why, String outcome, long durationMs) {
    Caller caller = admission.caller();
    Route route = admission.route();
    Decision d = admission.decision();
    Map<String, Object> claims = caller == null ? null : caller.claims();
    BodyCapture body = capture;
    return new AuditEvent(startTime, requestId,
        caller == null ? null : caller.issuer(),
        caller == null ? null : caller.subject(),
        // a reserved route's query can carry an authorization code, a login state or a device code: names only
        claims, sourceIp, admission.head().method(), path,
        admission.queryRefused() || admission.reserved() ? queryNames(admission.head().uri()) : query,
        route == null ? admission.reservedMethod() : route.method().name(),
        route == null ? null : route.version(),
        route == null ? null : route.resource(),
        route == null ? null : route.project(),
        route == null ? null : route.location(),
        decision(), d == null ? null : d.rule(), why.code(),
        admission.googleToken() == null ? null : admission.googleToken().principal(),
        status, durationMs, bytesIn, bytesOut, admission.policyVersion(), userAgent, outcome, peerIp,
        AuditEvent.EXCHANGE, route == null ? null : route.model(),
        body == null ? null : body.sha256Hex(), body == null ? null : body.text(), body != null && body.truncated(),
        d == null || d.allowed() ? null : d.message());
  }

  /** The parameter names of a request target's query (never values), as the router's loggable form has them. */
  static String queryNames(String uri) {
    String target = Router.loggableTarget(uri);
    int q = target.indexOf('?');
    return q < 0 ? null : target.substring(q + 1);
  }

  private static String truncate(String s, int max) {
    return s.length() <= max ? s : s.substring(0, max) + "…";
  }
}

package dev.vertexproxy.proxy.audit;

import java.time.Instant;
import java.util.Map;

/**
 * What the proxy knows about one finished exchange, before the audit log gives it its place in the chain
 * ({@code seq}, {@code prev_hash}, {@code hash}). Field names map to the audit record's snake_case keys.
 * Never holds a token, cookie or secret: {@code callerClaims} are the verified claims only.
 *
 * <p>Nullable: every caller-, route- and decision-related field (a request can be refused before any of them is known).
 * {@code outcome} is what happened ({@code allowed}, {@code refused}, {@code unavailable}, {@code failed}) beside the
 * policy's {@code decision}. {@code peerIp} is the TCP peer when a trusted proxy named another {@code sourceIp}.
 */
public record AuditEvent(
    Instant time,
    String requestId,
    String callerIssuer,
    String callerSubject,
    Map<String, Object> callerClaims,
    String sourceIp,
    String httpMethod,
    String path,
    String query,
    String method,
    String apiVersion,
    String resource,
    String project,
    String location,
    String decision,
    String rule,
    String reason,
    String googlePrincipal,
    int status,
    long durationMs,
    long bytesIn,
    long bytesOut,
    String policyVersion,
    String userAgent,
    String outcome,
    String peerIp) {

  /** An event without an {@code outcome} (records written before it existed, and tests that do not care). */
  public AuditEvent(Instant time, String requestId, String callerIssuer, String callerSubject, Map<String, Object> callerClaims,
      String sourceIp, String httpMethod, String path, String query, String method, String apiVersion, String resource,
      String project, String location, String decision, String rule, String reason, String googlePrincipal, int status,
      long durationMs, long bytesIn, long bytesOut, String policyVersion, String userAgent) {
    this(time, requestId, callerIssuer, callerSubject, callerClaims, sourceIp, httpMethod, path, query, method, apiVersion,
        resource, project, location, decision, rule, reason, googlePrincipal, status, durationMs, bytesIn, bytesOut,
        policyVersion, userAgent, null, null);
  }

  /** An event whose TCP peer is its {@code sourceIp} (no trusted proxy in between). */
  public AuditEvent(Instant time, String requestId, String callerIssuer, String callerSubject, Map<String, Object> callerClaims,
      String sourceIp, String httpMethod, String path, String query, String method, String apiVersion, String resource,
      String project, String location, String decision, String rule, String reason, String googlePrincipal, int status,
      long durationMs, long bytesIn, long bytesOut, String policyVersion, String userAgent, String outcome) {
    this(time, requestId, callerIssuer, callerSubject, callerClaims, sourceIp, httpMethod, path, query, method, apiVersion,
        resource, project, location, decision, rule, reason, googlePrincipal, status, durationMs, bytesIn, bytesOut,
        policyVersion, userAgent, outcome, null);
  }
}

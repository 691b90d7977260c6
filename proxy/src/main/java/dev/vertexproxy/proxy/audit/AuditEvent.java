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
 *
 * <p>{@code type} is the record's kind: {@value #EXCHANGE} (null means the same: the one record of a finished exchange,
 * or in {@code durability: sync} its outcome) or {@value #DECISION} (in {@code sync}, the decision written before the
 * request is forwarded; it has no status, duration or bytes). The writer's own records ({@code checkpoint},
 * {@code seal}, {@code retention}) are not events. {@code model} is the model a publisher-model or tuned-model call
 * named; {@code bodySha256}, {@code requestBody} and {@code requestBodyTruncated} are filled only as
 * {@code audit.capture} asks. {@code explanation} is the policy's full explanation of a denial (the closest rule and
 * the claim that differed), whatever {@code policy.explain_denials} let the caller see.
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
    String peerIp,
    String type,
    String model,
    String bodySha256,
    String requestBody,
    boolean requestBodyTruncated,
    String explanation) {
  public static final String EXCHANGE = "exchange";
  public static final String DECISION = "decision";

  /** An event without an {@code explanation} (no policy denial, or a caller from before it existed). */
  public AuditEvent(Instant time, String requestId, String callerIssuer, String callerSubject, Map<String, Object> callerClaims,
      String sourceIp, String httpMethod, String path, String query, String method, String apiVersion, String resource,
      String project, String location, String decision, String rule, String reason, String googlePrincipal, int status,
      long durationMs, long bytesIn, long bytesOut, String policyVersion, String userAgent, String outcome, String peerIp,
      String type, String model, String bodySha256, String requestBody, boolean requestBodyTruncated) {
    this(time, requestId, callerIssuer, callerSubject, callerClaims, sourceIp, httpMethod, path, query, method, apiVersion,
        resource, project, location, decision, rule, reason, googlePrincipal, status, durationMs, bytesIn, bytesOut,
        policyVersion, userAgent, outcome, peerIp, type, model, bodySha256, requestBody, requestBodyTruncated, null);
  }

  /** An exchange event without the fields added with record types (tests and older callers). */
  public AuditEvent(Instant time, String requestId, String callerIssuer, String callerSubject, Map<String, Object> callerClaims,
      String sourceIp, String httpMethod, String path, String query, String method, String apiVersion, String resource,
      String project, String location, String decision, String rule, String reason, String googlePrincipal, int status,
      long durationMs, long bytesIn, long bytesOut, String policyVersion, String userAgent, String outcome, String peerIp) {
    this(time, requestId, callerIssuer, callerSubject, callerClaims, sourceIp, httpMethod, path, query, method, apiVersion,
        resource, project, location, decision, rule, reason, googlePrincipal, status, durationMs, bytesIn, bytesOut,
        policyVersion, userAgent, outcome, peerIp, null, null, null, null, false);
  }

  /** This event as the {@value #DECISION} record of {@code durability: sync}: what was decided, before forwarding. */
  public AuditEvent asDecision() {
    return new AuditEvent(time, requestId, callerIssuer, callerSubject, callerClaims, sourceIp, httpMethod, path, query,
        method, apiVersion, resource, project, location, decision, rule, reason, googlePrincipal, 0, 0, 0, 0,
        policyVersion, userAgent, null, peerIp, DECISION, model, null, null, false, explanation);
  }

  /** True for a {@value #DECISION} record. */
  public boolean isDecision() {
    return DECISION.equals(type);
  }

  /** An event without an {@code outcome} (records written before it existed, and tests that do not care). */
  public AuditEvent(Instant time, String requestId, String callerIssuer, String callerSubject, Map<String, Object> callerClaims,
      String sourceIp, String httpMethod, String path, String query, String method, String apiVersion, String resource,
      String project, String location, String decision, String rule, String reason, String googlePrincipal, int status,
      long durationMs, long bytesIn, long bytesOut, String policyVersion, String userAgent) {
    this(time, requestId, callerIssuer, callerSubject, callerClaims, sourceIp, httpMethod, path, query, method, apiVersion,
        resource, project, location, decision, rule, reason, googlePrincipal, status, durationMs, bytesIn, bytesOut,
        policyVersion, userAgent, null, null, null, null, null, null, false);
  }

  /** An event whose TCP peer is its {@code sourceIp} (no trusted proxy in between). */
  public AuditEvent(Instant time, String requestId, String callerIssuer, String callerSubject, Map<String, Object> callerClaims,
      String sourceIp, String httpMethod, String path, String query, String method, String apiVersion, String resource,
      String project, String location, String decision, String rule, String reason, String googlePrincipal, int status,
      long durationMs, long bytesIn, long bytesOut, String policyVersion, String userAgent, String outcome) {
    this(time, requestId, callerIssuer, callerSubject, callerClaims, sourceIp, httpMethod, path, query, method, apiVersion,
        resource, project, location, decision, rule, reason, googlePrincipal, status, durationMs, bytesIn, bytesOut,
        policyVersion, userAgent, outcome, null, null, null, null, null, false);
  }
}

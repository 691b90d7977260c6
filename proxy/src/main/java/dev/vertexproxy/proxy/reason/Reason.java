package dev.vertexproxy.proxy.reason;

import java.util.HashMap;
import java.util.Map;

/**
 * Every reason an exchange can end with, closed: one value picks the HTTP status and Google status of the answer, the
 * {@code reason} and {@code outcome} of the audit record and the {@code reason} tag of the metric. The policy module,
 * the router and the token verifier speak in kebab-case codes of their own; {@link #of} maps each to its value here,
 * and a test keeps the three lists and this catalog (and the documentation's table) in step.
 *
 * <p>The {@link Kind} separates "refused" (the caller's fault, a 4xx) from "unavailable" (we could not decide or reach
 * Google, a 5xx) and from "failed" (the exchange broke: a connection was cut). Immutable.
 */
public enum Reason {
  /** Admitted and relayed; the status is Vertex's. */
  ALLOWED("allowed", 200, Kind.ALLOWED),
  /** A reserved route ({@code /_proxy/}, {@code /.well-known/}) answered by the proxy itself, never by Vertex. */
  SERVED("served", 200, Kind.ALLOWED),

  // transport: what the decoder and the guard refuse before anything else looks at the request
  REQUEST_MALFORMED("request-malformed", 400, Kind.REFUSED),
  URI_TOO_LONG("uri-too-long", 414, Kind.REFUSED),
  HEADERS_TOO_LARGE("headers-too-large", 431, Kind.REFUSED),
  BODY_TOO_LARGE("body-too-large", 413, Kind.REFUSED),
  EXPECTATION_UNSUPPORTED("expectation-unsupported", 417, Kind.REFUSED),
  TRANSFER_ENCODING_UNSUPPORTED("transfer-encoding-unsupported", 501, Kind.REFUSED),
  CONNECTION_HEADER_INVALID("connection-header-invalid", 400, Kind.REFUSED),
  METHOD_OVERRIDE_NOT_ALLOWED("method-override-not-allowed", 400, Kind.REFUSED),

  // audit
  AUDIT_UNAVAILABLE("audit-unavailable", 503, Kind.UNAVAILABLE),

  // route
  ROUTE_NOT_FOUND("route-not-found", 404, Kind.REFUSED),
  PATH_NOT_CANONICAL("path-not-canonical", 400, Kind.REFUSED),
  QUERY_NOT_ALLOWED("query-not-allowed", 400, Kind.REFUSED),
  LOCATION_INVALID("location-invalid", 400, Kind.REFUSED),

  // identity
  TOKEN_MISSING("token-missing", 401, Kind.REFUSED),
  TOKEN_MALFORMED("token-malformed", 401, Kind.REFUSED),
  TOKEN_TOO_LARGE("token-too-large", 401, Kind.REFUSED),
  ISSUER_UNKNOWN("issuer-unknown", 401, Kind.REFUSED),
  ALGORITHM_NOT_ALLOWED("algorithm-not-allowed", 401, Kind.REFUSED),
  KEY_UNKNOWN("key-unknown", 401, Kind.REFUSED),
  SIGNATURE_INVALID("signature-invalid", 401, Kind.REFUSED),
  AUDIENCE_MISMATCH("audience-mismatch", 401, Kind.REFUSED),
  TOKEN_EXPIRED("token-expired", 401, Kind.REFUSED),
  TOKEN_NOT_YET_VALID("token-not-yet-valid", 401, Kind.REFUSED),
  TOKEN_ISSUED_IN_FUTURE("token-issued-in-future", 401, Kind.REFUSED),
  TOKEN_LIFETIME_TOO_LONG("token-lifetime-too-long", 401, Kind.REFUSED),
  CLAIMS_INVALID("claims-invalid", 401, Kind.REFUSED),
  SESSION_REVOKED("session-revoked", 401, Kind.REFUSED),
  JWKS_UNAVAILABLE("jwks-unavailable", 503, Kind.UNAVAILABLE),
  ISSUER_UNAVAILABLE("issuer-unavailable", 503, Kind.UNAVAILABLE),
  IDENTITY_UNAVAILABLE("identity-unavailable", 503, Kind.UNAVAILABLE),

  // policy
  DENIED_BY_RULE("denied-by-rule", 403, Kind.REFUSED),
  ISSUER_NOT_TRUSTED("issuer-not-trusted", 403, Kind.REFUSED),
  IDENTITY_NOT_MATCHED("identity-not-matched", 403, Kind.REFUSED),
  METHOD_NOT_GRANTED("method-not-granted", 403, Kind.REFUSED),
  PROJECT_NOT_GRANTED("project-not-granted", 403, Kind.REFUSED),
  LOCATION_NOT_GRANTED("location-not-granted", 403, Kind.REFUSED),
  RESOURCE_NOT_GRANTED("resource-not-granted", 403, Kind.REFUSED),
  MODEL_NOT_GRANTED("model-not-granted", 403, Kind.REFUSED),

  // people's login and the proxy's own OAuth endpoints (reserved routes); the status is the answer's own
  LOGIN_STATE_INVALID("login-state-invalid", 400, Kind.REFUSED),
  LOGIN_CODE_REPLAYED("login-code-replayed", 400, Kind.REFUSED),
  LOGIN_NONCE_INVALID("login-nonce-invalid", 401, Kind.REFUSED),
  LOGIN_FAILED("login-failed", 401, Kind.REFUSED),
  LOGIN_UNAVAILABLE("login-unavailable", 503, Kind.UNAVAILABLE),
  CSRF_TOKEN_INVALID("csrf-token-invalid", 403, Kind.REFUSED),
  SESSION_REQUIRED("session-required", 401, Kind.REFUSED),
  GRANT_INVALID("grant-invalid", 400, Kind.REFUSED),
  AUTHORIZATION_PENDING("authorization-pending", 400, Kind.REFUSED),
  SLOW_DOWN("slow-down", 400, Kind.REFUSED),
  DEVICE_CODE_EXPIRED("device-code-expired", 400, Kind.REFUSED),
  ACCESS_DENIED("access-denied", 400, Kind.REFUSED),
  METHOD_NOT_ALLOWED("method-not-allowed", 405, Kind.REFUSED),

  // credentials
  CREDENTIALS_UNAVAILABLE("credentials-unavailable", 503, Kind.UNAVAILABLE),

  // upstream
  UPSTREAM_UNREACHABLE("upstream-unreachable", 502, Kind.UNAVAILABLE),
  UPSTREAM_TIMEOUT("upstream-timeout", 504, Kind.UNAVAILABLE),
  UPSTREAM_RESET("upstream-reset", 502, Kind.FAILED),
  UPSTREAM_MALFORMED("upstream-malformed", 502, Kind.FAILED),

  // the caller's connection
  CLIENT_CLOSED("client-closed", 499, Kind.FAILED),
  CLIENT_STALLED("client-stalled", 499, Kind.FAILED),
  CONNECTION_ERROR("connection-error", 499, Kind.FAILED),

  /** A step threw where it should have answered: refused rather than let through, and logged as a bug. */
  INTERNAL_ERROR("internal-error", 500, Kind.UNAVAILABLE);

  /** What kind of ending a reason stands for; the audit record's {@code outcome} comes from it. */
  public enum Kind {
    /** Admitted and relayed. */
    ALLOWED,
    /** Refused because of the request or the caller: a 4xx in Google's error shape. */
    REFUSED,
    /** The proxy could not decide or could not reach what it needed: a 5xx in Google's error shape. */
    UNAVAILABLE,
    /** The exchange broke: the caller or Vertex cut it, or it was cut after the response started. */
    FAILED
  }

  private static final Map<String, Reason> BY_CODE = new HashMap<>();

  static {
    for (Reason r : values()) {
      BY_CODE.put(r.code, r);
    }
  }

  private final String code;
  private final int httpStatus;
  private final Kind kind;

  Reason(String code, int httpStatus, Kind kind) {
    this.code = code;
    this.httpStatus = httpStatus;
    this.kind = kind;
  }

  /** The reason for a code from the policy module, the router or the verifier. */
  public static Reason of(String code) {
    Reason r = BY_CODE.get(code);
    if (r == null) {
      throw new IllegalArgumentException("no reason " + code + " in the catalog");
    }
    return r;
  }

  /** The kebab-case code of audit records, metric tags and error details, e.g. {@code token-expired}. */
  public String code() {
    return code;
  }

  /** The HTTP status of the answer (499 for endings the caller never sees: its connection is gone). */
  public int httpStatus() {
    return httpStatus;
  }

  public Kind kind() {
    return kind;
  }

  /** Google's canonical status name for {@link #httpStatus}, as its JSON errors carry it. */
  public String googleStatus() {
    return googleStatus(httpStatus);
  }

  /** Google's canonical status name for an HTTP status. */
  public static String googleStatus(int code) {
    return switch (code) {
      case 400, 405, 413, 414, 417, 431 -> "INVALID_ARGUMENT";
      case 401 -> "UNAUTHENTICATED";
      case 403 -> "PERMISSION_DENIED";
      case 404 -> "NOT_FOUND";
      case 408, 504 -> "DEADLINE_EXCEEDED";
      case 409 -> "ABORTED";
      case 429 -> "RESOURCE_EXHAUSTED";
      case 499 -> "CANCELLED";
      case 501 -> "UNIMPLEMENTED";
      case 502, 503 -> "UNAVAILABLE";
      default -> code >= 500 ? "INTERNAL" : "FAILED_PRECONDITION";
    };
  }

  @Override
  public String toString() {
    return code;
  }
}

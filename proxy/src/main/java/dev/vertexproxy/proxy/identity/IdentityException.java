package dev.vertexproxy.proxy.identity;

/**
 * Why a bearer token was not turned into a {@link dev.vertexproxy.policy.Caller}: either the token is refused (401,
 * the caller's problem) or we could not decide because an issuer or its keys were unreachable (503, ours).
 *
 * <p>The message is safe to show the caller and to write into logs and audit records: it never contains the token
 * or any part of it. Immutable; stack traces are not captured because refusals are routine, not bugs.
 */
public final class IdentityException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** The closed set of reasons; each picks the HTTP status, fills the audit record and tags the metric. */
  public enum Reason {
    TOKEN_MALFORMED("token-malformed", 401),
    TOKEN_TOO_LARGE("token-too-large", 401),
    ISSUER_UNKNOWN("issuer-unknown", 401),
    ALGORITHM_NOT_ALLOWED("algorithm-not-allowed", 401),
    KEY_UNKNOWN("key-unknown", 401),
    SIGNATURE_INVALID("signature-invalid", 401),
    AUDIENCE_MISMATCH("audience-mismatch", 401),
    TOKEN_EXPIRED("token-expired", 401),
    TOKEN_NOT_YET_VALID("token-not-yet-valid", 401),
    TOKEN_ISSUED_IN_FUTURE("token-issued-in-future", 401),
    TOKEN_LIFETIME_TOO_LONG("token-lifetime-too-long", 401),
    CLAIMS_INVALID("claims-invalid", 401),
    SESSION_REVOKED("session-revoked", 401),
    LOGIN_NONCE_INVALID("login-nonce-invalid", 401),
    JWKS_UNAVAILABLE("jwks-unavailable", 503),
    ISSUER_UNAVAILABLE("issuer-unavailable", 503);

    private final String code;
    private final int httpStatus;

    Reason(String code, int httpStatus) {
      this.code = code;
      this.httpStatus = httpStatus;
    }

    /** The kebab-case reason, e.g. {@code token-expired}. */
    public String code() {
      return code;
    }

    public int httpStatus() {
      return httpStatus;
    }

    /** Google's status name for the error body: {@code UNAUTHENTICATED} or {@code UNAVAILABLE}. */
    public String googleStatus() {
      return httpStatus == 401 ? "UNAUTHENTICATED" : "UNAVAILABLE";
    }
  }

  private final Reason kind;

  IdentityException(Reason kind, String message) {
    this(kind, message, null);
  }

  IdentityException(Reason kind, String message, Throwable cause) {
    super(message, cause, false, false);
    this.kind = kind;
  }

  public Reason kind() {
    return kind;
  }

  /** The kebab-case reason, e.g. {@code token-expired}. */
  public String reason() {
    return kind.code();
  }

  /** 401 when the token is refused, 503 when we could not decide. */
  public int httpStatus() {
    return kind.httpStatus();
  }

  @Override
  public String toString() {
    return "IdentityException[" + kind.code() + "]: " + getMessage();
  }
}

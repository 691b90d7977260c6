package dev.vertexproxy.proxy.reason;

import java.util.Locale;

/**
 * What happened to an exchange, beside the policy's {@code decision}: the audit record's {@code outcome}. A failed
 * Google token fetch after the policy allowed the call is {@code decision: allow, outcome: unavailable} — never a
 * denial.
 */
public enum Outcome {
  /** Admitted and relayed to the end. */
  ALLOWED,
  /** Refused for the caller's request or identity. */
  REFUSED,
  /** The proxy could not decide or reach what it needed (an issuer, Google, Vertex, the audit trail). */
  UNAVAILABLE,
  /** Broken off: a connection was cut, or the exchange broke after its response had started. */
  FAILED;

  /**
   * The outcome of an exchange that ended with {@code reason}; {@code brokeAfterResponseStarted} when its response had
   * begun and could only be cut off.
   */
  public static Outcome of(Reason reason, boolean brokeAfterResponseStarted) {
    if (brokeAfterResponseStarted && reason != Reason.ALLOWED) {
      return FAILED;
    }
    return switch (reason.kind()) {
      case ALLOWED -> ALLOWED;
      case REFUSED -> REFUSED;
      case UNAVAILABLE -> UNAVAILABLE;
      case FAILED -> FAILED;
    };
  }

  /** The lower-case name used in audit records, metric tags and queries. */
  public String code() {
    return name().toLowerCase(Locale.ROOT);
  }
}

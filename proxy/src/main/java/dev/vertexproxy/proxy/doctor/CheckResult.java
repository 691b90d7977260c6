package dev.vertexproxy.proxy.doctor;

import java.util.Objects;

/**
 * One row of the doctor's report: what was checked, against what, how it went, and for a failure or warning what to
 * do about it. Never carries a token: details quote Google's and the issuers' error texts, not credentials.
 *
 * @param check  the kind of check, e.g. {@code issuer keys}
 * @param target what it was checked against: a file, an issuer, a service account, a directory
 * @param status how it went
 * @param detail what was found
 * @param fix    what to do, for {@link Status#FAIL} and {@link Status#WARN}; {@code null} otherwise
 */
public record CheckResult(String check, String target, Status status, String detail, String fix) {
  /** How a check went; only {@link #FAIL} makes the doctor exit non-zero. */
  public enum Status { PASS, WARN, FAIL, SKIP }

  public CheckResult {
    Objects.requireNonNull(check, "check");
    Objects.requireNonNull(target, "target");
    Objects.requireNonNull(status, "status");
    Objects.requireNonNull(detail, "detail");
  }

  static CheckResult pass(String check, String target, String detail) {
    return new CheckResult(check, target, Status.PASS, detail, null);
  }

  static CheckResult skip(String check, String target, String detail) {
    return new CheckResult(check, target, Status.SKIP, detail, null);
  }

  static CheckResult warn(String check, String target, String detail, String fix) {
    return new CheckResult(check, target, Status.WARN, detail, fix);
  }

  static CheckResult fail(String check, String target, String detail, String fix) {
    return new CheckResult(check, target, Status.FAIL, detail, fix);
  }
}

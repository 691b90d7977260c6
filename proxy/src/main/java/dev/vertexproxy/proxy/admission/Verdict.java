package dev.vertexproxy.proxy.admission;

import dev.vertexproxy.proxy.reason.Reason;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * What an {@link AdmissionStep} decided: go on to the next step, or refuse with a reason and a message for the caller
 * (never holding a token or secret). Immutable.
 */
public final class Verdict {
  private static final Verdict CONTINUE = new Verdict(null, null);
  /** {@link #proceed()} as a completed stage, shared by every synchronous step ({@link AdmissionStep#decided}). */
  static final CompletableFuture<Verdict> PROCEEDING = CompletableFuture.completedFuture(CONTINUE);

  private final Reason reason;
  private final String message;

  private Verdict(Reason reason, String message) {
    this.reason = reason;
    this.message = message;
  }

  /** The exchange may go on. */
  public static Verdict proceed() {
    return CONTINUE;
  }

  /** The exchange ends here, answered with {@code reason}'s status and {@code message}. */
  public static Verdict refuse(Reason reason, String message) {
    return new Verdict(Objects.requireNonNull(reason), Objects.requireNonNull(message));
  }

  public boolean proceeds() {
    return reason == null;
  }

  /** Why the exchange was refused; {@code null} when it proceeds. */
  public Reason reason() {
    return reason;
  }

  public String message() {
    return message;
  }

  @Override
  public String toString() {
    return proceeds() ? "proceed" : "refuse(" + reason + ": " + message + ")";
  }
}

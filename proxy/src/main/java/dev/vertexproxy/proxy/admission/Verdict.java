package dev.vertexproxy.proxy.admission;

import dev.vertexproxy.proxy.reason.Reason;
import dev.vertexproxy.proxy.reserved.ReservedEndpoint;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * What an {@link AdmissionStep} decided: go on to the next step, refuse with a reason and a message for the caller
 * (never holding a token or secret), or — for a reserved route — have the proxy answer the request itself with an
 * endpoint, which ends the chain like a refusal but is not one. Immutable.
 */
public final class Verdict {
  private static final Verdict CONTINUE = new Verdict(null, null, null);
  /** {@link #proceed()} as a completed stage, shared by every synchronous step ({@link AdmissionStep#decided}). */
  static final CompletableFuture<Verdict> PROCEEDING = CompletableFuture.completedFuture(CONTINUE);

  private final Reason reason;
  private final String message;
  private final ReservedEndpoint endpoint;

  private Verdict(Reason reason, String message, ReservedEndpoint endpoint) {
    this.reason = reason;
    this.message = message;
    this.endpoint = endpoint;
  }

  /** The exchange may go on. */
  public static Verdict proceed() {
    return CONTINUE;
  }

  /** The exchange ends here, answered with {@code reason}'s status and {@code message}. */
  public static Verdict refuse(Reason reason, String message) {
    return new Verdict(Objects.requireNonNull(reason), Objects.requireNonNull(message), null);
  }

  /** The exchange is answered by {@code endpoint}, in the proxy: no later step runs and nothing goes to Vertex. */
  public static Verdict serve(ReservedEndpoint endpoint) {
    return new Verdict(null, null, Objects.requireNonNull(endpoint));
  }

  public boolean proceeds() {
    return reason == null && endpoint == null;
  }

  /** The endpoint that answers a reserved route; {@code null} for every other verdict. */
  public ReservedEndpoint endpoint() {
    return endpoint;
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
    if (endpoint != null) {
      return "serve";
    }
    return proceeds() ? "proceed" : "refuse(" + reason + ": " + message + ")";
  }
}

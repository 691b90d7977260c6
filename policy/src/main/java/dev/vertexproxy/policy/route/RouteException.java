package dev.vertexproxy.policy.route;

/**
 * Thrown when a request cannot be routed. {@link #reason()} is a kebab-case reason from a closed set:
 * {@code route-not-found} (404) and {@code path-not-canonical} / {@code query-not-allowed} (400).
 */
public final class RouteException extends Exception {
  private static final long serialVersionUID = 1L;
  private final String reason;

  public RouteException(String reason, String message) {
    super(message, null, false, false);
    this.reason = reason;
  }

  public String reason() {
    return reason;
  }
}

package dev.vertexproxy.proxy.server;

import dev.vertexproxy.proxy.admission.RequestHead;

/**
 * When the body of a refused request is read and dropped to keep the connection, and for how long. Reading it lets a
 * keep-alive caller go on without a new connection; but each byte would reset the idle timer, so an unauthenticated
 * caller trickling a body could hold a connection forever. The drain therefore has its own deadline: a grace, plus the
 * bytes still owed at a minimum rate, capped.
 */
final class RefusedBody {
  /** A refused request's unread body up to this size is read and dropped to keep the connection; larger closes it. */
  static final long DISCARD_LIMIT = 64 * 1024;
  static final long MIN_BYTES_PER_SECOND = 16 * 1024;
  static final long GRACE_MS = 1000;
  static final long MAX_MS = 5000;

  private RefusedBody() {
  }

  /**
   * Whether the rest of a refused body is worth reading: declared, and small. A client that asked for 100-continue and
   * got a final status may never send its body, so it is not waited for.
   */
  static boolean drainable(RequestHead head, long bytesIn) {
    return !head.expectContinue() && head.declaredBodyBytes() >= 0 && head.declaredBodyBytes() - bytesIn <= DISCARD_LIMIT;
  }

  /** How long the caller has to send the {@code owed} bytes: 1 s plus 16 KiB/s, at most 5 s. */
  static long deadlineMillis(long owed) {
    return Math.min(MAX_MS, GRACE_MS + owed * 1000 / MIN_BYTES_PER_SECOND);
  }
}

package dev.vertexproxy.proxy.audit;

import java.io.IOException;

/**
 * Why an audit record was not (durably) written: the future returned by {@link AuditLog#append} fails with this.
 * Every kind means "the exchange is not on record"; with {@code on_failure: reject} the caller answers 503.
 * The message never contains record content.
 */
public final class AuditException extends IOException {
  private static final long serialVersionUID = 1L;

  /** What went wrong. */
  public enum Kind {
    /** The bounded queue was full: the disk is slower than the traffic. Nothing was written. */
    QUEUE_FULL,
    /** The log was closed before the record could be queued. */
    CLOSED,
    /** Writing or syncing the batch failed; the batch was rolled back and is not part of the chain. */
    WRITE_FAILED
  }

  private final Kind kind;

  AuditException(Kind kind, String message, Throwable cause) {
    super(message, cause);
    this.kind = kind;
  }

  public Kind kind() {
    return kind;
  }
}

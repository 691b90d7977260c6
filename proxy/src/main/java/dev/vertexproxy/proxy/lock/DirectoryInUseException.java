package dev.vertexproxy.proxy.lock;

import java.io.IOException;

/**
 * A directory is held by another process (or another owner in this JVM): the message names the directory, the holder
 * and what to do, and is meant to be shown to the operator as it is. Stack traces are not captured: this is a refusal
 * to start, not a bug.
 */
public final class DirectoryInUseException extends IOException {
  private static final long serialVersionUID = 1L;
  private final transient DirectoryLock.Holder holder;

  DirectoryInUseException(String message, DirectoryLock.Holder holder) {
    super(message);
    this.holder = holder;
  }

  /** Who holds the directory, as its lock file says; null when it does not say (yet). */
  public DirectoryLock.Holder holder() {
    return holder;
  }

  @Override
  public synchronized Throwable fillInStackTrace() {
    return this;
  }
}

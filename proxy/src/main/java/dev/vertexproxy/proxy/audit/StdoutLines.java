package dev.vertexproxy.proxy.audit;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lines for stdout ({@code audit.stdout: cloud_logging}, {@code audit.checkpoint.external.stdout}), written by a
 * thread of their own through a bounded queue: a log collector that stops draining the pipe must stall neither the
 * audit writer nor, through it, any request. When the queue is full a line is dropped and counted (the trail on disk
 * still holds the record). The proxy's own log goes to stderr, so these lines never interleave with it.
 */
final class StdoutLines implements AutoCloseable {
  static final int CAPACITY = 16_384;
  private static final Logger LOG = LoggerFactory.getLogger(AuditLog.class);

  private final OutputStream out;
  private final BlockingQueue<String> queue;
  private final Runnable dropped;
  private final Thread thread;
  private volatile boolean closing;
  private boolean warned; // on the offering thread

  /** @param dropped called once per line that did not fit the queue or could not be written */
  StdoutLines(OutputStream out, int capacity, Runnable dropped) {
    this.out = out;
    this.queue = new ArrayBlockingQueue<>(capacity);
    this.dropped = dropped;
    this.thread = new Thread(this::run, "audit-stdout");
    this.thread.setDaemon(true);
    this.thread.start();
  }

  /** Queues one line (without its newline); never blocks. */
  void offer(String line) {
    if (!queue.offer(line)) {
      dropped.run();
      if (!warned) {
        warned = true;
        LOG.warn("stdout is not drained fast enough: audit lines for log shipping are being dropped (the trail on"
            + " disk keeps every record; vertex_proxy_audit_export_failures_total counts them)");
      }
    }
  }

  private void run() {
    while (true) {
      String line;
      try {
        line = queue.poll(100, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        continue; // only close() stops this thread, once the queue is empty
      }
      if (line == null) {
        if (closing && queue.isEmpty()) {
          return;
        }
        continue;
      }
      try {
        out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        if (queue.isEmpty()) {
          out.flush();
        }
      } catch (IOException e) {
        dropped.run();
      }
    }
  }

  /** Writes what is queued, flushes and stops the thread. */
  @Override
  public void close() {
    closing = true;
    boolean interrupted = false;
    while (thread.isAlive()) {
      try {
        thread.join();
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    try {
      out.flush();
    } catch (IOException e) {
      LOG.debug("flushing stdout failed: {}", e.toString());
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }
}

package dev.vertexproxy.proxy.admin;

import dev.vertexproxy.proxy.audit.AuditException;
import dev.vertexproxy.proxy.audit.AuditLog;
import dev.vertexproxy.proxy.credentials.GoogleTokenEvents;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Timer;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The event interfaces the components were built with, implemented on meters that {@link ProxyMetrics} defines: which
 * meter an event moves, and nothing else — no meter is named, tagged or described here. Every call is an add or a
 * record on a Micrometer meter: cheap, thread-safe and never blocking, as the interfaces ask.
 */
final class EventMeters {
  private EventMeters() {
  }

  /** The Google token stack: cache hits and misses at the top, every request to Google at the bottom. */
  record GoogleTokens(Counter hits, Counter misses, Counter fetched, Counter fetchFailed) implements GoogleTokenEvents {
    @Override
    public void cacheHit() {
      hits.increment();
    }

    @Override
    public void cacheMiss() {
      misses.increment();
    }

    @Override
    public void fetched(boolean ok) {
      (ok ? fetched : fetchFailed).increment();
    }
  }

  /** The audit writer: each batch that reached the file, each record that did not (by kind), checkpoints, exports. */
  record Audit(Counter written, Map<AuditException.Kind, Counter> failures, DistributionSummary batch, Timer write,
      Timer sync, Counter checkpoints, Counter exportFailures) implements AuditLog.Events {
    @Override
    public void batchWritten(int records, long writeNanos, long syncNanos) {
      written.increment(records);
      batch.record(records);
      write.record(writeNanos, TimeUnit.NANOSECONDS);
      if (syncNanos >= 0) {
        sync.record(syncNanos, TimeUnit.NANOSECONDS);
      }
    }

    @Override
    public void failed(AuditException.Kind kind) {
      failures.get(kind).increment();
    }

    @Override
    public void checkpointWritten() {
      checkpoints.increment();
    }

    @Override
    public void exportFailed() {
      exportFailures.increment();
    }
  }
}

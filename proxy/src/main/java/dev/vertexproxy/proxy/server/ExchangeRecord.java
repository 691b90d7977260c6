package dev.vertexproxy.proxy.server;

import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What an ended exchange leaves behind: one metric and one audit record, both from its reason and outcome. Called once
 * per exchange, on its event loop; the audit write itself happens on the audit log's writer thread.
 */
final class ExchangeRecord {
  private static final Logger log = LoggerFactory.getLogger(ExchangeRecord.class);

  private ExchangeRecord() {
  }

  static void write(ProxyContext px, Exchange ex) {
    px.metrics().inFlight().decrementAndGet();
    if (ex.streaming) {
      px.metrics().streams().decrementAndGet();
    }
    long nanos = System.nanoTime() - ex.startNanos;
    String method = ex.admission.route() == null ? null : ex.admission.route().method().name();
    px.metrics().exchange(method, ex.decision(), ex.reason, ex.outcome(), ex.status, nanos,
        ex.admittedNanos == 0 ? -1 : ex.admittedNanos - ex.startNanos,
        ex.firstByteNanos == 0 ? -1 : ex.firstByteNanos - ex.startNanos);
    // the audit log counts written and failed records itself (AuditLog.Events)
    px.audit().append(ex.toAuditEvent(TimeUnit.NANOSECONDS.toMillis(nanos))).whenComplete((receipt, err) -> {
      if (err != null) {
        Throwable cause = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
        log.error("request {}: audit record could not be written: {}", ex.requestId, cause.getMessage());
      }
    });
    // The audit trail is the access log; this line is for debugging only, since a synchronous console write on the
    // event loop for every exchange would cost more than the rest of the exchange.
    if (log.isDebugEnabled()) {
      log.debug("{} {} {} {} method={} decision={} outcome={} reason={} status={} ms={}", ex.requestId, ex.sourceIp,
          ex.admission.head().method(), ex.path, method, ex.decision(), ex.outcome().code(), ex.reason, ex.status,
          TimeUnit.NANOSECONDS.toMillis(nanos));
    }
  }
}

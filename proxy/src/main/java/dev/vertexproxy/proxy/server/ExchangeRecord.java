package dev.vertexproxy.proxy.server;

import dev.vertexproxy.proxy.audit.AuditLog.AuditReceipt;
import dev.vertexproxy.proxy.logging.LogSetup;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.spi.LoggingEventBuilder;

/**
 * What an ended exchange leaves behind: one metric, one audit record, and — when {@code logging.access_log} is on — one
 * access-log line, all from its reason and outcome. Called once per exchange, on its event loop; the audit write itself
 * happens on the audit log's writer thread.
 *
 * <p>The access log is an operator's view, not evidence: a line per exchange on {@link LogSetup#ACCESS_LOGGER} with what
 * a dashboard needs (id, addresses, method, path without query, Vertex method, status, outcome, reason, duration,
 * bytes), no caller identity or claims, not chained, and lost if the process dies before the console write. The audit
 * trail stays the record of who did what.
 */
final class ExchangeRecord {
  private static final Logger log = LoggerFactory.getLogger(ExchangeRecord.class);
  private static final Logger access = LoggerFactory.getLogger(LogSetup.ACCESS_LOGGER);

  private ExchangeRecord() {
  }

  /**
   * Writes what {@code ex} leaves behind; returns the audit append's future (completing on the audit writer thread),
   * which the caller's answer may wait for ({@link AuditPlan#answersAfterRecord}). {@code settled}: the exchange stops
   * counting as in flight now; otherwise its caller settles it once the answer that waits for the record is delivered.
   */
  static CompletableFuture<AuditReceipt> write(ProxyContext px, Exchange ex, boolean settled) {
    if (settled) {
      px.metrics().inFlight().decrementAndGet();
    }
    if (ex.streaming) {
      px.metrics().streams().decrementAndGet();
    }
    long nanos = System.nanoTime() - ex.startNanos;
    String method = ex.admission.route() == null ? ex.admission.reservedMethod() : ex.admission.route().method().name();
    px.metrics().exchange(method, ex.decision(), ex.reason, ex.outcome(), ex.status, nanos,
        ex.admittedNanos == 0 ? -1 : ex.admittedNanos - ex.startNanos,
        ex.firstByteNanos == 0 ? -1 : ex.firstByteNanos - ex.startNanos);
    // the audit log counts written and failed records itself (AuditLog.Events)
    CompletableFuture<AuditReceipt> record = px.auditPlan().records()
        ? px.audit().append(ex.toAuditEvent(TimeUnit.NANOSECONDS.toMillis(nanos))) : AuditPlan.NOT_RECORDED;
    record.whenComplete((receipt, err) -> {
      if (err != null) {
        Throwable cause = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
        ex.log.run(() -> {
          log.error("request {}: audit record could not be written: {}", ex.requestId, cause.getMessage());
        });
      }
    });
    if (access.isInfoEnabled()) {
      LoggingEventBuilder line = access.atInfo().setMessage("{} {} {}")
          .addArgument(ex.admission.head().method()).addArgument(ex.path).addArgument(ex.status)
          .addKeyValue("source_ip", ex.sourceIp);
      if (ex.peerIp != null) {
        line = line.addKeyValue("peer_ip", ex.peerIp); // as in the audit record: only when a balancer named the client
      }
      line.addKeyValue("http_method", ex.admission.head().method())
          .addKeyValue("path", ex.path)
          .addKeyValue("method", method)
          .addKeyValue("status", ex.status)
          .addKeyValue("outcome", ex.outcome().code())
          .addKeyValue("reason", ex.reason.code())
          .addKeyValue("duration_ms", TimeUnit.NANOSECONDS.toMillis(nanos))
          .addKeyValue("bytes_in", ex.bytesIn)
          .addKeyValue("bytes_out", ex.bytesOut)
          .log();
    }
    return record;
  }
}

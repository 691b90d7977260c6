package dev.vertexproxy.proxy.server;

import dev.vertexproxy.proxy.admin.ProxyMetrics;
import dev.vertexproxy.proxy.admission.AdmissionChain;
import dev.vertexproxy.proxy.audit.AuditLog;
import dev.vertexproxy.proxy.config.ProxyConfig;
import dev.vertexproxy.proxy.upstream.LeaseSource;
import dev.vertexproxy.proxy.upstream.UpstreamHosts;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;

/**
 * What every exchange driver shares: the admission chain, the audit log, the way to Vertex, the limits. Immutable or
 * thread-safe, shared by all connections.
 *
 * @param ready whether this replica should be sent traffic: not draining, audit writable, issuer keys loaded
 * @param auditPlan what the {@code audit} section asks of each exchange: waiting for records, decision records, capture
 */
record ProxyContext(
    AdmissionChain admission,
    AuditLog audit,
    ProxyMetrics metrics,
    Clock clock,
    ProxyConfig.Limits limits,
    UpstreamHosts hosts,
    LeaseSource connections,
    Duration responseTimeout,
    AtomicBoolean draining,
    BooleanSupplier ready,
    AuditPlan auditPlan) {
}

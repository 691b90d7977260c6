package dev.vertexproxy.proxy.server;

import dev.vertexproxy.policy.Policy;
import dev.vertexproxy.policy.route.Router;
import dev.vertexproxy.proxy.admin.ProxyMetrics;
import dev.vertexproxy.proxy.audit.AuditLog;
import dev.vertexproxy.proxy.config.AuditConfig;
import dev.vertexproxy.proxy.config.ProxyConfig;
import dev.vertexproxy.proxy.credentials.GoogleTokenProvider;
import dev.vertexproxy.proxy.identity.TokenVerifier;
import dev.vertexproxy.proxy.upstream.UpstreamConnections;
import dev.vertexproxy.proxy.upstream.UpstreamHosts;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;

/**
 * The long-lived parts every exchange uses: immutable or thread-safe, shared by all connections. The policy sits in an
 * atomic reference so a reload can swap a validated policy in without a lock.
 */
record ProxyContext(
    Router router,
    AtomicReference<Policy> policy,
    TokenVerifier verifier,
    GoogleTokenProvider googleTokens,
    AuditLog audit,
    AuditConfig.OnFailure auditOnFailure,
    ProxyMetrics metrics,
    Clock clock,
    ProxyConfig.Limits limits,
    UpstreamHosts hosts,
    UpstreamConnections connections,
    Duration responseTimeout,
    AtomicBoolean draining,
    /** Whether this replica should be sent traffic: not draining, audit writable, issuer keys loaded. */
    BooleanSupplier ready) {
}

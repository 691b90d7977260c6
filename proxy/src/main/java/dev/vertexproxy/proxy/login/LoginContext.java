package dev.vertexproxy.proxy.login;

import dev.vertexproxy.policy.Policy;
import dev.vertexproxy.proxy.config.ProxyConfig;
import dev.vertexproxy.proxy.identity.TokenVerifier;
import java.time.Clock;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

/**
 * What the proxy's own endpoints share: the configuration, the proxy as issuer, the verifier that accepts every
 * issuer's tokens (the proxy's included), the policy in force, the executor for work that waits (HTTP to an IdP,
 * files) and the clock. Immutable; built once at start-up.
 */
public record LoginContext(ProxyConfig config, SessionIssuer issuer, TokenVerifier verifier, Supplier<Policy> policy,
    Executor blocking, Clock clock) {
}

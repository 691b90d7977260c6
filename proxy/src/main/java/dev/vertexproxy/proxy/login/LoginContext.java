package dev.vertexproxy.proxy.login;

import dev.vertexproxy.policy.Policy;
import dev.vertexproxy.proxy.config.ProxyConfig;
import dev.vertexproxy.proxy.identity.TokenVerifier;
import dev.vertexproxy.proxy.login.page.RecentRequests;
import java.time.Clock;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

/**
 * What the proxy's own endpoints share: the configuration, the proxy as issuer, the verifier that accepts every
 * issuer's tokens (the proxy's included), the policy in force, the executor for work that waits (HTTP to an IdP,
 * files), the clock, and this replica's recent requests per caller (for the page for people; the audit log feeds it).
 * Immutable; built once at start-up.
 */
public record LoginContext(ProxyConfig config, SessionIssuer issuer, TokenVerifier verifier, Supplier<Policy> policy,
    Executor blocking, Clock clock, RecentRequests recent) {
  /** The most recent requests the page keeps per caller, and the most callers it keeps them for. */
  public static final int RECENT_PER_CALLER = 20;
  /** See {@link #RECENT_PER_CALLER}. */
  public static final int RECENT_CALLERS = 10_000;

  /** A context whose recent requests nothing feeds (tests of endpoints that do not show them). */
  public LoginContext(ProxyConfig config, SessionIssuer issuer, TokenVerifier verifier, Supplier<Policy> policy,
      Executor blocking, Clock clock) {
    this(config, issuer, verifier, policy, blocking, clock, new RecentRequests(RECENT_PER_CALLER, RECENT_CALLERS));
  }
}

package dev.vertexproxy.proxy.identity;

import dev.vertexproxy.policy.Caller;
import java.time.Instant;
import java.util.Map;

/**
 * A verified bearer token: who it names, when it was issued and expires, and whether the proxy itself issued it (a
 * session or exchanged access token). Never holds the token.
 */
public record VerifiedToken(Caller caller, Instant issuedAt, Instant expiresAt, boolean proxyIssued) {
  /** The proxy token's id ({@code jti}), for a logout; {@code null} for other issuers' tokens. */
  public String sessionId() {
    return proxyIssued && caller.claims().get(TokenVerifier.PROXY_SESSION) instanceof Map<?, ?> m
        && m.get("id") instanceof String id ? id : null;
  }
}

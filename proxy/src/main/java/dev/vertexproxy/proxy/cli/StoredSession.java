package dev.vertexproxy.proxy.cli;

import java.time.Duration;
import java.time.Instant;

/**
 * One proxy session a person holds, as {@link SessionStore} keeps it: the proxy-issued session token and when it stops
 * being accepted. The token is a bearer credential, so {@link #toString()} leaves it out.
 *
 * @param proxy the proxy it was issued by (the store's key)
 * @param accessToken the session token (a JWT signed by the proxy)
 * @param expiresAt when the proxy stops accepting it
 * @param obtainedAt when the login that produced it finished
 * @param via how it was obtained: {@code loopback} (browser on this machine) or {@code device} (any browser, RFC 8628)
 * @param caFile the {@code --ca-file} the login used, so {@code token} and {@code logout} reach the proxy the same way;
 *     null for the JVM's trust store
 */
record StoredSession(ProxyUrl proxy, String accessToken, Instant expiresAt, Instant obtainedAt, String via,
    String caFile) {

  /** True while the token has more than {@code margin} left, so whoever is handed it can still use it for a while. */
  boolean validAt(Instant now, Duration margin) {
    return now.plus(margin).isBefore(expiresAt);
  }

  @Override
  public String toString() {
    return "StoredSession[proxy=" + proxy + ", expiresAt=" + expiresAt + ", obtainedAt=" + obtainedAt + ", via=" + via
        + ", caFile=" + caFile + "]";
  }
}

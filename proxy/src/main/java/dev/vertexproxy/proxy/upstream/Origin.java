package dev.vertexproxy.proxy.upstream;

import java.util.Objects;

/**
 * Where one upstream request goes: scheme, host and port, plus the {@code Host} header value to send, computed once
 * (an origin is made per location and cached by {@link UpstreamHosts}, its host header read per request).
 * Immutable; usable as a map key (equal when scheme, host and port are).
 */
public final class Origin {
  private final boolean tls;
  private final String host;
  private final int port;
  private final String hostHeader;

  public Origin(boolean tls, String host, int port) {
    this.tls = tls;
    this.host = Objects.requireNonNull(host, "host");
    this.port = port;
    this.hostHeader = (tls && port == 443) || (!tls && port == 80) ? host : host + ":" + port;
  }

  public boolean tls() {
    return tls;
  }

  public String host() {
    return host;
  }

  public int port() {
    return port;
  }

  public String hostHeader() {
    return hostHeader;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Origin other && tls == other.tls && port == other.port && host.equals(other.host);
  }

  @Override
  public int hashCode() {
    return Objects.hash(tls, host, port);
  }

  @Override
  public String toString() {
    return (tls ? "https://" : "http://") + hostHeader;
  }
}

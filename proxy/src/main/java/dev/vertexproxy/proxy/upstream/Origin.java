package dev.vertexproxy.proxy.upstream;

/**
 * Where one upstream request goes: scheme, host and port, plus the {@code Host} header value to send.
 * Immutable; usable as a map key.
 */
public record Origin(boolean tls, String host, int port) {
  public String hostHeader() {
    return (tls && port == 443) || (!tls && port == 80) ? host : host + ":" + port;
  }

  @Override
  public String toString() {
    return (tls ? "https://" : "http://") + hostHeader();
  }
}

package dev.vertexproxy.proxy.server;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Header hygiene for both directions: hop-by-hop headers (RFC 9110 §7.6.1, and every header the {@code Connection}
 * header names) never cross the proxy, and caller credentials never reach Google.
 */
final class HopByHop {
  private static final Set<String> HOP = Set.of(
      "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer",
      "transfer-encoding", "upgrade", "expect", "http2-settings");

  /**
   * Caller headers that carry a credential or could widen what Google does on the proxy's token: the caller's own
   * bearer, cookies, API keys, IAM delegation tokens, and a billing/quota project override.
   */
  private static final Set<String> CALLER_CREDENTIALS = Set.of(
      "authorization", "proxy-authorization", "cookie", "x-goog-api-key", "x-goog-user-project",
      "x-goog-iam-authorization-token", "x-goog-iam-authority-selector", "x-goog-allowed-resources",
      "x-vertex-proxy-request-id", "forwarded", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "x-real-ip");

  private HopByHop() {
  }

  /** Removes hop-by-hop headers and those named in {@code Connection}; keeps the framing decision to the caller. */
  static void strip(HttpHeaders headers) {
    List<String> named = new ArrayList<>();
    for (String v : headers.getAll(HttpHeaderNames.CONNECTION)) {
      for (String token : v.split(",")) {
        String t = token.trim().toLowerCase(Locale.ROOT);
        if (!t.isEmpty()) {
          named.add(t);
        }
      }
    }
    for (String n : named) {
      headers.remove(n);
    }
    for (String n : HOP) {
      headers.remove(n);
    }
  }

  /** {@link #strip} plus every caller credential. */
  static void stripForUpstream(HttpHeaders headers) {
    strip(headers);
    for (String n : CALLER_CREDENTIALS) {
      headers.remove(n);
    }
  }
}

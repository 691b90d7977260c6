package dev.vertexproxy.proxy.server;

import dev.vertexproxy.proxy.config.ProxyConfig.ForwardedHeader;
import dev.vertexproxy.proxy.config.TrustedProxies;
import io.netty.handler.codec.http.HttpHeaders;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Who the caller is behind a load balancer: the {@code source_ip} of an exchange, from the TCP peer and — only when that
 * peer is in {@code listen.trusted_proxies} — the forwarded chain that peer wrote.
 *
 * <p>A forwarded header is a list each proxy appends to, so only its right end is written by proxies we trust; anything
 * left of the first untrusted hop is the caller's own text. The walk therefore starts at the right (the peer), skips
 * trusted addresses, and stops at the first untrusted one, which is the client. When every hop is trusted the leftmost
 * is. A hop that is not an address — garbage, a host name, {@code unknown}, an obfuscated {@code _identifier}, an
 * element without {@code for=} — stops the walk, and the hop to its right (a trusted proxy, or the peer) stands: the text
 * further left cannot be attributed to anyone we trust. At most {@link #MAX_HOPS} hops are looked at.
 *
 * <p>Exactly one header family is read, the one {@code listen.forwarded_header} names ({@code x-forwarded-for} by
 * default, or RFC 7239 {@code forwarded}): a balancer writes one of them, and if the proxy read the other as well, a
 * caller could send that other one, untouched by the balancer, and choose its own address. Every instance of the header
 * counts, joined in order, as RFC 9110 defines for list headers. Stateless.
 */
final class ForwardedFor {
  /** Longer chains than this are not walked further; no real deployment has 32 proxies in a row. */
  static final int MAX_HOPS = 32;

  private ForwardedFor() {
  }

  /**
   * The client's address as the audit record spells it: the peer's, unless the peer is trusted and its forwarded chain
   * names someone else.
   */
  static String sourceIp(InetAddress peer, HttpHeaders headers, TrustedProxies trusted, ForwardedHeader header) {
    if (trusted.isEmpty()) {
      return peer.getHostAddress(); // the default: no per-request parsing at all
    }
    byte[] right = TrustedProxies.literal(peer.getHostAddress());
    if (right == null) {
      right = peer.getAddress();
    }
    if (!trusted.contains(right)) {
      return peer.getHostAddress();
    }
    List<String> hops = header == ForwardedHeader.FORWARDED ? forwardedHops(headers) : xffHops(headers);
    int examined = 0;
    for (int i = hops.size() - 1; i >= 0 && examined < MAX_HOPS; i--, examined++) {
      byte[] a = header == ForwardedHeader.FORWARDED ? forwardedNode(hops.get(i)) : xffNode(hops.get(i));
      if (a == null) {
        break;
      }
      if (!trusted.contains(a)) {
        return TrustedProxies.address(a);
      }
      right = a;
    }
    return TrustedProxies.address(right);
  }

  // ---- X-Forwarded-For: comma-separated addresses ----------------------------------------------------------------

  private static List<String> xffHops(HttpHeaders headers) {
    List<String> hops = new ArrayList<>();
    for (String v : headers.getAll("X-Forwarded-For")) {
      for (String e : v.split(",", -1)) {
        hops.add(e.trim());
      }
    }
    return hops;
  }

  /** {@code 192.0.2.1}, {@code 192.0.2.1:8080}, {@code 2001:db8::1}, {@code [2001:db8::1]}, {@code [2001:db8::1]:8080}. */
  static byte[] xffNode(String e) {
    if (e.startsWith("[")) {
      return bracketed(e, false);
    }
    int colon = e.indexOf(':');
    if (colon >= 0 && colon == e.lastIndexOf(':')) {
      return validPort(e.substring(colon + 1), false) ? v4(e.substring(0, colon)) : null;
    }
    return TrustedProxies.literal(e);
  }

  // ---- Forwarded (RFC 7239): for=node in ;-separated pairs of ,-separated elements --------------------------------

  private static List<String> forwardedHops(HttpHeaders headers) {
    List<String> hops = new ArrayList<>();
    for (String v : headers.getAll("Forwarded")) {
      hops.addAll(split(v, ','));
    }
    return hops;
  }

  /** The {@code for=} node of one element, or {@code null} when there is none or it is not an address. */
  static byte[] forwardedNode(String element) {
    String node = null;
    for (String pair : split(element, ';')) {
      int eq = pair.indexOf('=');
      if (eq <= 0) {
        return null;
      }
      if (pair.substring(0, eq).trim().toLowerCase(Locale.ROOT).equals("for")) {
        if (node != null) {
          return null; // two for= in one element: which one the proxy meant is anyone's guess
        }
        node = unquote(pair.substring(eq + 1).trim());
        if (node == null) {
          return null;
        }
      }
    }
    if (node == null) {
      return null;
    }
    if (node.startsWith("[")) {
      return bracketed(node, true);
    }
    int colon = node.indexOf(':');
    if (colon >= 0) {
      return validPort(node.substring(colon + 1), true) ? v4(node.substring(0, colon)) : null;
    }
    return v4(node); // "unknown" and "_obfuscated" are not addresses
  }

  /** Splits on {@code sep} outside quoted strings; a quote left open makes the rest one (malformed) piece. */
  private static List<String> split(String s, char sep) {
    List<String> out = new ArrayList<>();
    StringBuilder cur = new StringBuilder();
    boolean quoted = false;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (quoted && c == '\\' && i + 1 < s.length()) {
        cur.append(c).append(s.charAt(++i));
        continue;
      }
      if (c == '"') {
        quoted = !quoted;
      }
      if (c == sep && !quoted) {
        out.add(cur.toString().trim());
        cur.setLength(0);
      } else {
        cur.append(c);
      }
    }
    out.add(cur.toString().trim());
    return out;
  }

  /** A token as is, or a quoted-string without its quotes and escapes; {@code null} when it is neither. */
  private static String unquote(String v) {
    if (!v.startsWith("\"")) {
      return v.indexOf('"') < 0 && !v.isEmpty() ? v : null;
    }
    if (v.length() < 2 || !v.endsWith("\"")) {
      return null;
    }
    StringBuilder out = new StringBuilder();
    for (int i = 1; i < v.length() - 1; i++) {
      char c = v.charAt(i);
      if (c == '\\') {
        if (i + 1 >= v.length() - 1) {
          return null;
        }
        c = v.charAt(++i);
      } else if (c == '"') {
        return null;
      }
      out.append(c);
    }
    return out.toString();
  }

  // ---- nodes ---------------------------------------------------------------------------------------------------

  /** {@code [v6]} or {@code [v6]:port}; IPv4 inside brackets is not a thing. */
  private static byte[] bracketed(String s, boolean obfuscatedPortAllowed) {
    int close = s.indexOf(']');
    if (close < 0) {
      return null;
    }
    String rest = s.substring(close + 1);
    if (!rest.isEmpty() && !(rest.startsWith(":") && validPort(rest.substring(1), obfuscatedPortAllowed))) {
      return null;
    }
    String inner = s.substring(1, close);
    if (inner.indexOf(':') < 0) {
      return null;
    }
    return TrustedProxies.literal(inner);
  }

  private static byte[] v4(String s) {
    return s.indexOf(':') >= 0 ? null : TrustedProxies.literal(s);
  }

  private static boolean validPort(String p, boolean obfuscatedAllowed) {
    if (obfuscatedAllowed && p.matches("_[A-Za-z0-9._-]{1,64}")) {
      return true;
    }
    return p.matches("[0-9]{1,5}") && Integer.parseInt(p) <= 65535;
  }
}

package dev.vertexproxy.proxy.upstream;

import dev.vertexproxy.proxy.BuildInfo;

/**
 * The {@code User-Agent} Vertex gets: the caller's own, then {@code vertex-proxy/<version> (request-id <id>)}. Google
 * keeps it in Cloud Audit Logs as {@code protoPayload.requestMetadata.callerSuppliedUserAgent}, so a reviewer can find
 * Google's entry for one of our records by its request id (docs/audit.md, "Joining Google's Cloud Audit Logs").
 *
 * <p>The caller's part is the caller's to choose, so it is made harmless before it goes: anything outside printable
 * ASCII becomes {@code ?} (the decoder already refused CR and LF; this also covers NUL, other controls and non-ASCII
 * bytes), it is cut to {@value #MAX_CALLER_CHARS} characters so the proxy's part is never pushed off the end by a long
 * one, and blank becomes absent. A caller can still write {@code (request-id …)} into its own part; the proxy's part is
 * always the last one, which is what the documented query matches. Stateless.
 */
public final class UpstreamUserAgent {
  /** At most this many characters of the caller's User-Agent go on to Vertex. */
  public static final int MAX_CALLER_CHARS = 256;
  private static final String PRODUCT = "vertex-proxy/" + token(BuildInfo.current().version());

  private UpstreamUserAgent() {
  }

  /** The value for {@code requestId}'s upstream request; {@code callerUserAgent} may be {@code null}. */
  public static String of(String callerUserAgent, String requestId) {
    String proxy = PRODUCT + " (request-id " + requestId + ")";
    String caller = callerUserAgent == null ? "" : printable(callerUserAgent).strip();
    return caller.isEmpty() ? proxy : caller + " " + proxy;
  }

  private static String printable(String s) {
    int n = Math.min(s.length(), MAX_CALLER_CHARS);
    StringBuilder out = new StringBuilder(n);
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      out.append(c >= 0x20 && c < 0x7f ? c : '?');
    }
    return out.toString();
  }

  /** A version as an RFC 9110 product-version token: anything else (spaces, say) would split the product. */
  private static String token(String version) {
    return version.replaceAll("[^A-Za-z0-9.+_-]", "-");
  }
}

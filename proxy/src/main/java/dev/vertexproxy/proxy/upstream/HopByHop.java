package dev.vertexproxy.proxy.upstream;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Header hygiene for both directions: hop-by-hop headers (RFC 9110 §7.6.1, and every header the {@code Connection}
 * header names) never cross the proxy, and caller credentials and Google steering headers never reach Google.
 *
 * <p>Framing is never decided here: {@link #strip} removes {@code Content-Length} and {@code Transfer-Encoding} in both
 * directions, and the proxy writes the framing of what it sends from what its own decoder read. A {@code Connection}
 * header that names a header the proxy relies on is refused before anything is stripped ({@link #protectedOption}),
 * because RFC 9110 lets a sender make any header hop-by-hop, and "hop-by-hop" would otherwise mean "deleted".
 */
public final class HopByHop {
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

  /**
   * The only {@code X-Goog-*} caller headers that reach Google. Google reads that family as instructions about routing
   * ({@code X-Goog-Request-Params}), billing ({@code X-Goog-User-Project}), credentials and hidden API surfaces
   * ({@code X-Goog-Visibilities}); the resource and project the policy decided on must be the ones Google acts on, so the
   * family is closed by default. These three only describe the client, filter the response or record a justification.
   */
  private static final Set<String> FORWARDED_GOOG = Set.of("x-goog-api-client", "x-goog-fieldmask", "x-goog-request-reason");

  /**
   * Headers a {@code Connection} option may not name, with the reason shown to the caller: framing, the target host,
   * credentials, and the {@code X-Goog-*} family.
   */
  private static final Map<String, String> PROTECTED = Map.of(
      "content-length", "Content-Length", "transfer-encoding", "Transfer-Encoding", "host", "Host",
      "authorization", "Authorization", "proxy-authorization", "Proxy-Authorization", "cookie", "Cookie");

  private HopByHop() {
  }

  /**
   * The display name of the first header the {@code Connection} header names that must never be made hop-by-hop, or
   * {@code null} when it names none. Such a request is refused: silently dropping the header would let the caller
   * decide the framing or the credential of what the proxy sends on.
   */
  public static String protectedOption(HttpHeaders headers) {
    for (String option : connectionOptions(headers)) {
      String name = PROTECTED.get(option);
      if (name != null) {
        return name;
      }
      if (option.startsWith("x-goog-")) {
        return "X-Goog-*";
      }
      if (option.startsWith("x-vertex-proxy-")) {
        return "X-Vertex-Proxy-*";
      }
    }
    return null;
  }

  /**
   * Removes hop-by-hop headers, those named in {@code Connection}, and the message framing ({@code Content-Length},
   * {@code Transfer-Encoding}): whoever sends the message on writes its framing from what was decoded.
   */
  public static void strip(HttpHeaders headers) {
    for (String n : connectionOptions(headers)) {
      headers.remove(n);
    }
    for (String n : HOP) {
      headers.remove(n);
    }
    headers.remove(HttpHeaderNames.CONTENT_LENGTH);
  }

  /** {@link #strip} plus every caller credential and every {@code X-Goog-*} header but the few Google only reads. */
  public static void stripForUpstream(HttpHeaders headers) {
    strip(headers);
    for (String n : CALLER_CREDENTIALS) {
      headers.remove(n);
    }
    List<String> goog = new ArrayList<>();
    for (String n : headers.names()) {
      String lower = n.toLowerCase(Locale.ROOT);
      if (lower.startsWith("x-goog-") && !FORWARDED_GOOG.contains(lower)) {
        goog.add(n);
      }
    }
    goog.forEach(headers::remove);
  }

  private static List<String> connectionOptions(HttpHeaders headers) {
    List<String> named = new ArrayList<>();
    for (String v : headers.getAll(HttpHeaderNames.CONNECTION)) {
      for (String token : v.split(",")) {
        String t = token.trim().toLowerCase(Locale.ROOT);
        if (!t.isEmpty()) {
          named.add(t);
        }
      }
    }
    return named;
  }
}

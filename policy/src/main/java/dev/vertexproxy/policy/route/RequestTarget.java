package dev.vertexproxy.policy.route;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * A request target (origin-form path and query) that passed the canonical-form checks: its path segments
 * percent-decoded, the {@code :verb} of the last segment split off, and the query's parameter names checked.
 *
 * <p>Design note: the proxy forwards the caller's bytes, so everything that a later hop might interpret differently
 * from us (dot segments, encoded separators, double encoding, empty segments, odd characters) is refused here rather
 * than normalized; what remains has exactly one reading. Escapes must decode to a character that could have been
 * written raw in a resource id, which also rules out {@code %00}, {@code %25} (double encoding), {@code %2F},
 * {@code %5C}, {@code %3A}, {@code %3F}, {@code %23}, {@code %3B}, controls and non-ASCII.
 *
 * <p>Immutable and thread-safe. No message of the exceptions thrown here echoes the caller's input beyond a single
 * visible ASCII character or a percent escape, so they are safe to log and to return.
 *
 * @param segments decoded path segments, the version segment included ({@code ["v1", "projects", "p", ...]}); the
 *                 last one without its verb
 * @param verb     the decoded custom verb after {@code :} in the last segment, or {@code null} when there is none
 */
record RequestTarget(List<String> segments, String verb) {

  static final String NOT_CANONICAL = "path-not-canonical";
  static final String QUERY_NOT_ALLOWED = "query-not-allowed";

  /** Query parameters (after dropping one leading {@code $}, any case) that must never reach Google. */
  private static final Set<String> FORBIDDEN_PARAMETERS = Set.of(
      "access_token", "oauth_token", "key", // credentials: the proxy alone decides which credential Google sees
      "callback",                           // JSONP: would turn a Vertex answer into script for any page
      "httpmethod",                         // $httpMethod: Google would execute another HTTP method than we checked
      "userproject");                       // billing and quota go to another project than the policy decided on

  static RequestTarget parse(String raw) throws RouteException {
    if (raw == null || raw.isEmpty() || raw.charAt(0) != '/') {
      throw notCanonical("the request target must be a path starting with '/'");
    }
    for (int i = 0; i < raw.length(); i++) {
      char c = raw.charAt(i);
      if (c <= 0x20 || c >= 0x7f) {
        throw notCanonical("control character, space or non-ASCII character at offset " + i);
      }
      if (c == '#') {
        throw notCanonical("a request target carries no fragment ('#')");
      }
      if (c == '\\') {
        throw notCanonical("'\\' is not allowed in a request target");
      }
    }
    int q = raw.indexOf('?');
    String path = q < 0 ? raw : raw.substring(0, q);
    if (q >= 0) {
      checkQuery(raw.substring(q + 1));
    }
    return parsePath(path);
  }

  private static RequestTarget parsePath(String path) throws RouteException {
    List<String> segments = new ArrayList<>();
    int start = 1;
    while (true) {
      int slash = path.indexOf('/', start);
      int end = slash < 0 ? path.length() : slash;
      if (start == end) {
        throw notCanonical(slash < 0 && start > 1 ? "trailing '/'" : "empty path segment ('//')");
      }
      if (slash < 0) {
        String last = path.substring(start, end);
        int colon = last.indexOf(':');
        if (colon < 0) {
          segments.add(decodeSegment(last));
          return new RequestTarget(List.copyOf(segments), null);
        }
        if (colon == 0) {
          throw notCanonical("empty path segment before ':'");
        }
        segments.add(decodeSegment(last.substring(0, colon)));
        return new RequestTarget(List.copyOf(segments), decode(last.substring(colon + 1)));
      }
      segments.add(decodeSegment(path.substring(start, end)));
      start = slash + 1;
    }
  }

  private static String decodeSegment(String raw) throws RouteException {
    String decoded = decode(raw);
    if (decoded.equals(".") || decoded.equals("..")) {
      throw notCanonical("dot segment in path");
    }
    return decoded;
  }

  /** Percent-decodes one path segment (or verb), refusing anything but plain resource-id characters. */
  private static String decode(String raw) throws RouteException {
    if (raw.indexOf('%') < 0) {
      for (int i = 0; i < raw.length(); i++) {
        checkRaw(raw.charAt(i));
      }
      return raw;
    }
    StringBuilder out = new StringBuilder(raw.length());
    for (int i = 0; i < raw.length(); i++) {
      char c = raw.charAt(i);
      if (c == '%') {
        int b = escapedByte(raw, i);
        if (!isIdChar((char) b)) {
          throw notCanonical("percent escape " + raw.substring(i, i + 3).toUpperCase(Locale.ROOT)
              + " is not allowed in a path");
        }
        out.append((char) b);
        i += 2;
      } else {
        checkRaw(c);
        out.append(c);
      }
    }
    return out.toString();
  }

  private static void checkRaw(char c) throws RouteException {
    if (!isIdChar(c) && c != ':') {
      throw notCanonical("character '" + c + "' is not allowed in a path");
    }
  }

  /**
   * RFC 3986 {@code pchar} without {@code ':'} (it separates the verb) and {@code ';'} (some servers read it as a
   * path parameter): unreserved characters, the remaining sub-delims and {@code '@'} (model versions).
   */
  private static boolean isIdChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
        || "-._~!$&'()*+,=@".indexOf(c) >= 0;
  }

  /** The byte value of the escape at {@code raw[i]} ({@code '%'}), or refuses a malformed or truncated one. */
  private static int escapedByte(String raw, int i) throws RouteException {
    if (i + 2 >= raw.length()) {
      throw notCanonical("truncated percent escape");
    }
    int hi = Character.digit(raw.charAt(i + 1), 16);
    int lo = Character.digit(raw.charAt(i + 2), 16);
    if (hi < 0 || lo < 0) {
      throw notCanonical("malformed percent escape");
    }
    return hi << 4 | lo;
  }

  /**
   * Checks the query string: escapes well-formed everywhere, parameter names of the shape
   * {@code ^\$?[A-Za-z_][A-Za-z0-9_.\-]*$} and none that carries a credential, JSONP or a method override. Values are
   * not interpreted (they may legitimately hold encoded {@code /}, e.g. page tokens).
   */
  private static void checkQuery(String query) throws RouteException {
    for (int i = 0; i < query.length(); i++) {
      if (query.charAt(i) == '%') {
        escapedByte(query, i);
        i += 2;
      }
    }
    int start = 0;
    while (start <= query.length()) {
      int amp = query.indexOf('&', start);
      int end = amp < 0 ? query.length() : amp;
      if (end > start) {
        int eq = query.indexOf('=', start);
        checkParameterName(query.substring(start, eq < 0 || eq > end ? end : eq));
      }
      start = end + 1;
    }
  }

  private static void checkParameterName(String rawName) throws RouteException {
    StringBuilder name = new StringBuilder(rawName.length());
    for (int i = 0; i < rawName.length(); i++) {
      char c = rawName.charAt(i);
      if (c == '%') {
        name.append((char) escapedByte(rawName, i)); // well-formed: checked over the whole query
        i += 2;
      } else {
        name.append(c == '+' ? ' ' : c);
      }
    }
    String n = name.toString();
    if (!isParameterName(n)) {
      throw new RouteException(QUERY_NOT_ALLOWED,
          "query parameter name not allowed (expected: ^\\$?[A-Za-z_][A-Za-z0-9_.\\-]*$)");
    }
    String bare = (n.charAt(0) == '$' ? n.substring(1) : n).toLowerCase(Locale.ROOT);
    if (FORBIDDEN_PARAMETERS.contains(bare)) {
      throw new RouteException(QUERY_NOT_ALLOWED, "query parameter '" + n + "' is not allowed: "
          + (bare.equals("callback") ? "JSONP is not supported"
          : bare.equals("httpmethod") ? "the HTTP method cannot be overridden"
          : bare.equals("userproject") ? "billing and quota go to the project in the path"
          : "send credentials in the Authorization header"));
    }
  }

  /** {@code ^\$?[A-Za-z_][A-Za-z0-9_.\-]*$}, without a regex. */
  static boolean isParameterName(CharSequence n) {
    int i = n.length() > 0 && n.charAt(0) == '$' ? 1 : 0;
    if (i >= n.length()) {
      return false;
    }
    char first = n.charAt(i);
    if (!(first == '_' || (first >= 'a' && first <= 'z') || (first >= 'A' && first <= 'Z'))) {
      return false;
    }
    for (i++; i < n.length(); i++) {
      char c = n.charAt(i);
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.'
          || c == '-')) {
        return false;
      }
    }
    return true;
  }

  private static RouteException notCanonical(String message) {
    return new RouteException(NOT_CANONICAL, message);
  }
}

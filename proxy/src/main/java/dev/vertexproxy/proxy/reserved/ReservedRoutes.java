package dev.vertexproxy.proxy.reserved;

import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * The routes the proxy answers itself, and the rule that keeps them apart from Vertex: every path under
 * {@code /_proxy/} or {@code /.well-known/} (and {@code /_proxy} itself) is reserved — no Vertex method lives there —
 * so it is served by an endpoint registered here or refused 404, and never routed to Google. Paths match exactly, as
 * received (no decoding, no trailing-slash guessing): anything else under the prefixes is unknown. Immutable.
 */
public final class ReservedRoutes {
  /** The largest body a reserved route reads: forms and token requests are small; more is refused 413. */
  public static final int MAX_BODY_BYTES = 64 * 1024;

  /**
   * Headers every reserved answer carries unless its endpoint set its own: nothing is cached (they hold tokens and
   * personal data), nothing may frame them (clickjacking), nothing is sniffed or leaked through the referrer, and a
   * page without its own policy may load nothing at all.
   */
  public static final Map<String, String> SECURITY_HEADERS = securityHeaders();

  private static final ReservedRoutes NONE = builder().build();

  /** One registered route. */
  public record Route(HttpMethod method, String path, ReservedEndpoint endpoint) {
  }

  /**
   * What a request's method and path found.
   *
   * @param endpoint the route's endpoint; {@code null} when none matched
   * @param allowed  the methods the path serves when it is known but not for this method (405); else empty
   */
  public record Match(ReservedEndpoint endpoint, List<HttpMethod> allowed) {
    public boolean found() {
      return endpoint != null;
    }

    /** The {@code Allow} header value of a 405. */
    public String allowHeader() {
      return allowed.stream().map(HttpMethod::name).collect(Collectors.joining(", "));
    }
  }

  private final Map<String, Map<HttpMethod, ReservedEndpoint>> byPath;

  private ReservedRoutes(Map<String, Map<HttpMethod, ReservedEndpoint>> byPath) {
    this.byPath = byPath;
  }

  /** No reserved endpoints: every reserved path is refused 404 (the proxy has no {@code sessions}). */
  public static ReservedRoutes none() {
    return NONE;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Whether {@code path} (without query) is under a reserved prefix, whether or not an endpoint serves it. */
  public static boolean reserved(String path) {
    return path.startsWith("/_proxy/") || path.equals("/_proxy") || path.startsWith("/.well-known/")
        || path.equals("/.well-known");
  }

  /** The endpoint for {@code method} on {@code path}; a known path asked with another method lists what it serves. */
  public Match match(HttpMethod method, String path) {
    Map<HttpMethod, ReservedEndpoint> methods = byPath.get(path);
    if (methods == null) {
      return new Match(null, List.of());
    }
    ReservedEndpoint e = methods.get(method);
    return e != null ? new Match(e, List.of()) : new Match(null, List.copyOf(methods.keySet()));
  }

  /** The registered paths, in registration order (tests and the docs' list). */
  public List<String> paths() {
    return List.copyOf(byPath.keySet());
  }

  /** Sets every {@link #SECURITY_HEADERS} header {@code headers} does not have yet. */
  public static void addSecurityHeaders(HttpHeaders headers) {
    SECURITY_HEADERS.forEach((name, value) -> {
      if (!headers.contains(name)) {
        headers.set(name, value);
      }
    });
  }

  private static Map<String, String> securityHeaders() {
    Map<String, String> h = new LinkedHashMap<>();
    h.put("Cache-Control", "no-store");
    h.put("Pragma", "no-cache");
    h.put("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
    h.put("X-Frame-Options", "DENY");
    h.put("X-Content-Type-Options", "nosniff");
    h.put("Referrer-Policy", "no-referrer");
    h.put("Cross-Origin-Resource-Policy", "same-origin");
    return Collections.unmodifiableMap(h);
  }

  /** Collects routes; a path and method registered twice is a programming error. */
  public static final class Builder {
    private final Map<String, Map<HttpMethod, ReservedEndpoint>> byPath = new LinkedHashMap<>();

    private Builder() {
    }

    public Builder add(HttpMethod method, String path, ReservedEndpoint endpoint) {
      Objects.requireNonNull(endpoint, "endpoint");
      if (!reserved(path) || path.contains("?") || path.contains("%") || path.contains("..")) {
        throw new IllegalArgumentException("not a plain reserved path: " + path);
      }
      if (byPath.computeIfAbsent(path, p -> new LinkedHashMap<>()).putIfAbsent(method, endpoint) != null) {
        throw new IllegalArgumentException("registered twice: " + method + " " + path);
      }
      return this;
    }

    public ReservedRoutes build() {
      Map<String, Map<HttpMethod, ReservedEndpoint>> copy = new LinkedHashMap<>();
      byPath.forEach((p, m) -> copy.put(p, Collections.unmodifiableMap(new LinkedHashMap<>(m))));
      return new ReservedRoutes(Collections.unmodifiableMap(copy));
    }
  }
}

package dev.vertexproxy.proxy.upstream;

import java.net.URI;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * Maps a Vertex location to the origin that serves it. With the default template this follows Google's endpoints:
 * {@code {location}-aiplatform.googleapis.com} for regions, {@code aiplatform.googleapis.com} for {@code global},
 * {@code aiplatform.{us,eu}.rep.googleapis.com} for the multi-regions. A custom {@code upstream.url_template} (tests,
 * Private Service Connect) is taken as written, with {@code {location}} substituted. Locations that are not plain DNS
 * labels are refused, so a path can never steer the proxy to another host.
 *
 * <p>Every request asks for its location's origin, so the answer for a valid location is kept (a regex match and a
 * URI parse per request otherwise). The location comes from the caller's path, so the cache is bounded: past
 * {@value #MAX_CACHED} locations — far more than Google has — an origin is computed and validated per call as before,
 * and only ever a validated location is a key. Thread-safe.
 */
public final class UpstreamHosts {
  private static final Pattern LOCATION = Pattern.compile("[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?");
  private final String template;
  private final boolean googleDefault;
  /** Locations seen so far (all of them valid) and their origins; never more than {@link #MAX_CACHED}. */
  private final Map<String, Origin> known = new ConcurrentHashMap<>();
  static final int MAX_CACHED = 512;

  public UpstreamHosts(String urlTemplate) {
    this.template = urlTemplate;
    this.googleDefault = urlTemplate.equals("https://{location}-aiplatform.googleapis.com");
  }

  /** True when the location can be put into a host name. */
  public static boolean validLocation(String location) {
    return location != null && LOCATION.matcher(location).matches();
  }

  /** The origin for a location; throws {@link IllegalArgumentException} for a location that is not a DNS label. */
  public Origin originFor(String location) {
    Origin cached = location == null ? null : known.get(location);
    if (cached != null) {
      return cached;
    }
    Origin origin = compute(location);
    if (known.size() < MAX_CACHED) {
      known.putIfAbsent(location, origin); // racing first calls can pass the bound by at most one per thread
    }
    return origin;
  }

  /** How many locations' origins are kept (for tests of the bound). */
  int cachedLocations() {
    return known.size();
  }

  private Origin compute(String location) {
    if (!validLocation(location)) {
      throw new IllegalArgumentException("location is not a valid DNS label");
    }
    String url;
    if (googleDefault && location.equals("global")) {
      url = "https://aiplatform.googleapis.com";
    } else if (googleDefault && (location.equals("us") || location.equals("eu"))) {
      url = "https://aiplatform." + location + ".rep.googleapis.com";
    } else {
      url = template.replace("{location}", location);
    }
    URI u = URI.create(url);
    boolean tls = "https".equals(u.getScheme());
    int port = u.getPort() > 0 ? u.getPort() : (tls ? 443 : 80);
    return new Origin(tls, u.getHost(), port);
  }
}

package dev.vertexproxy.proxy.upstream;

import java.net.URI;
import java.util.regex.Pattern;

/**
 * Maps a Vertex location to the origin that serves it. With the default template this follows Google's endpoints:
 * {@code {location}-aiplatform.googleapis.com} for regions, {@code aiplatform.googleapis.com} for {@code global},
 * {@code aiplatform.{us,eu}.rep.googleapis.com} for the multi-regions. A custom {@code upstream.url_template} (tests,
 * Private Service Connect) is taken as written, with {@code {location}} substituted. Locations that are not plain DNS
 * labels are refused, so a path can never steer the proxy to another host. Immutable and thread-safe.
 */
public final class UpstreamHosts {
  private static final Pattern LOCATION = Pattern.compile("[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?");
  private final String template;
  private final boolean googleDefault;

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

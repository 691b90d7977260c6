package dev.vertexproxy.proxy.cli;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;

/**
 * The base URL of a proxy as a person names it with {@code --proxy}, in the one spelling the session store keys by: a
 * lower-case scheme and host, no default port, no trailing slash. So {@code HTTPS://Proxy.example.com:443/} and
 * {@code https://proxy.example.com} are the same session.
 *
 * <p>It refuses what would put a session token at risk or make the key ambiguous: user info, a query, a fragment, a
 * path (the proxy serves its reserved routes at the root), and plain {@code http} to anything but a loopback address —
 * a session token is a bearer credential, so it travels over TLS unless it never leaves the machine (dev mode).
 *
 * @param value the normalized URL, e.g. {@code https://vertex-proxy.example.com}
 */
record ProxyUrl(String value) {
  private static final String EXPECTED = " (expected: the proxy's base URL, such as https://vertex-proxy.example.com)";

  /** Parses and normalizes what a person typed; the message of the exception says what was wrong and what is expected. */
  static ProxyUrl parse(String text) throws CliException {
    if (text == null || text.isBlank()) {
      throw new CliException("no proxy named: pass --proxy URL or set VERTEX_PROXY_URL" + EXPECTED);
    }
    URI u;
    try {
      u = new URI(text.strip());
    } catch (URISyntaxException e) {
      throw new CliException("--proxy " + HealthcheckCommand.printable(text) + " is not a URL" + EXPECTED);
    }
    if (u.getRawUserInfo() != null) {
      throw new CliException("--proxy must not carry user info" + EXPECTED); // not echoed: it may hold a password
    }
    String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("https") && !scheme.equals("http") || u.getHost() == null) {
      throw new CliException("--proxy " + HealthcheckCommand.printable(text) + EXPECTED);
    }
    if (u.getRawQuery() != null || u.getRawFragment() != null
        || u.getRawPath() != null && !u.getRawPath().isEmpty() && !u.getRawPath().equals("/")) {
      throw new CliException("--proxy " + HealthcheckCommand.printable(text) + " has a path, query or fragment" + EXPECTED);
    }
    String host = u.getHost().toLowerCase(Locale.ROOT);
    if (scheme.equals("http") && !isLoopback(host)) {
      throw new CliException("--proxy " + HealthcheckCommand.printable(text)
          + ": plain http is only for a proxy on this machine (127.0.0.1, [::1], localhost); use https");
    }
    int port = u.getPort();
    boolean defaultPort = port == -1 || scheme.equals("https") && port == 443 || scheme.equals("http") && port == 80;
    return new ProxyUrl(scheme + "://" + host + (defaultPort ? "" : ":" + port));
  }

  static boolean isLoopback(String host) {
    return host.equals("localhost") || host.equals("[::1]") || host.equals("::1") || host.startsWith("127.")
        && host.chars().allMatch(c -> c == '.' || c >= '0' && c <= '9');
  }

  /** This proxy's URL for a reserved path such as {@code /_proxy/oauth/token}. */
  URI resolve(String path) {
    return URI.create(value + path);
  }

  @Override
  public String toString() {
    return value;
  }
}

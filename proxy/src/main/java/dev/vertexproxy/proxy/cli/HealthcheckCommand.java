package dev.vertexproxy.proxy.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.net.HttpURLConnection;
import java.net.Proxy;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code vertex-proxy healthcheck [URL]}: one {@code GET} of a health endpoint, exit 0 on a 2xx answer and 1 on anything
 * else — for a container {@code HEALTHCHECK}, since the runtime image has no curl or wget.
 *
 * <p>It is deliberately narrow: plain {@code http} only (the admin listener speaks nothing else), no redirects followed
 * (a health endpoint that redirects is not healthy), no proxy from the environment, one connect and one read timeout,
 * and at most {@value #MAX_ECHO} characters of the answer echoed with control characters replaced, so what Docker keeps
 * as the probe's output stays short and cannot carry terminal escapes. It never exits 2, which Docker reserves.
 */
@Command(name = "healthcheck", mixinStandardHelpOptions = true,
    description = "GET a health URL once; exit 0 on a 2xx answer, 1 otherwise (for container HEALTHCHECKs).")
final class HealthcheckCommand implements Callable<Integer> {
  static final int MAX_ECHO = 200;
  private static final Pattern TIMEOUT = Pattern.compile("([0-9]{1,6})(ms|s)");

  @Parameters(index = "0", arity = "0..1", defaultValue = "http://127.0.0.1:9090/healthz",
      description = "The URL to GET (default: ${DEFAULT-VALUE}, the admin listener's liveness endpoint).")
  String url;

  @Option(names = "--timeout", defaultValue = "3s",
      description = "Connect and read timeout, e.g. 500ms or 3s (default: ${DEFAULT-VALUE}).")
  String timeout;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    try {
      int millis = timeoutMillis(timeout);
      URI target = target(url);
      int status = get(target, millis, out);
      return status >= 200 && status < 300 ? 0 : 1;
    } catch (IllegalArgumentException e) {
      err.println("healthcheck: " + e.getMessage());
      return 1;
    } catch (IOException e) {
      err.println("healthcheck: unhealthy: " + url + ": " + printable(String.valueOf(e.getMessage())));
      return 1;
    } finally {
      out.flush();
      err.flush();
    }
  }

  private static int get(URI target, int millis, PrintWriter out) throws IOException {
    HttpURLConnection c = (HttpURLConnection) target.toURL().openConnection(Proxy.NO_PROXY);
    try {
      c.setInstanceFollowRedirects(false);
      c.setUseCaches(false);
      c.setConnectTimeout(millis);
      c.setReadTimeout(millis);
      c.setRequestProperty("Accept", "text/plain");
      int status = c.getResponseCode();
      InputStream body = status >= 400 ? c.getErrorStream() : c.getInputStream();
      String text = "";
      if (body != null) {
        try (InputStream in = body) {
          text = new String(in.readNBytes(MAX_ECHO), StandardCharsets.UTF_8);
        }
      }
      out.println((status >= 200 && status < 300 ? "healthy: " : "unhealthy: ") + status + " " + printable(text.strip()));
      return status;
    } finally {
      c.disconnect();
    }
  }

  static URI target(String url) {
    String expected = " (expected: an http URL without credentials, such as http://127.0.0.1:9090/healthz)";
    URI u;
    try {
      u = URI.create(url);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("not a URL: " + printable(url) + expected);
    }
    if (u.getRawUserInfo() != null) {
      throw new IllegalArgumentException("a URL with credentials in it" + expected); // not echoed: it holds a secret
    }
    if (!"http".equals(u.getScheme()) || u.getHost() == null) {
      throw new IllegalArgumentException(printable(url) + expected);
    }
    return u;
  }

  static int timeoutMillis(String value) {
    Matcher m = TIMEOUT.matcher(value.toLowerCase(Locale.ROOT));
    if (!m.matches()) {
      throw new IllegalArgumentException("--timeout " + printable(value) + " (expected: e.g. 500ms or 3s)");
    }
    long n = Long.parseLong(m.group(1)) * ("s".equals(m.group(2)) ? 1000 : 1);
    if (n < 1 || n > 60_000) {
      throw new IllegalArgumentException("--timeout " + value + " (expected: 1ms..60s)");
    }
    return (int) n;
  }

  /** At most {@link #MAX_ECHO} characters, control characters (escape sequences included) replaced by '?'. */
  static String printable(String s) {
    StringBuilder b = new StringBuilder(Math.min(s.length(), MAX_ECHO));
    for (int i = 0; i < s.length() && b.length() < MAX_ECHO; i++) {
      char ch = s.charAt(i);
      b.append(Character.isISOControl(ch) || Character.getType(ch) == Character.FORMAT ? '?' : ch);
    }
    return b.toString();
  }
}

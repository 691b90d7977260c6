package dev.vertexproxy.proxy.cli;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The loopback redirect target of the CLI's browser login (RFC 8252 §7.3): an HTTP listener on {@code 127.0.0.1} at a
 * port the kernel picks, alive only while one login waits, that takes exactly one {@code GET /callback} carrying the
 * expected {@code state} and hands its {@code code} (or {@code error}) to the waiting login.
 *
 * <p>Any local process can connect to a loopback port, so the {@code state} is what makes an answer ours: a callback
 * with another or no state is answered 400 and ignored — the login keeps waiting for the real one instead of failing on
 * a stray or hostile request. The page shown in the browser carries no script, no links and no referrer, so the code in
 * its address goes nowhere else; the code is useless without the PKCE verifier, which never leaves this process.
 */
final class LoopbackReceiver implements AutoCloseable {
  static final String PATH = "/callback";

  /**
   * What the browser brought back.
   *
   * @param code the authorization code, or null on an error
   * @param error the OAuth error code (RFC 6749 §4.1.2.1), or null on success
   * @param description the error's description, printable, or empty
   */
  record Callback(String code, String error, String description) {
    @Override
    public String toString() {
      return "Callback[error=" + error + "]";
    }
  }

  private final HttpServer server;
  private final byte[] state;
  private final CompletableFuture<Callback> result = new CompletableFuture<>();

  private LoopbackReceiver(HttpServer server, String state) {
    this.server = server;
    this.state = state.getBytes(StandardCharsets.US_ASCII);
  }

  /** Starts listening on a free loopback port for the callback of the login whose {@code state} is given. */
  static LoopbackReceiver start(String state) throws CliException {
    HttpServer server;
    try {
      server = HttpServer.create(new InetSocketAddress(InetAddress.getByAddress(new byte[] {127, 0, 0, 1}), 0), 0);
    } catch (IOException e) {
      throw new CliException("could not listen on 127.0.0.1 for the browser's answer: " + e.getMessage(), e);
    }
    LoopbackReceiver r = new LoopbackReceiver(server, state);
    server.createContext("/", r::handle);
    server.start();
    return r;
  }

  /** The {@code redirect_uri} to hand the proxy: this listener's callback. */
  String redirectUri() {
    return "http://127.0.0.1:" + server.getAddress().getPort() + PATH;
  }

  /** Waits for the callback; a person who never finishes in the browser gets a clear error after {@code timeout}. */
  Callback await(Duration timeout) throws CliException {
    try {
      return result.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw new CliException("the browser did not come back within " + timeout.toMinutes()
          + " min; run login again, or with --device to sign in from any browser");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CliException("interrupted while waiting for the browser", e);
    } catch (ExecutionException e) {
      throw new CliException("the loopback listener failed: " + e.getCause().getMessage(), e.getCause());
    }
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      if (!"GET".equals(exchange.getRequestMethod()) || !PATH.equals(exchange.getRequestURI().getRawPath())) {
        reply(exchange, 404, "Not found", "This address only takes the vertex-proxy CLI's sign-in answer.");
        return;
      }
      Map<String, String> q = query(exchange.getRequestURI().getRawQuery());
      String presented = q.get("state");
      if (presented == null || !MessageDigest.isEqual(state, presented.getBytes(StandardCharsets.US_ASCII))) {
        reply(exchange, 400, "Not this sign-in", "This answer does not belong to the sign-in the CLI is waiting for.");
        return;
      }
      if (result.isDone()) {
        reply(exchange, 409, "Already done", "This sign-in has already been answered; return to the terminal.");
        return;
      }
      if (q.containsKey("error")) {
        String d = HealthcheckCommand.printable(q.getOrDefault("error_description", ""));
        result.complete(new Callback(null, HealthcheckCommand.printable(q.get("error")), d));
        reply(exchange, 200, "Sign-in not completed", "The CLI was told why; return to the terminal.");
      } else if (q.get("code") != null && !q.get("code").isEmpty()) {
        result.complete(new Callback(q.get("code"), null, ""));
        reply(exchange, 200, "Signed in", "The vertex-proxy CLI is signed in. You can close this tab.");
      } else {
        reply(exchange, 400, "No code", "This answer carries neither a code nor an error.");
      }
    }
  }

  private static Map<String, String> query(String raw) {
    Map<String, String> m = new HashMap<>();
    if (raw == null) {
      return m;
    }
    for (String pair : raw.split("&")) {
      int eq = pair.indexOf('=');
      String k = eq < 0 ? pair : pair.substring(0, eq);
      String v = eq < 0 ? "" : pair.substring(eq + 1);
      try {
        m.putIfAbsent(URLDecoder.decode(k, StandardCharsets.UTF_8), URLDecoder.decode(v, StandardCharsets.UTF_8));
      } catch (IllegalArgumentException e) {
        // a malformed escape: the pair is not ours
      }
    }
    return m;
  }

  private static void reply(HttpExchange exchange, int status, String title, String text) throws IOException {
    String html = "<!doctype html><html><head><meta charset=\"utf-8\"><title>" + title + "</title></head><body><h1>"
        + title + "</h1><p>" + text + "</p></body></html>\n";
    byte[] bytes = html.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", "text/html; charset=utf-8");
    exchange.getResponseHeaders().set("Cache-Control", "no-store");
    exchange.getResponseHeaders().set("Referrer-Policy", "no-referrer");
    exchange.getResponseHeaders().set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
    exchange.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}

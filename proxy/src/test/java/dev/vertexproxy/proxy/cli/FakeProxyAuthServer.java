package dev.vertexproxy.proxy.cli;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Base64;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small stand-in for the proxy's OAuth endpoints, on a real loopback socket, for the CLI's unit tests: it checks what
 * the real server must check of the CLI (PKCE S256, the same {@code redirect_uri}, one-time codes) and answers device
 * polls from a script, so each test decides what the person did in the browser. The real server is tested against the
 * CLI in the end-to-end tests; this one keeps the client's branches fast and exact.
 */
final class FakeProxyAuthServer implements AutoCloseable {
  private final HttpServer server;
  final List<String> requests = new CopyOnWriteArrayList<>();
  final List<Map<String, String>> tokenForms = new CopyOnWriteArrayList<>();
  final List<String> revokedBearers = new CopyOnWriteArrayList<>();
  final Map<String, String[]> codes = new ConcurrentHashMap<>(); // code -> {challenge, redirect_uri}
  final Deque<Object[]> devicePolls = new ArrayDeque<>(); // {status, error} or {200, null}
  final AtomicInteger issued = new AtomicInteger();
  volatile String authorizeError;
  volatile long expiresIn = 8 * 3600;
  volatile long deviceExpiresIn = 600;
  volatile int deviceCodeStatus = 200;
  volatile int revokeStatus = 200;
  volatile String subject = "alice@example.com";

  FakeProxyAuthServer() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/", this::handle);
    server.start();
  }

  String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  /** An unsigned JWT naming the subject: the CLI reads it for display only. */
  String token(int n) {
    String payload = "{\"sub\":\"" + subject + "\",\"email\":\"" + subject + "\",\"n\":" + n + "}";
    Base64.Encoder b = Base64.getUrlEncoder().withoutPadding();
    return b.encodeToString("{\"alg\":\"none\"}".getBytes(StandardCharsets.UTF_8)) + "."
        + b.encodeToString(payload.getBytes(StandardCharsets.UTF_8)) + ".";
  }

  private void handle(HttpExchange ex) throws IOException {
    try (ex) {
      String path = ex.getRequestURI().getRawPath();
      requests.add(ex.getRequestMethod() + " " + path);
      Map<String, String> q = parse(ex.getRequestURI().getRawQuery());
      Map<String, String> form = "POST".equals(ex.getRequestMethod())
          ? parse(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8)) : Map.of();
      switch (path) {
        case "/_proxy/cli/authorize" -> authorize(ex, q);
        case "/_proxy/oauth/token" -> token(ex, form);
        case "/_proxy/device/code" -> {
          if (deviceCodeStatus != 200) {
            json(ex, deviceCodeStatus, "{\"error\":{\"code\":404,\"message\":\"no\",\"status\":\"NOT_FOUND\"}}");
          } else {
            json(ex, 200, "{\"device_code\":\"dev-code-1\",\"user_code\":\"WDJB-MJHT\",\"verification_uri\":\"" + url()
                + "/_proxy/device\",\"verification_uri_complete\":\"" + url() + "/_proxy/device?user_code=WDJB-MJHT\","
                + "\"expires_in\":" + deviceExpiresIn + ",\"interval\":5}");
          }
        }
        case "/_proxy/oauth/revoke" -> {
          String auth = ex.getRequestHeaders().getFirst("Authorization");
          revokedBearers.add(auth == null ? "" : auth.substring("Bearer ".length()));
          json(ex, revokeStatus, revokeStatus == 200 ? "{}" : "{\"error\":\"server_error\"}");
        }
        default -> json(ex, 404, "{}");
      }
    }
  }

  private void authorize(HttpExchange ex, Map<String, String> q) throws IOException {
    String redirect = q.get("redirect_uri");
    if (!"code".equals(q.get("response_type")) || !"vertex-proxy-cli".equals(q.get("client_id"))
        || !"S256".equals(q.get("code_challenge_method")) || redirect == null
        || !redirect.startsWith("http://127.0.0.1:") || q.get("state") == null) {
      json(ex, 400, "{\"error\":\"invalid_request\"}");
      return;
    }
    String location;
    if (authorizeError != null) {
      location = redirect + "?error=" + authorizeError + "&error_description=" + enc("the person said no")
          + "&state=" + enc(q.get("state"));
    } else {
      String code = "code-" + codes.size();
      codes.put(code, new String[] {q.get("code_challenge"), redirect});
      location = redirect + "?code=" + code + "&state=" + enc(q.get("state"));
    }
    ex.getResponseHeaders().set("Location", location);
    ex.sendResponseHeaders(302, -1);
  }

  private void token(HttpExchange ex, Map<String, String> form) throws IOException {
    tokenForms.add(form);
    String grant = form.getOrDefault("grant_type", "");
    if (grant.equals("authorization_code")) {
      String[] c = codes.remove(form.getOrDefault("code", ""));
      if (c == null || !c[1].equals(form.get("redirect_uri"))
          || !c[0].equals(LoginFlow.challenge(form.getOrDefault("code_verifier", "")))) {
        json(ex, 400, "{\"error\":\"invalid_grant\",\"error_description\":\"the code is not valid for this request\"}");
        return;
      }
      success(ex);
    } else if (grant.equals(ProxyOAuthClient.DEVICE_GRANT) && "dev-code-1".equals(form.get("device_code"))) {
      Object[] next;
      synchronized (devicePolls) {
        next = devicePolls.isEmpty() ? new Object[] {400, "authorization_pending"} : devicePolls.poll();
      }
      if ((int) next[0] == 200) {
        success(ex);
      } else if (next[1] == null) {
        json(ex, (int) next[0], "");
      } else {
        json(ex, (int) next[0], "{\"error\":\"" + next[1] + "\"}");
      }
    } else {
      json(ex, 400, "{\"error\":\"unsupported_grant_type\"}");
    }
  }

  private void success(HttpExchange ex) throws IOException {
    json(ex, 200, "{\"access_token\":\"" + token(issued.incrementAndGet()) + "\",\"token_type\":\"Bearer\","
        + "\"expires_in\":" + expiresIn + "}");
  }

  private static void json(HttpExchange ex, int status, String body) throws IOException {
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "application/json");
    ex.sendResponseHeaders(status, b.length == 0 ? -1 : b.length);
    if (b.length > 0) {
      try (OutputStream o = ex.getResponseBody()) {
        o.write(b);
      }
    }
  }

  static Map<String, String> parse(String raw) {
    Map<String, String> m = new HashMap<>();
    if (raw == null || raw.isEmpty()) {
      return m;
    }
    for (String pair : raw.split("&")) {
      int eq = pair.indexOf('=');
      m.put(URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8),
          eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
    }
    return m;
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  @Override
  public void close() {
    server.stop(0);
  }
}

package dev.vertexproxy.emulators;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * The dev issuer's second face: a company identity provider for people, under {@code /people} — an OpenID Connect
 * provider with the authorization code flow (PKCE S256 required, one-time codes, {@code nonce} echoed), so dev mode can
 * show the proxy's browser, device and CLI logins without a real IdP. Its issuer URL is {@code <dev issuer>/people}, its
 * own {@code iss}, distinct from the CI face's.
 *
 * <p>Who logs in: the authorize page offers a form (any e-mail and groups, defaults {@code alice@example.com} in
 * {@code ml-team}); {@code login_hint} skips the form for scripts and tests, with the groups of the small built-in
 * directory ({@code alice@example.com}: ml-team, {@code bob@example.com}: finance). Any client id is accepted (it is
 * echoed as {@code aud}); a client secret, if sent, is ignored. Loopback only, like the rest of the dev issuer.
 */
final class DevPeopleIdp {
  static final String PREFIX = "/people";
  private static final Duration CODE_LIFETIME = Duration.ofSeconds(60);
  private static final long ID_TOKEN_SECONDS = 300;
  private static final Map<String, List<String>> DIRECTORY = Map.of(
      "alice@example.com", List.of("ml-team"), "bob@example.com", List.of("finance"));
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final SecureRandom RANDOM = new SecureRandom();

  private final URI issuer;
  private final Clock clock;
  private final Function<Map<String, Object>, String> signer;
  private final Map<String, Grant> codes = new ConcurrentHashMap<>();

  private record Grant(String clientId, String redirectUri, String challenge, String nonce, String email,
      List<String> groups, Instant expires) {
  }

  DevPeopleIdp(URI devIssuer, Clock clock, Function<Map<String, Object>, String> signer) {
    this.issuer = URI.create(devIssuer + PREFIX);
    this.clock = clock;
    this.signer = signer;
  }

  URI issuer() {
    return issuer;
  }

  void handle(HttpExchange exchange, String jwks) throws IOException {
    String path = exchange.getRequestURI().getPath().substring(PREFIX.length());
    String method = exchange.getRequestMethod();
    switch (path) {
      case "/.well-known/openid-configuration" -> DevIssuer.respondJson(exchange, 200, discovery());
      case "/jwks" -> DevIssuer.respond(exchange, 200, "application/json", jwks);
      case "/authorize" -> {
        Map<String, String> q = "POST".equals(method) ? form(exchange) : params(exchange.getRequestURI().getRawQuery());
        authorize(exchange, q, "POST".equals(method));
      }
      case "/token" -> {
        if (!"POST".equals(method)) {
          oauthError(exchange, 405, "invalid_request", "POST only");
        } else {
          token(exchange, form(exchange));
        }
      }
      default -> oauthError(exchange, 404, "invalid_request", "no such endpoint on the dev identity provider");
    }
  }

  private Map<String, Object> discovery() {
    Map<String, Object> d = new LinkedHashMap<>();
    d.put("issuer", issuer.toString());
    d.put("authorization_endpoint", issuer + "/authorize");
    d.put("token_endpoint", issuer + "/token");
    d.put("jwks_uri", issuer + "/jwks");
    d.put("response_types_supported", List.of("code"));
    d.put("grant_types_supported", List.of("authorization_code"));
    d.put("code_challenge_methods_supported", List.of("S256"));
    d.put("subject_types_supported", List.of("public"));
    d.put("id_token_signing_alg_values_supported", List.of("RS256"));
    d.put("scopes_supported", List.of("openid", "email", "profile", "groups"));
    d.put("token_endpoint_auth_methods_supported", List.of("none", "client_secret_post", "client_secret_basic"));
    return d;
  }

  private void authorize(HttpExchange exchange, Map<String, String> q, boolean submitted) throws IOException {
    String redirect = q.get("redirect_uri");
    if (redirect == null || !redirect.startsWith("http") || q.get("client_id") == null) {
      DevIssuer.respond(exchange, 400, "text/plain; charset=utf-8", "redirect_uri and client_id are required\n");
      return;
    }
    if (!"code".equals(q.get("response_type")) || q.get("code_challenge") == null
        || !"S256".equals(q.get("code_challenge_method"))) {
      redirectError(exchange, redirect, q.get("state"), "invalid_request", "response_type=code with PKCE S256 is required");
      return;
    }
    String email = q.get("login_hint");
    List<String> groups = email == null ? null : DIRECTORY.getOrDefault(email, List.of());
    if (submitted) {
      email = q.get("email");
      groups = new ArrayList<>();
      for (String g : q.getOrDefault("groups", "").split("[,\\s]+")) {
        if (!g.isBlank()) {
          groups.add(g);
        }
      }
    }
    if (email == null || email.isBlank()) {
      DevIssuer.respond(exchange, 200, "text/html; charset=utf-8", loginPage(q));
      return;
    }
    String code = random();
    codes.put(code, new Grant(q.get("client_id"), redirect, q.get("code_challenge"), q.get("nonce"), email,
        List.copyOf(groups), clock.instant().plus(CODE_LIFETIME)));
    String sep = redirect.contains("?") ? "&" : "?";
    exchange.getResponseHeaders().set("Location", redirect + sep + "code=" + enc(code)
        + (q.get("state") == null ? "" : "&state=" + enc(q.get("state"))) + "&iss=" + enc(issuer.toString()));
    exchange.getResponseHeaders().set("Cache-Control", "no-store");
    exchange.sendResponseHeaders(302, -1);
  }

  private String loginPage(Map<String, String> q) {
    StringBuilder hidden = new StringBuilder();
    for (String k : List.of("response_type", "client_id", "redirect_uri", "state", "nonce", "code_challenge",
        "code_challenge_method", "scope")) {
      if (q.get(k) != null) {
        hidden.append("<input type=\"hidden\" name=\"").append(k).append("\" value=\"").append(html(q.get(k)))
            .append("\">");
      }
    }
    return "<!doctype html><html><head><meta charset=\"utf-8\"><title>Dev identity provider</title></head><body>"
        + "<h1>Dev identity provider</h1><p>Log in as anyone: this is vertex-proxy's dev mode.</p>"
        + "<form method=\"post\" action=\"" + PREFIX + "/authorize\">" + hidden
        + "<label>E-mail <input name=\"email\" id=\"email\" value=\"alice@example.com\"></label><br>"
        + "<label>Groups <input name=\"groups\" id=\"groups\" value=\"ml-team\"></label><br>"
        + "<button type=\"submit\" id=\"login\">Log in</button></form></body></html>";
  }

  private void token(HttpExchange exchange, Map<String, String> f) throws IOException {
    if (!"authorization_code".equals(f.get("grant_type"))) {
      oauthError(exchange, 400, "unsupported_grant_type", "authorization_code only");
      return;
    }
    Grant g = f.get("code") == null ? null : codes.remove(f.get("code"));
    if (g == null || g.expires.isBefore(clock.instant())) {
      oauthError(exchange, 400, "invalid_grant", "unknown, used or expired code");
      return;
    }
    if (!g.redirectUri.equals(f.get("redirect_uri")) || (f.get("client_id") != null && !g.clientId.equals(f.get("client_id")))) {
      oauthError(exchange, 400, "invalid_grant", "redirect_uri or client_id differs from the authorization request");
      return;
    }
    String verifier = f.get("code_verifier");
    if (verifier == null || !s256(verifier).equals(g.challenge)) {
      oauthError(exchange, 400, "invalid_grant", "code_verifier does not match the code_challenge");
      return;
    }
    long now = clock.instant().getEpochSecond();
    Map<String, Object> claims = new LinkedHashMap<>();
    claims.put("iss", issuer.toString());
    claims.put("sub", g.email);
    claims.put("aud", g.clientId);
    claims.put("azp", g.clientId);
    claims.put("iat", now);
    claims.put("exp", now + ID_TOKEN_SECONDS);
    if (g.nonce != null) {
      claims.put("nonce", g.nonce);
    }
    claims.put("email", g.email);
    claims.put("email_verified", true);
    claims.put("name", g.email.contains("@") ? g.email.substring(0, g.email.indexOf('@')) : g.email);
    claims.put("groups", g.groups);
    Map<String, Object> answer = new LinkedHashMap<>();
    answer.put("access_token", random());
    answer.put("token_type", "Bearer");
    answer.put("expires_in", ID_TOKEN_SECONDS);
    answer.put("id_token", signer.apply(claims));
    answer.put("scope", "openid email profile groups");
    DevIssuer.respondJson(exchange, 200, answer);
  }

  private static Map<String, String> form(HttpExchange exchange) throws IOException {
    try (InputStream in = exchange.getRequestBody()) {
      return params(new String(in.readNBytes(64 * 1024), StandardCharsets.UTF_8));
    }
  }

  private static Map<String, String> params(String raw) {
    Map<String, String> out = new LinkedHashMap<>();
    if (raw == null || raw.isEmpty()) {
      return out;
    }
    for (String pair : raw.split("&")) {
      int eq = pair.indexOf('=');
      String k = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
      out.putIfAbsent(k, eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
    }
    return out;
  }

  private static String s256(String verifier) {
    try {
      return Base64.getUrlEncoder().withoutPadding().encodeToString(
          MessageDigest.getInstance("SHA-256").digest(verifier.getBytes(StandardCharsets.US_ASCII)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String random() {
    byte[] b = new byte[24];
    RANDOM.nextBytes(b);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  private static String html(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;").replace("'", "&#39;");
  }

  private static void redirectError(HttpExchange exchange, String redirect, String state, String error, String description)
      throws IOException {
    String sep = redirect.contains("?") ? "&" : "?";
    exchange.getResponseHeaders().set("Location", redirect + sep + "error=" + enc(error) + "&error_description="
        + enc(description) + (state == null ? "" : "&state=" + enc(state)));
    exchange.sendResponseHeaders(302, -1);
  }

  private static void oauthError(HttpExchange exchange, int code, String error, String description) throws IOException {
    DevIssuer.respondJson(exchange, code, Map.of("error", error, "error_description", description));
  }
}

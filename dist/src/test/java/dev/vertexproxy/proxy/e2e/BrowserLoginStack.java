package dev.vertexproxy.proxy.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vertexproxy.dev.DevMode;
import dev.vertexproxy.proxy.login.Revocations;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import no.nav.security.mock.oauth2.MockOAuth2Server;
import no.nav.security.mock.oauth2.OAuth2Config;

/**
 * The stack the browser login tests run against: mock-oauth2-server on a loopback port playing the company IdP
 * (issuer {@code humans}, client {@code vertex-proxy}), and the dev stack — proxy, Google and Vertex emulators — with
 * {@code sessions:} on and a policy whose rules are for people: {@code ml-team} may call Gemini, {@code contractors}
 * are denied everything. Also the few raw HTTP steps of the flow (no redirects followed, cookies by hand), so every
 * refusal can be provoked exactly.
 */
final class BrowserLoginStack implements AutoCloseable {
  static final String ISSUER_NAME = "humans";
  static final String CLIENT_ID = "vertex-proxy";
  static final String CLIENT_SECRET = "login-client-secret-never-logged";
  static final String POLICY = """
      version: 1
      rules:
        - name: ml-team-gemini
          description: the ML team calls Gemini from notebooks
          effect: allow
          identity:
            issuer: humans
            claims:
              groups: ml-team
          methods: [publishers.models.generateContent, publishers.models.streamGenerateContent]
          resources:
            projects: [%s]
            locations: [%s]
          service_account: %s
        - name: no-contractors
          effect: deny
          identity:
            issuer: humans
            claims:
              groups: contractors
      """.formatted(DevMode.PROJECT, DevMode.LOCATION, DevMode.SERVICE_ACCOUNT);

  final MockOAuth2Server idp;
  final DevStack stack;
  final String proxyUrl;
  final Path keysDir;
  final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5))
      .followRedirects(HttpClient.Redirect.NEVER).version(HttpClient.Version.HTTP_1_1).build();

  private BrowserLoginStack(MockOAuth2Server idp, DevStack stack, String proxyUrl, Path keysDir) {
    this.idp = idp;
    this.stack = stack;
    this.proxyUrl = proxyUrl;
    this.keysDir = keysDir;
  }

  static BrowserLoginStack start(Path dir) throws Exception {
    // interactive: every authorize request shows the IdP's login form, where the person types who they are
    MockOAuth2Server idp = new MockOAuth2Server(new OAuth2Config(true));
    idp.start(InetAddress.getLoopbackAddress(), 0);
    try {
      int port = freePort();
      String proxyUrl = "http://127.0.0.1:" + port;
      Files.createDirectories(dir);
      Path secret = dir.resolve("client-secret.txt");
      Files.writeString(secret, CLIENT_SECRET + "\n");
      Path policy = dir.resolve("people-policy.yaml");
      Files.writeString(policy, POLICY);
      String extra = """
          sessions:
            issuer: %s
            lifetime: 8h
            signing_keys_dir: %s
            claims: [email, groups]
          identity:
            issuers:
              - name: humans
                issuer: %s
                login:
                  client_id: %s
                  client_secret_file: %s
                  scopes: [openid, email, groups]
          """.formatted(proxyUrl, dir.resolve("keys"), idp.issuerUrl(ISSUER_NAME), CLIENT_ID, secret);
      Path extraFile = dir.resolve("extra.yaml");
      Files.writeString(extraFile, extra);
      DevStack stack = new DevStack(DevMode.start(new DevMode.Options(dir.resolve("state"), "127.0.0.1", port, 0, policy,
          extraFile)));
      stack.awaitReady();
      return new BrowserLoginStack(idp, stack, proxyUrl, dir.resolve("keys"));
    } catch (Exception | Error e) {
      idp.shutdown();
      throw e;
    }
  }

  // The proxy's public URL (sessions.issuer) must be known before it starts: take a free loopback port first.
  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  String examplePath() {
    return stack.examplePath();
  }

  /** A GET on the proxy without following redirects; {@code cookies} as a Cookie header when not null. */
  HttpResponse<String> get(String pathOrUrl, String cookies) throws IOException, InterruptedException {
    URI uri = URI.create(pathOrUrl.startsWith("http") ? pathOrUrl : proxyUrl + pathOrUrl);
    HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(20)).GET();
    if (cookies != null) {
      b.header("Cookie", cookies);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** A form POST on the proxy without following redirects. */
  HttpResponse<String> postForm(String path, String cookies, Map<String, String> form) throws IOException,
      InterruptedException {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(proxyUrl + path)).timeout(Duration.ofSeconds(20))
        .header("Content-Type", "application/x-www-form-urlencoded").POST(HttpRequest.BodyPublishers.ofString(form(form)));
    if (cookies != null) {
      b.header("Cookie", cookies);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** One login attempt at the point where the IdP has sent the browser back. */
  record Attempt(String loginCookie, URI callback, Map<String, String> callbackQuery) {
    String callbackPathAndQuery() {
      return callback.getRawPath() + "?" + callback.getRawQuery();
    }

    /** The callback with {@code name} replaced by {@code value}. */
    String callbackWith(String name, String value) {
      Map<String, String> q = new LinkedHashMap<>(callbackQuery);
      q.put(name, value);
      return callback.getRawPath() + "?" + form(q);
    }
  }

  /**
   * Starts a login at the proxy and logs in at the IdP's form as {@code username} with {@code claimsJson}, without
   * a browser: up to the IdP's redirect back to the proxy, which the caller then follows (or tampers with). The form
   * posts to the authorize address itself, with the same query.
   */
  Attempt loginAtIdp(String username, String claimsJson) throws IOException, InterruptedException {
    HttpResponse<String> start = get("/_proxy/login", null);
    if (start.statusCode() != 302) {
      throw new IllegalStateException("login start answered " + start.statusCode() + ": " + start.body());
    }
    String cookie = cookiePair(start, "vp_login").orElseThrow();
    URI authorize = URI.create(start.headers().firstValue("location").orElseThrow());
    Map<String, String> form = new LinkedHashMap<>();
    form.put("username", username);
    form.put("claims", claimsJson);
    HttpResponse<String> back = http.send(HttpRequest.newBuilder(authorize)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .POST(HttpRequest.BodyPublishers.ofString(form(form))).build(), HttpResponse.BodyHandlers.ofString());
    if (back.statusCode() != 302) {
      throw new IllegalStateException("the IdP answered " + back.statusCode() + ": " + back.body());
    }
    URI callback = URI.create(back.headers().firstValue("location").orElseThrow());
    return new Attempt(cookie, callback, query(callback.getRawQuery()));
  }

  /** A whole login without a browser; returns the session cookie pair ({@code vp_session=…}). */
  String login(String username, List<String> groups) throws IOException, InterruptedException {
    Attempt a = loginAtIdp(username, claims(username, groups));
    HttpResponse<String> done = get(a.callbackPathAndQuery(), a.loginCookie());
    if (done.statusCode() != 303) {
      throw new IllegalStateException("the callback answered " + done.statusCode() + ": " + done.body());
    }
    return cookiePair(done, "vp_session").orElseThrow();
  }

  static String claims(String username, List<String> groups) {
    return "{\"email\":\"" + username + "@example.com\",\"groups\":["
        + groups.stream().map(g -> "\"" + g + "\"").collect(Collectors.joining(",")) + "]}";
  }

  /** {@code name=value} of the first non-clearing Set-Cookie for {@code name}. */
  static Optional<String> cookiePair(HttpResponse<?> r, String name) {
    return r.headers().allValues("set-cookie").stream()
        .map(v -> v.split(";", 2)[0].trim())
        .filter(p -> p.startsWith(name + "=") && p.length() > name.length() + 1)
        .findFirst();
  }

  static Map<String, String> query(String raw) {
    Map<String, String> out = new LinkedHashMap<>();
    if (raw == null || raw.isEmpty()) {
      return out;
    }
    for (String pair : raw.split("&")) {
      int eq = pair.indexOf('=');
      out.put(URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8),
          eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
    }
    return out;
  }

  static String form(Map<String, String> fields) {
    return fields.entrySet().stream()
        .map(e -> URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8) + "=" + URLEncoder.encode(e.getValue(),
            StandardCharsets.UTF_8))
        .collect(Collectors.joining("&"));
  }

  /**
   * Revokes every session of {@code subject} the way an operator does, from outside the proxy process: in the
   * revocation list every replica mounts ({@code <signing_keys_dir>/revocations.json}).
   */
  void revokeSubject(String subject) throws IOException {
    new Revocations(keysDir.resolve("revocations.json"), Clock.systemUTC(), Duration.ofHours(8))
        .revokeSubject(ISSUER_NAME, subject);
  }

  /** The audit records of these requests (bounded wait). */
  List<JsonNode> audit(List<String> requestIds) throws IOException, InterruptedException {
    return stack.awaitAudit(requestIds);
  }

  @Override
  public void close() {
    try {
      stack.dev.close();
    } finally {
      idp.shutdown();
    }
  }
}

package dev.vertexproxy.proxy.login;

import dev.vertexproxy.policy.Caller;
import dev.vertexproxy.proxy.config.IdentityConfig;
import dev.vertexproxy.proxy.config.IssuerConfig;
import dev.vertexproxy.proxy.config.SessionsConfig;
import dev.vertexproxy.proxy.identity.KeyFetchEvents;
import dev.vertexproxy.proxy.identity.TokenVerifier;
import dev.vertexproxy.proxy.reserved.ReservedEndpoint;
import dev.vertexproxy.proxy.reserved.ReservedRequest;
import dev.vertexproxy.proxy.reserved.ReservedResponse;
import dev.vertexproxy.testing.MutableClock;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The device and CLI endpoints wired as the proxy wires them — a real {@link SessionIssuer} with generated keys in a
 * temporary directory, the real {@link TokenVerifier} accepting its tokens, a clock the test moves — and called with
 * whole {@link ReservedRequest}s, so every branch of the flows is exercised fast without a server. The end-to-end test
 * runs the same flows over sockets against the real IdP.
 */
final class LoginEndpointsKit implements AutoCloseable {
  static final String ISSUER = "https://vertex-proxy.test";
  static final Caller ALICE = new Caller("humans", "alice", Map.of("email", "alice@example.com", "groups", List.of("ml")));
  static final Caller BOB = new Caller("humans", "bob", Map.of("email", "bob@example.com"));

  final MutableClock clock = new MutableClock(Instant.parse("2026-03-01T10:00:00Z"));
  final ExecutorService blocking = Executors.newCachedThreadPool();
  final SessionIssuer issuer;
  final TokenVerifier verifier;
  final DeviceGrants devices;
  final CliAuthorizeCodes codes;
  final OAuthTokenEndpoint token;
  final DeviceCodeEndpoint deviceCode;
  final DevicePageEndpoint devicePage;
  final CliAuthorizeEndpoint cliAuthorize;
  final OAuthTokenRevokeEndpoint revoke;
  private int requests;

  LoginEndpointsKit(Path dir) throws Exception {
    SessionsConfig sessions = new SessionsConfig(URI.create(ISSUER), Duration.ofHours(8), Duration.ofHours(1),
        dir.resolve("keys"), null, "RS256", Duration.ofDays(30), null, dir.resolve("keys/revocations.json"));
    issuer = SessionIssuer.load(sessions, clock, 16384);
    verifier = TokenVerifier.create(IdentityConfig.of(List.of(new IssuerConfig("humans",
        URI.create("https://127.0.0.1:1"), List.of("vertex-proxy"), List.of("RS256"), null))), clock, blocking,
        KeyFetchEvents.NONE, issuer);
    devices = new DeviceGrantsInDirectory(dir.resolve("keys")); // what the proxy uses with a signing_keys_dir
    codes = new CliAuthorizeCodes(dir.resolve("keys"));
    token = new OAuthTokenEndpoint(issuer, devices, codes, blocking);
    deviceCode = new DeviceCodeEndpoint(issuer, devices, blocking);
    devicePage = new DevicePageEndpoint(issuer, verifier, devices, blocking);
    cliAuthorize = new CliAuthorizeEndpoint(issuer, verifier, codes, blocking);
    revoke = new OAuthTokenRevokeEndpoint(issuer, verifier, blocking);
  }

  /** A browser session cookie for {@code who}, as the browser login sets it. */
  String cookie(Caller who) {
    return "vp_session=" + issuer.mint(who, SessionIssuer.TokenUse.SESSION, "login", null).token();
  }

  /** Its session id, for CSRF tokens. */
  String sessionId(String cookie) throws Exception {
    return verifier.verifyToken(cookie.substring("vp_session=".length())).get(5, TimeUnit.SECONDS).sessionId();
  }

  ReservedRequest get(String pathAndQuery, String cookie) {
    return request(HttpMethod.GET, pathAndQuery, cookie, null, "192.0.2.10");
  }

  ReservedRequest post(String path, String cookie, Map<String, String> form) {
    return post(path, cookie, form, "192.0.2.10");
  }

  ReservedRequest post(String path, String cookie, Map<String, String> form, String sourceIp) {
    StringJoiner body = new StringJoiner("&");
    form.forEach((k, v) -> body.add(enc(k) + "=" + enc(v)));
    return request(HttpMethod.POST, path, cookie, body.toString(), sourceIp);
  }

  ReservedRequest postRaw(String path, String cookie, String body) {
    return request(HttpMethod.POST, path, cookie, body, "192.0.2.10");
  }

  private ReservedRequest request(HttpMethod method, String pathAndQuery, String cookie, String body, String ip) {
    HttpHeaders h = new DefaultHttpHeaders();
    if (cookie != null) {
      h.set(HttpHeaderNames.COOKIE, cookie);
    }
    if (body != null) {
      h.set(HttpHeaderNames.CONTENT_TYPE, "application/x-www-form-urlencoded");
    }
    QueryStringDecoder q = new QueryStringDecoder(pathAndQuery);
    return new ReservedRequest("req-" + ++requests, method, q.path(), q.parameters(), h,
        body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8), ip, clock.instant());
  }

  static ReservedResponse call(ReservedEndpoint e, ReservedRequest r) throws Exception {
    return e.handle(r).toCompletableFuture().get(5, TimeUnit.SECONDS);
  }

  static String body(ReservedResponse r) {
    return new String(r.body(), StandardCharsets.UTF_8);
  }

  /** The value of hidden field {@code name} in a page. */
  static String field(ReservedResponse page, String name) {
    Matcher m = Pattern.compile("name=\"" + Pattern.quote(name) + "\" value=\"([^\"]*)\"").matcher(body(page));
    if (!m.find()) {
      throw new AssertionError("no field " + name + " in " + body(page));
    }
    return m.group(1).replace("&amp;", "&");
  }

  static Map<String, String> form(String... pairs) {
    Map<String, String> m = new LinkedHashMap<>();
    for (int i = 0; i + 1 < pairs.length; i += 2) {
      m.put(pairs[i], pairs[i + 1]);
    }
    return m;
  }

  static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  @Override
  public void close() {
    blocking.shutdownNow();
  }
}

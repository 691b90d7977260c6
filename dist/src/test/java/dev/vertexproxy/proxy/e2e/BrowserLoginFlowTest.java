package dev.vertexproxy.proxy.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vertexproxy.emulators.VertexEmulator;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import no.nav.security.mock.oauth2.token.DefaultOAuth2TokenCallback;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The browser login's refusals, each provoked on its own against the real mock IdP and the real proxy over HTTP,
 * with the redirects followed by hand so each step can be tampered with: a wrong {@code state}, a replayed callback, an
 * ID token with another {@code nonce} or for another client, a revoked subject, logout without its CSRF token; and
 * what must hold on every page (CSP, {@code no-store}, no framing) and at Vertex (no cookie, no proxy session token).
 */
class BrowserLoginFlowTest {
  @TempDir
  static Path dir;
  static BrowserLoginStack login;

  @BeforeAll
  static void start() throws Exception {
    login = BrowserLoginStack.start(dir);
  }

  @AfterAll
  static void stop() {
    if (login != null) {
      login.close();
    }
  }

  @BeforeEach
  void clear() {
    login.stack.dev.vertex().clear();
  }

  private static String reasonOf(HttpResponse<String> r) {
    Matcher m = Pattern.compile("<code id=\"reason\">([a-z-]+)</code>").matcher(r.body());
    return m.find() ? m.group(1) : null;
  }

  private static String requestId(HttpResponse<String> r) {
    return r.headers().firstValue("x-vertex-proxy-request-id").orElseThrow();
  }

  @Test
  void aCompleteLoginSetsAnHttpOnlyLaxSessionCookieAndLandsOnThePage() throws Exception {
    BrowserLoginStack.Attempt a = login.loginAtIdp("carol", BrowserLoginStack.claims("carol", List.of("ml-team")));
    assertThat(a.callbackQuery()).containsKeys("code", "state");
    HttpResponse<String> done = login.get(a.callbackPathAndQuery(), a.loginCookie());
    assertThat(done.statusCode()).as(done.body()).isEqualTo(303);
    assertThat(done.headers().firstValue("location")).contains("/_proxy/");
    String set = done.headers().allValues("set-cookie").stream().filter(c -> c.startsWith("vp_session=")).findFirst()
        .orElseThrow();
    assertThat(set).contains("HttpOnly", "SameSite=Lax", "Path=/");
    assertThat(done.headers().allValues("set-cookie")).anyMatch(c -> c.startsWith("vp_login=;") && c.contains("Max-Age=0"));
    JsonNode record = login.audit(List.of(requestId(done))).get(0);
    assertThat(record.get("reason").asText()).isEqualTo("served");
    assertThat(record.at("/caller/subject").asText()).isEqualTo("carol");
    assertThat(record.toString()).doesNotContain(a.callbackQuery().get("code")).doesNotContain(set.split("[=;]")[1]);
  }

  @Test
  void aWrongStateIsRefusedLoginStateInvalid() throws Exception {
    BrowserLoginStack.Attempt a = login.loginAtIdp("dave", BrowserLoginStack.claims("dave", List.of("ml-team")));
    HttpResponse<String> r = login.get(a.callbackWith("state", "not-the-state-this-browser-sent"), a.loginCookie());
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(reasonOf(r)).isEqualTo("login-state-invalid");
    assertThat(BrowserLoginStack.cookiePair(r, "vp_session")).isEmpty();
    // and without the attempt's cookie at all, the right state is no better
    HttpResponse<String> noCookie = login.get(a.callbackPathAndQuery(), null);
    assertThat(noCookie.statusCode()).isEqualTo(400);
    assertThat(reasonOf(noCookie)).isEqualTo("login-state-invalid");
    assertThat(login.audit(List.of(requestId(r))).get(0).get("reason").asText()).isEqualTo("login-state-invalid");
  }

  @Test
  void aReplayedCallbackIsRefusedLoginCodeReplayedEvenThoughTheIdpWouldRedeemIt() throws Exception {
    BrowserLoginStack.Attempt a = login.loginAtIdp("erin", BrowserLoginStack.claims("erin", List.of("ml-team")));
    HttpResponse<String> first = login.get(a.callbackPathAndQuery(), a.loginCookie());
    assertThat(first.statusCode()).isEqualTo(303);
    HttpResponse<String> again = login.get(a.callbackPathAndQuery(), a.loginCookie());
    assertThat(again.statusCode()).isEqualTo(400);
    assertThat(reasonOf(again)).isEqualTo("login-code-replayed");
    assertThat(BrowserLoginStack.cookiePair(again, "vp_session")).isEmpty();
  }

  @Test
  void anIdTokenWithAnotherNonceIsRefusedLoginNonceInvalid() throws Exception {
    login.idp.enqueueCallback(new DefaultOAuth2TokenCallback(BrowserLoginStack.ISSUER_NAME, "frank", "JWT", null,
        Map.of("nonce", "a-nonce-from-another-attempt", "groups", List.of("ml-team")), 3600));
    BrowserLoginStack.Attempt a = login.loginAtIdp("frank", "{}");
    HttpResponse<String> r = login.get(a.callbackPathAndQuery(), a.loginCookie());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(401);
    assertThat(reasonOf(r)).isEqualTo("login-nonce-invalid");
    assertThat(BrowserLoginStack.cookiePair(r, "vp_session")).isEmpty();
  }

  @Test
  void anIdTokenForAnotherClientIsRefusedLoginFailedNamingTheAudience() throws Exception {
    login.idp.enqueueCallback(new DefaultOAuth2TokenCallback(BrowserLoginStack.ISSUER_NAME, "grace", "JWT", null,
        Map.of("aud", "some-other-client", "groups", List.of("ml-team")), 3600));
    BrowserLoginStack.Attempt a = login.loginAtIdp("grace", "{}");
    HttpResponse<String> r = login.get(a.callbackPathAndQuery(), a.loginCookie());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(401);
    assertThat(reasonOf(r)).isEqualTo("login-failed");
    assertThat(r.body()).as("the page names the check that failed").contains("audience-mismatch");
    assertThat(BrowserLoginStack.cookiePair(r, "vp_session")).isEmpty();
  }

  @Test
  void anErrorFromTheIdpIsLoginFailed() throws Exception {
    BrowserLoginStack.Attempt a = login.loginAtIdp("heidi", BrowserLoginStack.claims("heidi", List.of("ml-team")));
    HttpResponse<String> r = login.get(a.callbackWith("error", "access_denied"), a.loginCookie());
    assertThat(r.statusCode()).isEqualTo(401);
    assertThat(reasonOf(r)).isEqualTo("login-failed");
  }

  @Test
  void aRevokedSubjectsSessionIsRefusedAtOnceOnThePageAndOnVertex() throws Exception {
    String cookie = login.login("ivan", List.of("ml-team"));
    String token = cookie.substring(cookie.indexOf('=') + 1);
    assertThat(login.get("/_proxy/", cookie).statusCode()).isEqualTo(200);
    assertThat(login.stack.post(login.examplePath(), "Bearer " + token, DevStack.BODY).statusCode()).isEqualTo(200);

    login.revokeSubject("ivan");

    // written by another process, the list reaches this proxy at its next re-read (every second): bounded wait
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    HttpResponse<String> page = login.get("/_proxy/", cookie);
    while (page.statusCode() == 200 && System.nanoTime() < deadline) {
      Thread.sleep(100);
      page = login.get("/_proxy/", cookie);
    }
    assertThat(page.statusCode()).isEqualTo(401);
    assertThat(reasonOf(page)).isEqualTo("session-revoked");
    HttpResponse<String> call = login.stack.post(login.examplePath(), "Bearer " + token, DevStack.BODY);
    assertThat(call.statusCode()).isEqualTo(401);
    assertThat(DevStack.JSON.readTree(call.body()).at("/error/details/0/reason").asText()).isEqualTo("session-revoked");
  }

  @Test
  void logoutWithoutTheCsrfTokenIsRefusedAndWithItRevokesTheSession() throws Exception {
    String cookie = login.login("judy", List.of("ml-team"));
    String token = cookie.substring(cookie.indexOf('=') + 1);
    HttpResponse<String> page = login.get("/_proxy/", cookie);
    Matcher csrf = Pattern.compile("name=\"csrf\" value=\"([^\"]+)\"").matcher(page.body());
    assertThat(csrf.find()).isTrue();

    HttpResponse<String> none = login.postForm("/_proxy/logout", cookie, Map.of());
    assertThat(none.statusCode()).isEqualTo(403);
    assertThat(reasonOf(none)).isEqualTo("csrf-token-invalid");
    HttpResponse<String> forged = login.postForm("/_proxy/logout", cookie, Map.of("csrf", "forged-token"));
    assertThat(forged.statusCode()).isEqualTo(403);
    HttpResponse<String> noSession = login.postForm("/_proxy/logout", null, Map.of("csrf", csrf.group(1)));
    assertThat(noSession.statusCode()).isEqualTo(401);
    assertThat(reasonOf(noSession)).isEqualTo("session-required");
    assertThat(login.get("/_proxy/", cookie).statusCode()).as("still logged in").isEqualTo(200);

    HttpResponse<String> out = login.postForm("/_proxy/logout", cookie, Map.of("csrf", csrf.group(1)));
    assertThat(out.statusCode()).isEqualTo(200);
    assertThat(out.headers().allValues("set-cookie")).anyMatch(c -> c.startsWith("vp_session=;") && c.contains("Max-Age=0"));
    assertThat(login.get("/_proxy/", cookie).statusCode()).isEqualTo(401);
    assertThat(login.stack.post(login.examplePath(), "Bearer " + token, DevStack.BODY).statusCode()).isEqualTo(401);
  }

  @Test
  void thePagesAnswersCarryCspWithoutUnsafeInlineNoStoreAndNoFraming() throws Exception {
    String cookie = login.login("mallory", List.of("ml-team"));
    for (String path : List.of("/_proxy/", "/_proxy/login", "/_proxy/callback?state=x&code=y",
        "/_proxy/static/page.js", "/_proxy/static/page.css")) {
      HttpResponse<String> r = login.get(path, cookie);
      assertThat(r.headers().firstValue("cache-control")).as(path).contains("no-store");
      String csp = r.headers().firstValue("content-security-policy").orElse("");
      assertThat(csp).as(path).contains("frame-ancestors 'none'").doesNotContain("unsafe-inline");
      assertThat(r.headers().firstValue("x-frame-options")).as(path).contains("DENY");
    }
    HttpResponse<String> script = login.get("/_proxy/static/page.js", null);
    assertThat(script.statusCode()).as(script.body()).isEqualTo(200);
    assertThat(script.headers().firstValue("content-type")).contains("text/javascript; charset=utf-8");
    assertThat(script.body()).contains("copy-token");
    HttpResponse<String> css = login.get("/_proxy/static/page.css", null);
    assertThat(css.statusCode()).isEqualTo(200);
    assertThat(css.headers().firstValue("content-type")).contains("text/css; charset=utf-8");
    HttpResponse<String> page = login.get("/_proxy/", cookie);
    assertThat(page.headers().firstValue("content-security-policy").orElseThrow())
        .contains("script-src 'self'", "style-src 'self'", "form-action 'self'");
    assertThat(page.body()).doesNotContain("<script>").doesNotContain("onclick").doesNotContain("style=");
  }

  @Test
  void theSessionCookieAndTheProxyTokenNeverReachVertex() throws Exception {
    String cookie = login.login("niaj", List.of("ml-team"));
    String token = cookie.substring(cookie.indexOf('=') + 1);
    HttpResponse<String> r = login.stack.post(login.examplePath(), "Bearer " + token, DevStack.BODY, "Cookie",
        cookie + "; other=1");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    List<VertexEmulator.SeenRequest> seen = login.stack.dev.vertex().seen();
    assertThat(seen).hasSize(1);
    String headers = seen.get(0).headers().toString();
    assertThat(headers).doesNotContain(token).doesNotContain("vp_session");
    assertThat(seen.get(0).headers().keySet().stream().map(String::toLowerCase)).doesNotContain("cookie");
    try (Stream<Path> files = Files.list(login.stack.auditDir())) {
      for (Path f : files.toList()) {
        assertThat(Files.readString(f)).doesNotContain(token).doesNotContain(BrowserLoginStack.CLIENT_SECRET);
      }
    }
  }
}

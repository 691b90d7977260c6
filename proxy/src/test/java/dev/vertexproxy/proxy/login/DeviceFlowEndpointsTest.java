package dev.vertexproxy.proxy.login;

import static dev.vertexproxy.proxy.login.LoginEndpointsKit.ALICE;
import static dev.vertexproxy.proxy.login.LoginEndpointsKit.BOB;
import static dev.vertexproxy.proxy.login.LoginEndpointsKit.body;
import static dev.vertexproxy.proxy.login.LoginEndpointsKit.call;
import static dev.vertexproxy.proxy.login.LoginEndpointsKit.field;
import static dev.vertexproxy.proxy.login.LoginEndpointsKit.form;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vertexproxy.proxy.identity.VerifiedToken;
import dev.vertexproxy.proxy.reason.Reason;
import dev.vertexproxy.proxy.reserved.ReservedResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The device flow's endpoints together, as RFC 8628 runs them: the CLI starts a grant, the person enters the code and
 * approves in the browser with their session and CSRF token, the CLI's poll redeems it once — and each hostile variant
 * is refused with its own OAuth error and reason.
 */
class DeviceFlowEndpointsTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String TOKEN = "/_proxy/oauth/token";

  @TempDir
  Path dir;

  private LoginEndpointsKit kit;
  private String cookie;
  private String csrf;

  @BeforeEach
  void start() throws Exception {
    kit = new LoginEndpointsKit(dir);
    cookie = kit.cookie(ALICE);
    csrf = Csrf.token(kit.issuer, kit.sessionId(cookie));
  }

  @AfterEach
  void stop() {
    kit.close();
  }

  private JsonNode startGrant() throws Exception {
    ReservedResponse r = call(kit.deviceCode, kit.post("/_proxy/device/code", null, form("client_id", "vertex-proxy-cli"),
        "198.51.100.20"));
    assertThat(r.status()).as(body(r)).isEqualTo(200);
    return JSON.readTree(body(r));
  }

  private ReservedResponse poll(String deviceCode) throws Exception {
    return call(kit.token, kit.post(TOKEN, null, form("grant_type", OAuthTokenEndpoint.DEVICE_GRANT,
        "device_code", deviceCode, "client_id", "vertex-proxy-cli")));
  }

  private ReservedResponse approve(String userCode, String withCsrf, String decision) throws Exception {
    return call(kit.devicePage.decide(), kit.post(DevicePageEndpoint.CONFIRM_PATH, cookie,
        form("csrf", withCsrf, "user_code", userCode, "decision", decision)));
  }

  private static String error(ReservedResponse r) throws Exception {
    return JSON.readTree(body(r)).path("error").asText();
  }

  @Test
  void theWholeFlowYieldsOneSessionForThePersonWhoApproved() throws Exception {
    JsonNode grant = startGrant();
    String userCode = grant.get("user_code").asText();
    assertThat(grant.get("verification_uri").asText()).isEqualTo("https://vertex-proxy.test/_proxy/device");
    assertThat(grant.get("verification_uri_complete").asText()).endsWith("/_proxy/device?user_code=" + userCode);
    assertThat(grant.get("expires_in").asInt()).isEqualTo(600);
    assertThat(grant.get("interval").asInt()).isEqualTo(5);

    ReservedResponse loggedOut = call(kit.devicePage.form(), kit.get("/_proxy/device?user_code=" + userCode, null));
    assertThat(loggedOut.status()).isEqualTo(302);
    assertThat(loggedOut.headers().get("Location")).isEqualTo("/_proxy/login?next=%2F_proxy%2Fdevice");
    String resume = loggedOut.headers().get("Set-Cookie");
    assertThat(resume).startsWith("vp_resume=").contains("Path=/_proxy/device;");

    ReservedResponse page = call(kit.devicePage.form(), kit.get("/_proxy/device",
        cookie + "; " + resume.substring(0, resume.indexOf(';'))));
    assertThat(page.status()).isEqualTo(200);
    assertThat(body(page)).contains("value=\"" + userCode + "\"").doesNotContain("<script");
    assertThat(page.headers().get("Content-Security-Policy")).contains("form-action 'self'").doesNotContain("unsafe");
    assertThat(field(page, "csrf")).isEqualTo(csrf);

    kit.clock.advance(Duration.ofSeconds(5));
    assertThat(error(poll(grant.get("device_code").asText()))).isEqualTo("authorization_pending");

    ReservedResponse confirm = call(kit.devicePage.lookup(), kit.post("/_proxy/device", cookie,
        form("csrf", csrf, "user_code", userCode.toLowerCase())));
    assertThat(confirm.status()).as(body(confirm)).isEqualTo(200);
    assertThat(body(confirm)).contains("alice@example.com").contains("198.51.100.20").contains("2026-03-01 10:00:00 UTC");
    assertThat(confirm.caller().subject()).isEqualTo("alice");

    ReservedResponse approved = approve(field(confirm, "user_code"), field(confirm, "csrf"), "approve");
    assertThat(approved.status()).isEqualTo(200);
    assertThat(body(approved)).contains("Approved");

    kit.clock.advance(Duration.ofSeconds(5));
    ReservedResponse issued = poll(grant.get("device_code").asText());
    assertThat(issued.status()).as(body(issued)).isEqualTo(200);
    assertThat(issued.reason()).isEqualTo(Reason.SERVED);
    JsonNode t = JSON.readTree(body(issued));
    assertThat(t.get("token_type").asText()).isEqualTo("Bearer");
    assertThat(t.get("expires_in").asLong()).isEqualTo(Duration.ofHours(8).minusSeconds(10).toSeconds());
    VerifiedToken v = kit.verifier.verifyToken(t.get("access_token").asText()).get(5, TimeUnit.SECONDS);
    assertThat(v.proxyIssued()).isTrue();
    assertThat(v.caller().issuer()).isEqualTo("humans");
    assertThat(v.caller().subject()).isEqualTo("alice");
    assertThat(v.caller().claims()).containsEntry("email", "alice@example.com");
    assertThat(v.caller().claims().get("proxy_session").toString()).contains("via=device").contains("use=session");
    assertThat(v.expiresAt()).as("never past the approving browser session")
        .isEqualTo(kit.clock.instant().minusSeconds(10).plus(Duration.ofHours(8)));
  }

  @Test
  void aReplayedDeviceCodeIsRefusedAsOne() throws Exception {
    JsonNode grant = startGrant();
    approve(grant.get("user_code").asText(), csrf, "approve");
    kit.clock.advance(Duration.ofSeconds(5));
    assertThat(poll(grant.get("device_code").asText()).status()).isEqualTo(200);
    kit.clock.advance(Duration.ofSeconds(5));
    ReservedResponse again = poll(grant.get("device_code").asText());
    assertThat(again.status()).isEqualTo(400);
    assertThat(error(again)).isEqualTo("invalid_grant");
    assertThat(again.reason()).isEqualTo(Reason.LOGIN_CODE_REPLAYED);
    assertThat(body(again)).doesNotContain("access_token");
  }

  @Test
  void pollingFasterThanTheIntervalIsToldToSlowDown() throws Exception {
    JsonNode grant = startGrant();
    kit.clock.advance(Duration.ofSeconds(5));
    assertThat(error(poll(grant.get("device_code").asText()))).isEqualTo("authorization_pending");
    kit.clock.advance(Duration.ofSeconds(1));
    ReservedResponse fast = poll(grant.get("device_code").asText());
    assertThat(error(fast)).isEqualTo("slow_down");
    assertThat(fast.reason()).isEqualTo(Reason.SLOW_DOWN);
  }

  @Test
  void aDeniedOrExpiredGrantEndsThePollingWithItsOwnError() throws Exception {
    JsonNode denied = startGrant();
    assertThat(approve(denied.get("user_code").asText(), csrf, "deny").status()).isEqualTo(200);
    kit.clock.advance(Duration.ofSeconds(5));
    ReservedResponse d = poll(denied.get("device_code").asText());
    assertThat(error(d)).isEqualTo("access_denied");
    assertThat(d.reason()).isEqualTo(Reason.ACCESS_DENIED);

    JsonNode expired = startGrant();
    kit.clock.advance(DeviceGrants.LIFETIME);
    ReservedResponse e = poll(expired.get("device_code").asText());
    assertThat(error(e)).isEqualTo("expired_token");
    assertThat(e.reason()).isEqualTo(Reason.DEVICE_CODE_EXPIRED);
    assertThat(approve(expired.get("user_code").asText(), csrf, "approve").reason()).isEqualTo(Reason.GRANT_INVALID);
  }

  @Test
  void approvalWithoutTheCsrfTokenOrWithAnotherSessionsIsRefusedAndTheGrantStaysPending() throws Exception {
    JsonNode grant = startGrant();
    String userCode = grant.get("user_code").asText();
    String bobsCsrf = Csrf.token(kit.issuer, kit.sessionId(kit.cookie(BOB)));
    for (String bad : new String[] {"", "x", bobsCsrf}) {
      ReservedResponse r = approve(userCode, bad, "approve");
      assertThat(r.status()).as(bad).isEqualTo(403);
      assertThat(r.reason()).isEqualTo(Reason.CSRF_TOKEN_INVALID);
      ReservedResponse look = call(kit.devicePage.lookup(), kit.post("/_proxy/device", cookie,
          form("csrf", bad, "user_code", userCode)));
      assertThat(look.reason()).isEqualTo(Reason.CSRF_TOKEN_INVALID);
    }
    assertThat(kit.devices.pending(userCode, kit.clock.instant())).isPresent();
    ReservedResponse noSession = call(kit.devicePage.decide(), kit.post(DevicePageEndpoint.CONFIRM_PATH, null,
        form("csrf", csrf, "user_code", userCode, "decision", "approve")));
    assertThat(noSession.status()).isEqualTo(401);
    assertThat(noSession.reason()).isEqualTo(Reason.SESSION_REQUIRED);
    kit.clock.advance(Duration.ofSeconds(5));
    assertThat(error(poll(grant.get("device_code").asText()))).isEqualTo("authorization_pending");
  }

  @Test
  void userCodesGuessedTooOftenAreRefusedBeforeTheLookUpEvenWhenRight() throws Exception {
    JsonNode grant = startGrant();
    for (int i = 0; i < DeviceGrantsInMemory.MAX_MISSES; i++) {
      ReservedResponse miss = call(kit.devicePage.lookup(), kit.post("/_proxy/device", cookie,
          form("csrf", csrf, "user_code", "BCDF-GH" + "JKLMNPQRST".charAt(i) + "V")));
      assertThat(miss.status()).isEqualTo(400);
      assertThat(miss.reason()).isEqualTo(Reason.GRANT_INVALID);
    }
    ReservedResponse right = call(kit.devicePage.lookup(), kit.post("/_proxy/device", cookie,
        form("csrf", csrf, "user_code", grant.get("user_code").asText())));
    assertThat(right.reason()).isEqualTo(Reason.SLOW_DOWN);
    assertThat(body(right)).doesNotContain("198.51.100.20");
    ReservedResponse direct = approve(grant.get("user_code").asText(), csrf, "approve");
    assertThat(direct.reason()).as("the confirm step is limited too").isEqualTo(Reason.SLOW_DOWN);
    assertThat(kit.devices.pending(grant.get("user_code").asText(), kit.clock.instant())).isPresent();
  }

  @Test
  void badTokenRequestsAreOAuthErrors() throws Exception {
    Map<String, String[]> cases = Map.of(
        "unsupported_grant_type", new String[] {"grant_type", "password", "client_id", "vertex-proxy-cli"},
        "invalid_client", new String[] {"grant_type", OAuthTokenEndpoint.DEVICE_GRANT, "device_code", "x"},
        "invalid_request", new String[] {"grant_type", OAuthTokenEndpoint.DEVICE_GRANT, "client_id", "vertex-proxy-cli"},
        "invalid_grant", new String[] {"grant_type", OAuthTokenEndpoint.DEVICE_GRANT, "client_id", "vertex-proxy-cli",
            "device_code", "never-issued"});
    for (Map.Entry<String, String[]> c : cases.entrySet()) {
      ReservedResponse r = call(kit.token, kit.post(TOKEN, null, form(c.getValue())));
      assertThat(r.status()).as(c.getKey()).isEqualTo(400);
      assertThat(error(r)).as(c.getKey()).isEqualTo(c.getKey());
      assertThat(r.reason()).isEqualTo(Reason.GRANT_INVALID);
      assertThat(r.headers().get("Content-Type")).startsWith("application/json");
    }
    ReservedResponse repeated = call(kit.token, kit.postRaw(TOKEN, null,
        "grant_type=" + OAuthTokenEndpoint.DEVICE_GRANT + "&client_id=vertex-proxy-cli&device_code=a&device_code=b"));
    assertThat(error(repeated)).isEqualTo("invalid_request");
  }

  @Test
  void theDeviceEndpointTakesOnlyTheCliAndNoScope() throws Exception {
    assertThat(call(kit.deviceCode, kit.post("/_proxy/device/code", null, form("client_id", "other"))).status())
        .isEqualTo(400);
    ReservedResponse scoped = call(kit.deviceCode, kit.post("/_proxy/device/code", null,
        form("client_id", "vertex-proxy-cli", "scope", "admin")));
    assertThat(error(scoped)).isEqualTo("invalid_scope");
  }
}

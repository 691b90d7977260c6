package dev.vertexproxy.proxy.login;

import static dev.vertexproxy.proxy.login.LoginEndpointsKit.ALICE;
import static dev.vertexproxy.proxy.login.LoginEndpointsKit.BOB;
import static dev.vertexproxy.proxy.login.LoginEndpointsKit.body;
import static dev.vertexproxy.proxy.login.LoginEndpointsKit.call;
import static dev.vertexproxy.proxy.login.LoginEndpointsKit.enc;
import static dev.vertexproxy.proxy.login.LoginEndpointsKit.field;
import static dev.vertexproxy.proxy.login.LoginEndpointsKit.form;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vertexproxy.proxy.identity.IdentityException;
import dev.vertexproxy.proxy.identity.VerifiedToken;
import dev.vertexproxy.proxy.reason.Reason;
import dev.vertexproxy.proxy.reserved.ReservedResponse;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The loopback login's endpoints: the authorize request is checked before anything is shown, the person confirms on
 * a CSRF-protected page, the code goes only to a loopback redirect and is redeemed once with the PKCE verifier — and
 * each hostile variant is refused.
 */
class CliAuthorizeEndpointTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
  private static final String CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
  private static final String REDIRECT = "http://127.0.0.1:53682/callback";
  private static final String PATH = "/_proxy/cli/authorize";

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

  private static String query(String redirect) {
    return "response_type=code&client_id=vertex-proxy-cli&redirect_uri=" + enc(redirect) + "&state=st-1"
        + "&code_challenge=" + CHALLENGE + "&code_challenge_method=S256";
  }

  private Map<String, String> answer(String redirect, String decision) {
    return form("csrf", csrf, "response_type", "code", "client_id", "vertex-proxy-cli", "redirect_uri", redirect,
        "state", "st-1", "code_challenge", CHALLENGE, "code_challenge_method", "S256", "decision", decision);
  }

  /** Confirms as Alice and returns the code the loopback redirect carries. */
  private String code(String redirect) throws Exception {
    ReservedResponse r = call(kit.cliAuthorize.answer(), kit.post(PATH, cookie, answer(redirect, "approve")));
    assertThat(r.status()).as(body(r)).isEqualTo(302);
    String location = r.headers().get("Location");
    assertThat(location).startsWith(redirect + "?code=");
    Map<String, List<String>> q = new QueryStringDecoder(location).parameters();
    assertThat(q.get("state")).containsExactly("st-1");
    assertThat(q.get("iss")).containsExactly(LoginEndpointsKit.ISSUER);
    return q.get("code").get(0);
  }

  private ReservedResponse redeem(String code, String redirect, String verifier) throws Exception {
    return call(kit.token, kit.post("/_proxy/oauth/token", null, form("grant_type", "authorization_code", "code", code,
        "redirect_uri", redirect, "code_verifier", verifier, "client_id", "vertex-proxy-cli")));
  }

  private static String error(ReservedResponse r) throws Exception {
    return JSON.readTree(body(r)).path("error").asText();
  }

  @Test
  void withoutASessionThePersonIsSentToTheBrowserLoginAndTheRequestWaitsInASealedCookie() throws Exception {
    ReservedResponse r = call(kit.cliAuthorize.ask(), kit.get(PATH + "?" + query(REDIRECT), null));
    assertThat(r.status()).isEqualTo(302);
    assertThat(r.headers().get("Location")).isEqualTo("/_proxy/login?next=%2F_proxy%2Fcli%2Fauthorize");
    String setCookie = r.headers().get("Set-Cookie");
    assertThat(setCookie).startsWith("vp_resume=").contains("; Path=/_proxy/cli/authorize; HttpOnly; SameSite=Lax")
        .contains("Max-Age=600").contains("; Secure");
    String resume = setCookie.substring(0, setCookie.indexOf(';'));

    ReservedResponse back = call(kit.cliAuthorize.ask(), kit.get(PATH, cookie + "; " + resume));
    assertThat(back.status()).as(body(back)).isEqualTo(200);
    assertThat(field(back, "redirect_uri")).isEqualTo(REDIRECT);
    assertThat(field(back, "state")).isEqualTo("st-1");
    assertThat(field(back, "code_challenge")).isEqualTo(CHALLENGE);

    String forged = resume.substring(0, resume.indexOf('=') + 1)
        + Base64.getUrlEncoder().withoutPadding().encodeToString(query("http://127.0.0.1:1/x").getBytes())
        + resume.substring(resume.indexOf('.'));
    ReservedResponse tampered = call(kit.cliAuthorize.ask(), kit.get(PATH, cookie + "; " + forged));
    assertThat(tampered.status()).as("a cookie the proxy did not seal is no request").isEqualTo(400);
    assertThat(call(kit.cliAuthorize.ask(), kit.get(PATH, cookie)).status()).isEqualTo(400);
  }

  @Test
  void theConfirmationNamesThePersonAndMayOnlyPostToTheProxyAndTheLoopback() throws Exception {
    ReservedResponse r = call(kit.cliAuthorize.ask(), kit.get(PATH + "?" + query(REDIRECT), cookie));
    assertThat(r.status()).isEqualTo(200);
    assertThat(body(r)).contains("alice@example.com").doesNotContain("<script");
    assertThat(field(r, "csrf")).isEqualTo(csrf);
    assertThat(field(r, "redirect_uri")).isEqualTo(REDIRECT);
    assertThat(r.headers().get("Content-Security-Policy"))
        .contains("form-action 'self' http://127.0.0.1:* http://[::1]:*").contains("frame-ancestors 'none'");
  }

  @Test
  void theLoopbackLoginIssuesASessionForTheRightVerifierOnceAndAReplayRevokesIt() throws Exception {
    String code = code(REDIRECT);
    kit.clock.advance(Duration.ofSeconds(2));
    ReservedResponse ok = redeem(code, REDIRECT, VERIFIER);
    assertThat(ok.status()).as(body(ok)).isEqualTo(200);
    JsonNode t = JSON.readTree(body(ok));
    VerifiedToken v = kit.verifier.verifyToken(t.get("access_token").asText()).get(5, TimeUnit.SECONDS);
    assertThat(v.caller().subject()).isEqualTo("alice");
    assertThat(v.caller().claims().get("proxy_session").toString()).contains("via=cli");

    ReservedResponse replay = redeem(code, REDIRECT, VERIFIER);
    assertThat(error(replay)).isEqualTo("invalid_grant");
    assertThat(replay.reason()).isEqualTo(Reason.LOGIN_CODE_REPLAYED);
    assertThatThrownBy(() -> kit.verifier.verifyToken(t.get("access_token").asText()).get(5, TimeUnit.SECONDS))
        .as("the session the first redemption got is revoked").isInstanceOf(ExecutionException.class)
        .cause().isInstanceOf(IdentityException.class).hasMessageContaining("revoked");
  }

  @Test
  void aWrongVerifierOrAChangedRedirectUriIsInvalidGrantAndUsesTheCodeUp() throws Exception {
    String wrongVerifier = code(REDIRECT);
    assertThat(error(redeem(wrongVerifier, REDIRECT, VERIFIER.replace('d', 'x')))).isEqualTo("invalid_grant");
    assertThat(redeem(wrongVerifier, REDIRECT, VERIFIER).reason()).isEqualTo(Reason.LOGIN_CODE_REPLAYED);

    String changed = code(REDIRECT);
    ReservedResponse r = redeem(changed, "http://127.0.0.1:53683/callback", VERIFIER);
    assertThat(error(r)).isEqualTo("invalid_grant");
    assertThat(JSON.readTree(body(r)).get("error_description").asText()).contains("redirect_uri");
    assertThat(redeem(changed, REDIRECT, VERIFIER).status()).isEqualTo(400);

    String late = code(REDIRECT);
    kit.clock.advance(CliAuthorizeCodes.LIFETIME);
    assertThat(error(redeem(late, REDIRECT, VERIFIER))).isEqualTo("invalid_grant");
  }

  @Test
  void redirectUrisThatAreNotLoopbackAreAnErrorPageAndNeverARedirect() throws Exception {
    for (String bad : List.of("https://127.0.0.1:53682/callback", "http://localhost:53682/callback",
        "http://127.0.0.1/callback", "http://evil.example.com:53682/callback", "http://127.0.0.1:53682/cb?x=1",
        "http://127.0.0.1:53682/cb#f", "http://user@127.0.0.1:53682/cb", "http://127.0.0.2:53682/callback", "")) {
      ReservedResponse get = call(kit.cliAuthorize.ask(), kit.get(PATH + "?" + query(bad), cookie));
      assertThat(get.status()).as(bad).isEqualTo(400);
      assertThat(get.reason()).isEqualTo(Reason.GRANT_INVALID);
      assertThat(get.headers().get("Location")).isNull();
      ReservedResponse post = call(kit.cliAuthorize.answer(), kit.post(PATH, cookie, answer(bad, "approve")));
      assertThat(post.status()).as(bad).isEqualTo(400);
      assertThat(post.headers().get("Location")).isNull();
    }
    assertThat(call(kit.cliAuthorize.ask(), kit.get(PATH + "?" + query("http://[::1]:53682/callback"), cookie))
        .status()).isEqualTo(200);
  }

  @Test
  void otherBadRequestsAreErrorPagesToo() throws Exception {
    for (String q : List.of(query(REDIRECT).replace("S256", "plain"), query(REDIRECT).replace("client_id=vertex-proxy-cli",
        "client_id=other"), query(REDIRECT).replace("response_type=code", "response_type=token"),
        query(REDIRECT).replace("&state=st-1", ""), query(REDIRECT).replace(CHALLENGE, "short"),
        query(REDIRECT) + "&state=again")) {
      ReservedResponse r = call(kit.cliAuthorize.ask(), kit.get(PATH + "?" + q, cookie));
      assertThat(r.status()).as(q).isEqualTo(400);
      assertThat(r.headers().get("Location")).isNull();
    }
  }

  @Test
  void confirmingWithoutTheCsrfTokenOrTheSessionIssuesNoCode() throws Exception {
    String bobsCsrf = Csrf.token(kit.issuer, kit.sessionId(kit.cookie(BOB)));
    for (String bad : new String[] {"", "x", bobsCsrf}) {
      Map<String, String> f = answer(REDIRECT, "approve");
      f.put("csrf", bad);
      ReservedResponse r = call(kit.cliAuthorize.answer(), kit.post(PATH, cookie, f));
      assertThat(r.status()).as(bad).isEqualTo(403);
      assertThat(r.reason()).isEqualTo(Reason.CSRF_TOKEN_INVALID);
      assertThat(r.headers().get("Location")).isNull();
    }
    ReservedResponse noSession = call(kit.cliAuthorize.answer(), kit.post(PATH, null, answer(REDIRECT, "approve")));
    assertThat(noSession.status()).isEqualTo(401);
    assertThat(noSession.reason()).isEqualTo(Reason.SESSION_REQUIRED);
  }

  @Test
  void cancellingSendsAccessDeniedToTheCli() throws Exception {
    ReservedResponse r = call(kit.cliAuthorize.answer(), kit.post(PATH, cookie, answer(REDIRECT, "deny")));
    assertThat(r.status()).isEqualTo(302);
    assertThat(r.headers().get("Location")).isEqualTo(REDIRECT + "?error=access_denied&state=st-1");
    assertThat(r.headers().get("Set-Cookie")).startsWith("vp_resume=;").contains("Max-Age=0");
    assertThat(r.reason()).isEqualTo(Reason.ACCESS_DENIED);
  }

  @Test
  void aSessionMintedFromTheLoginNeverOutlivesTheBrowserSession() throws Exception {
    kit.clock.advance(Duration.ofHours(7));
    String code = code(REDIRECT);
    JsonNode t = JSON.readTree(body(redeem(code, REDIRECT, VERIFIER)));
    assertThat(t.get("expires_in").asLong()).isEqualTo(Duration.ofHours(1).toSeconds());
  }

  @Test
  void aSubjectRevokedBetweenConfirmationAndRedemptionGetsNothing() throws Exception {
    String code = code(REDIRECT);
    kit.issuer.revocations().revokeSubject("humans", "alice");
    ReservedResponse r = redeem(code, REDIRECT, VERIFIER);
    assertThat(error(r)).isEqualTo("invalid_grant");
    assertThat(body(r)).doesNotContain("access_token");
  }

  @Test
  void revokingASessionEndsItAndAnInvalidTokenIsAnsweredTheSame() throws Exception {
    String session = JSON.readTree(body(redeem(code(REDIRECT), REDIRECT, VERIFIER))).get("access_token").asText();
    ReservedResponse r = call(kit.revoke, kit.post("/_proxy/oauth/revoke", null, form("token", session)));
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.caller().subject()).isEqualTo("alice");
    assertThatThrownBy(() -> kit.verifier.verifyToken(session).get(5, TimeUnit.SECONDS))
        .cause().isInstanceOf(IdentityException.class);
    assertThat(call(kit.revoke, kit.post("/_proxy/oauth/revoke", null, form("token", session))).status())
        .as("revoked already").isEqualTo(200);
    assertThat(call(kit.revoke, kit.post("/_proxy/oauth/revoke", null, form("token", "garbage"))).status())
        .isEqualTo(200);
    assertThat(call(kit.revoke, kit.post("/_proxy/oauth/revoke", null, form())).status()).isEqualTo(400);
    assertThat(call(kit.cliAuthorize.ask(), kit.get(PATH + "?" + query(REDIRECT), cookie)).status())
        .as("the browser session itself is untouched").isEqualTo(200);
  }
}

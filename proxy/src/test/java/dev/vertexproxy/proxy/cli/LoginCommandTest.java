package dev.vertexproxy.proxy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code vertex-proxy login} against a fake authorization server on a real socket: the loopback flow with PKCE through
 * a "browser" that follows redirects, the fallback to the device flow, and RFC 8628's polling rules with a clock the
 * sleeper moves — no test waits for real.
 */
class LoginCommandTest {
  @TempDir
  Path dir;

  private FakeProxyAuthServer as;
  private PersonCli cli;

  @BeforeEach
  void start() throws Exception {
    as = new FakeProxyAuthServer();
    cli = new PersonCli(dir);
  }

  @AfterEach
  void stop() {
    as.close();
  }

  private StoredSession stored() throws CliException {
    return cli.store().get(ProxyUrl.parse(as.url())).orElseThrow();
  }

  @Test
  void theLoopbackLoginRedeemsItsCodeWithThePkceVerifierAndStoresA0600Session() throws Exception {
    PersonCli.Run r = cli.login("--proxy", as.url());
    assertThat(r.exit()).as(r.toString()).isZero();
    assertThat(r.out()).contains("Logged in to " + as.url() + " as alice@example.com");
    StoredSession s = stored();
    assertThat(s.via()).isEqualTo("loopback");
    assertThat(s.accessToken()).isEqualTo(as.token(1));
    assertThat(s.expiresAt()).isEqualTo(cli.clock.instant().plus(Duration.ofHours(8)));
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(cli.store().file()))).isEqualTo("rw-------");
    Map<String, String> form = as.tokenForms.get(0);
    assertThat(form).containsEntry("grant_type", "authorization_code").containsEntry("client_id", "vertex-proxy-cli")
        .containsKeys("code", "code_verifier", "redirect_uri");
    assertThat(form.get("redirect_uri")).matches("http://127\\.0\\.0\\.1:[0-9]+/callback");
    assertThat(form.get("code_verifier")).hasSizeGreaterThanOrEqualTo(43).matches("[A-Za-z0-9_-]+");
    URI opened = cli.opened.get(0);
    assertThat(opened.getPath()).isEqualTo("/_proxy/cli/authorize");
    assertThat(opened.getRawQuery()).contains("code_challenge_method=S256").doesNotContain(form.get("code_verifier"));
    assertThat(r.err() + r.out()).doesNotContain(s.accessToken()).doesNotContain(form.get("code_verifier"));
    assertThat(cli.sleeps).isEmpty();
  }

  @Test
  void aCallbackWithAnotherStateIsAnswered400AndTheLoginKeepsWaitingForTheRealOne() throws Exception {
    cli.browser = url -> {
      String redirect = FakeProxyAuthServer.parse(url.getRawQuery()).get("redirect_uri");
      assertThat(PersonCli.get(URI.create(redirect + "?code=injected&state=forged"))).isEqualTo(400);
      assertThat(PersonCli.get(URI.create(redirect + "?code=injected"))).isEqualTo(400);
      assertThat(PersonCli.get(URI.create(redirect.replace("/callback", "/other")))).isEqualTo(404);
      return PersonCli.follow(url);
    };
    PersonCli.Run r = cli.login("--proxy", as.url());
    assertThat(r.exit()).as(r.toString()).isZero();
    assertThat(as.tokenForms).hasSize(1);
    assertThat(as.tokenForms.get(0).get("code")).isNotEqualTo("injected");
  }

  @Test
  void anErrorBroughtBackByTheBrowserFailsTheLoginAndStoresNothing() throws Exception {
    as.authorizeError = "access_denied";
    PersonCli.Run r = cli.login("--proxy", as.url());
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err()).contains("login: the proxy did not sign the CLI in: access_denied: the person said no");
    assertThat(as.tokenForms).isEmpty();
    assertThat(cli.store().all()).isEmpty();
  }

  @Test
  void aCodeTheProxyRefusesFailsTheLoginWithTheProxysReason() throws Exception {
    // the browser is sent on with another challenge than the CLI computed: its verifier no longer fits
    cli.browser = url -> {
      String q = url.getRawQuery().replaceAll("code_challenge=[^&]+", "code_challenge=AAAA");
      return PersonCli.follow(URI.create(url.toString().replace(url.getRawQuery(), q)));
    };
    PersonCli.Run r = cli.login("--proxy", as.url());
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err()).contains("the proxy refused the login: invalid_grant: the code is not valid for this request");
    assertThat(cli.store().all()).isEmpty();
  }

  @Test
  void withNoBrowserTheLoginFallsBackToTheDeviceFlowAndPollsAtTheInterval() throws Exception {
    cli.browser = url -> false;
    as.devicePolls.add(new Object[] {400, "authorization_pending"});
    as.devicePolls.add(new Object[] {400, "authorization_pending"});
    as.devicePolls.add(new Object[] {200, null});
    PersonCli.Run r = cli.login("--proxy", as.url());
    assertThat(r.exit()).as(r.toString()).isZero();
    assertThat(r.err()).contains("No browser could be opened").contains(as.url() + "/_proxy/device")
        .contains("WDJB-MJHT").doesNotContain("dev-code-1");
    assertThat(cli.sleeps).containsExactly(Duration.ofSeconds(5), Duration.ofSeconds(5), Duration.ofSeconds(5));
    assertThat(stored().via()).isEqualTo("device");
    assertThat(as.tokenForms).allSatisfy(f -> assertThat(f)
        .containsEntry("grant_type", "urn:ietf:params:oauth:grant-type:device_code")
        .containsEntry("device_code", "dev-code-1").containsEntry("client_id", "vertex-proxy-cli"));
  }

  @Test
  void deviceOpensNoBrowser() throws Exception {
    as.devicePolls.add(new Object[] {200, null});
    PersonCli.Run r = cli.login("--device", "--proxy", as.url());
    assertThat(r.exit()).as(r.toString()).isZero();
    assertThat(cli.opened).isEmpty();
    assertThat(as.requests).doesNotContain("GET /_proxy/cli/authorize");
  }

  @Test
  void slowDownAddsFiveSecondsToTheIntervalForGood() throws Exception {
    as.devicePolls.add(new Object[] {400, "authorization_pending"});
    as.devicePolls.add(new Object[] {400, "slow_down"});
    as.devicePolls.add(new Object[] {400, "authorization_pending"});
    as.devicePolls.add(new Object[] {400, "slow_down"});
    as.devicePolls.add(new Object[] {200, null});
    PersonCli.Run r = cli.login("--device", "--proxy", as.url());
    assertThat(r.exit()).as(r.toString()).isZero();
    assertThat(cli.sleeps).extracting(Duration::getSeconds).containsExactly(5L, 5L, 10L, 10L, 15L);
  }

  @Test
  void expiredTokenAndAccessDeniedEndThePollingWithTheirOwnMessage() throws Exception {
    for (Object[] c : List.of(new Object[] {"expired_token", "the code expired before it was approved"},
        new Object[] {"access_denied", "the sign-in was declined in the browser"})) {
      as.devicePolls.clear();
      as.tokenForms.clear();
      as.devicePolls.add(new Object[] {400, "authorization_pending"});
      as.devicePolls.add(new Object[] {400, c[0]});
      PersonCli.Run r = cli.login("--device", "--proxy", as.url());
      assertThat(r.exit()).as(c[0].toString()).isEqualTo(1);
      assertThat(r.err()).contains("login: " + c[1]);
      assertThat(as.tokenForms).hasSize(2);
      assertThat(cli.store().all()).isEmpty();
    }
  }

  @Test
  void theCliStopsPollingAtTheCodesExpiryEvenIfTheProxyNeverSaysSo() throws Exception {
    as.deviceExpiresIn = 60; // the fake answers authorization_pending for ever
    PersonCli.Run r = cli.login("--device", "--proxy", as.url());
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err()).contains("the code expired before it was approved");
    assertThat(as.tokenForms).hasSize(11); // at 5, 10, … 55 s; the wait to 60 s reaches the deadline
  }

  @Test
  void aFewTransientFailuresAreRetriedAtTheSamePaceButNotForever() throws Exception {
    as.devicePolls.add(new Object[] {503, null});
    as.devicePolls.add(new Object[] {503, null});
    as.devicePolls.add(new Object[] {200, null});
    assertThat(cli.login("--device", "--proxy", as.url()).exit()).isZero();
    assertThat(cli.sleeps).extracting(Duration::getSeconds).containsExactly(5L, 5L, 5L);

    cli.store().remove(ProxyUrl.parse(as.url()));
    for (int i = 0; i < LoginFlow.TRANSIENT_FAILURES; i++) {
      as.devicePolls.add(new Object[] {503, null});
    }
    PersonCli.Run r = cli.login("--device", "--proxy", as.url());
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err()).contains("the proxy refused the device login: HTTP 503");
  }

  @Test
  void aProxyWithoutLoginSaysSo() throws Exception {
    as.deviceCodeStatus = 404;
    PersonCli.Run r = cli.login("--device", "--proxy", as.url());
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err()).contains("does not offer login").contains("sessions:");
  }

  @Test
  void withoutAProxyTheLoginAsksForOneAndAfterwardsReusesTheOneItKnows() throws Exception {
    PersonCli.Run first = cli.login("--device");
    assertThat(first.exit()).isEqualTo(1);
    assertThat(first.err()).contains("which proxy? pass --proxy URL").contains("VERTEX_PROXY_URL");
    assertThat(as.requests).isEmpty();
    as.devicePolls.add(new Object[] {200, null});
    cli.env.put("VERTEX_PROXY_URL", as.url());
    assertThat(cli.login("--device").exit()).isZero();
    cli.env.remove("VERTEX_PROXY_URL");
    as.devicePolls.add(new Object[] {200, null});
    PersonCli.Run again = cli.login("--device");
    assertThat(again.exit()).as(again.toString()).isZero();
    assertThat(stored().accessToken()).isEqualTo(as.token(2));
  }

  @Test
  void plainHttpToAnotherMachineIsRefusedBeforeAnyRequest() {
    PersonCli.Run r = cli.login("--device", "--proxy", "http://proxy.example.com");
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err()).contains("use https");
    assertThat(as.requests).isEmpty();
  }

  @Test
  void aLoginToAnotherProxyKeepsTheFirstSession() throws Exception {
    as.devicePolls.add(new Object[] {200, null});
    assertThat(cli.login("--device", "--proxy", as.url()).exit()).isZero();
    try (FakeProxyAuthServer other = new FakeProxyAuthServer()) {
      other.subject = "alice@other.example.com";
      other.devicePolls.add(new Object[] {200, null});
      assertThat(cli.login("--device", "--proxy", other.url()).exit()).isZero();
      assertThat(cli.store().all()).hasSize(2);
      assertThat(cli.store().get(ProxyUrl.parse(other.url())).orElseThrow().accessToken()).isEqualTo(other.token(1));
    }
    assertThat(stored().accessToken()).isEqualTo(as.token(1));
  }
}

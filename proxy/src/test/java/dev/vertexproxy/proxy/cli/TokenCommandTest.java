package dev.vertexproxy.proxy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code vertex-proxy token}: the stored token while it has more than the margin left, a new login only when a person
 * is there to answer it, and google-auth's executable-source JSON.
 */
class TokenCommandTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir
  Path dir;

  private FakeProxyAuthServer as;
  private PersonCli cli;

  @BeforeEach
  void start() throws Exception {
    as = new FakeProxyAuthServer();
    cli = new PersonCli(dir);
    cli.browser = url -> false;
    as.devicePolls.add(new Object[] {200, null});
    assertThat(cli.login("--device", "--proxy", as.url()).exit()).isZero();
    as.requests.clear();
  }

  @AfterEach
  void stop() {
    as.close();
  }

  @Test
  void aValidSessionIsPrintedAloneOnStdoutWithoutAskingTheProxy() {
    PersonCli.Run r = cli.token("--proxy", as.url());
    assertThat(r.exit()).as(r.toString()).isZero();
    assertThat(r.out()).isEqualTo(as.token(1) + "\n");
    assertThat(r.err()).isEmpty();
    assertThat(as.requests).isEmpty();
  }

  @Test
  void theOneStoredProxyNeedsNoName() {
    assertThat(cli.token().out()).isEqualTo(as.token(1) + "\n");
  }

  @Test
  void googleExecutableFormatIsWhatGoogleAuthReads() throws Exception {
    PersonCli.Run r = cli.token("--format", "google-executable");
    assertThat(r.exit()).isZero();
    JsonNode j = JSON.readTree(r.out());
    assertThat(j.size()).isEqualTo(5);
    assertThat(j.get("version").asInt()).isEqualTo(1);
    assertThat(j.get("success").asBoolean()).isTrue();
    assertThat(j.get("token_type").asText()).isEqualTo("urn:ietf:params:oauth:token-type:jwt");
    assertThat(j.get("id_token").asText()).isEqualTo(as.token(1));
    assertThat(j.get("expiration_time").asLong())
        .isEqualTo(cli.clock.instant().plus(Duration.ofHours(8)).getEpochSecond());
  }

  @Test
  void withLessThanTheMarginLeftAndNoPersonTheCommandFailsNamingTheLogin() throws Exception {
    cli.clock.advance(Duration.ofHours(8).minus(TokenCommand.MARGIN));
    PersonCli.Run r = cli.token();
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.out()).isEmpty();
    assertThat(r.err()).isEqualTo("token: the session for " + as.url() + " has expired: run `vertex-proxy login --proxy "
        + as.url() + "`\n");
    assertThat(as.requests).isEmpty();

    PersonCli.Run g = cli.token("--format", "google-executable");
    assertThat(g.exit()).as("google-auth reads the message only after exit 0").isZero();
    assertThat(g.err()).as("google-auth merges stderr into the JSON").isEmpty();
    JsonNode j = JSON.readTree(g.out());
    assertThat(j.get("success").asBoolean()).isFalse();
    assertThat(j.get("version").asInt()).isEqualTo(1);
    assertThat(j.get("code").asText()).isEqualTo("vertex_proxy_login_required");
    assertThat(j.get("message").asText()).contains("vertex-proxy login --proxy " + as.url());
  }

  @Test
  void atATerminalAnExpiredSessionIsRenewedByTheSameKindOfLoginAndOnlyTheTokenGoesToStdout() throws Exception {
    cli.interactive = true;
    cli.clock.advance(Duration.ofHours(9));
    as.devicePolls.add(new Object[] {400, "authorization_pending"});
    as.devicePolls.add(new Object[] {200, null});
    PersonCli.Run r = cli.token();
    assertThat(r.exit()).as(r.toString()).isZero();
    assertThat(r.out()).isEqualTo(as.token(2) + "\n");
    assertThat(r.err()).contains("has expired; logging in again").contains("WDJB-MJHT");
    assertThat(cli.store().get(ProxyUrl.parse(as.url())).orElseThrow().accessToken()).isEqualTo(as.token(2));
  }

  @Test
  void googleExecutableNeverStartsALoginEvenAtATerminal() throws Exception {
    cli.interactive = true;
    cli.clock.advance(Duration.ofHours(9));
    PersonCli.Run r = cli.token("--format", "google-executable");
    assertThat(r.exit()).isZero();
    assertThat(JSON.readTree(r.out()).get("success").asBoolean()).isFalse();
    assertThat(r.err()).isEmpty();
    assertThat(as.requests).isEmpty();
  }

  @Test
  void notLoggedInAnywhereSaysWhatToRun() throws Exception {
    cli.store().remove(ProxyUrl.parse(as.url()));
    PersonCli.Run r = cli.token();
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err()).contains("not logged in to any proxy: run `vertex-proxy login --proxy URL`");
  }

  @Test
  void withSessionsForSeveralProxiesTheProxyMustBeNamed() throws Exception {
    try (FakeProxyAuthServer other = new FakeProxyAuthServer()) {
      other.devicePolls.add(new Object[] {200, null});
      assertThat(cli.login("--device", "--proxy", other.url()).exit()).isZero();
      PersonCli.Run r = cli.token();
      assertThat(r.exit()).isEqualTo(1);
      assertThat(r.err()).contains("several proxies").contains(as.url()).contains(other.url());
      cli.env.put("VERTEX_PROXY_URL", other.url() + "/");
      assertThat(cli.token().out()).isEqualTo(other.token(1) + "\n");
      assertThat(cli.token("--proxy", as.url()).out()).isEqualTo(as.token(1) + "\n");
    }
  }

  @Test
  void anUnknownFormatIsAUsageError() {
    PersonCli.Run r = cli.token("--format", "yaml");
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err()).contains("expected token or google-executable");
  }
}

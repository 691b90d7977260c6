package dev.vertexproxy.proxy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code vertex-proxy logout}: revoked at the proxy with the session itself, then gone from this machine, whatever. */
class LogoutCommandTest {
  @TempDir
  Path dir;

  private FakeProxyAuthServer as;
  private PersonCli cli;
  private String token;

  @BeforeEach
  void start() throws Exception {
    as = new FakeProxyAuthServer();
    cli = new PersonCli(dir);
    as.devicePolls.add(new Object[] {200, null});
    assertThat(cli.login("--device", "--proxy", as.url()).exit()).isZero();
    token = cli.store().get(ProxyUrl.parse(as.url())).orElseThrow().accessToken();
  }

  @AfterEach
  void stop() {
    as.close();
  }

  @Test
  void theSessionIsRevokedAtTheProxyThenRemovedHereAndOtherProxiesStay() throws Exception {
    try (FakeProxyAuthServer other = new FakeProxyAuthServer()) {
      other.devicePolls.add(new Object[] {200, null});
      assertThat(cli.login("--device", "--proxy", other.url()).exit()).isZero();
      PersonCli.Run r = cli.logout("--proxy", as.url());
      assertThat(r.exit()).as(r.toString()).isZero();
      assertThat(r.out()).isEqualTo("Logged out of " + as.url() + ".\n");
      assertThat(as.revokedBearers).containsExactly(token);
      assertThat(cli.store().all().keySet()).extracting(ProxyUrl::value).containsExactly(other.url());
      assertThat(r.out() + r.err()).doesNotContain(token);
    }
  }

  @Test
  void aProxyThatCannotRevokeStillLosesTheLocalCopyAndThePersonIsTold() throws Exception {
    as.revokeStatus = 500;
    PersonCli.Run r = cli.logout();
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err()).contains("removed the session from this machine, but the proxy did not revoke it")
        .contains("stays valid until");
    assertThat(cli.store().all()).isEmpty();
  }

  @Test
  void anUnreachableProxyStillLosesTheLocalCopy() throws Exception {
    as.close();
    PersonCli.Run r = cli.logout();
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err()).contains("could not reach " + as.url());
    assertThat(cli.store().all()).isEmpty();
  }

  @Test
  void loggingOutWhenLoggedOutIsFine() {
    assertThat(cli.logout().exit()).isZero();
    PersonCli.Run r = cli.logout("--proxy", as.url());
    assertThat(r.exit()).isZero();
    assertThat(r.out()).isEqualTo("Not logged in to " + as.url() + ".\n");
    assertThat(as.revokedBearers).hasSize(1);
  }
}

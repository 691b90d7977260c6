package dev.vertexproxy.proxy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vertexproxy.policy.Caller;
import dev.vertexproxy.proxy.config.ConfigLoader;
import dev.vertexproxy.proxy.config.ProxyConfig;
import dev.vertexproxy.proxy.login.SessionIssuer;
import dev.vertexproxy.proxy.login.SessionIssuer.IssuedToken;
import dev.vertexproxy.proxy.login.SessionIssuer.TokenUse;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code vertex-proxy sessions revoke|list}: the shared revocation list, written the way a running replica reads it. */
class SessionsCommandTest {
  @TempDir
  Path dir;

  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int run(String... args) {
    out.getBuffer().setLength(0);
    err.getBuffer().setLength(0);
    return Main.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
  }

  private Path config(boolean sessions) throws Exception {
    Path c = dir.resolve("proxy.yaml");
    Files.writeString(c, """
        listen: { address: 127.0.0.1:0 }
        identity: { issuers: [ { name: humans, issuer: https://idp.example.com, login: { client_id: p } } ] }
        policy: { file: policy.yaml }
        audit: { dir: audit }
        """ + (sessions ? "sessions: { issuer: https://vertex-proxy.example.com, signing_keys_dir: keys }\n" : ""));
    return c;
  }

  @Test
  void revokingASubjectEndsItsTokensOnAReplicaThatReadsTheFile() throws Exception {
    Path c = config(true);
    ProxyConfig cfg = new ConfigLoader().load(c);
    SessionIssuer replica = SessionIssuer.load(cfg.sessions(), Clock.systemUTC(), 16384);
    IssuedToken t = replica.mint(new Caller("humans", "alice", Map.of()), TokenUse.SESSION, "login", null);
    Instant issued = Instant.now().minusSeconds(1);

    assertThat(run("sessions", "revoke", "--config", c.toString(), "--issuer", "humans", "--subject", "alice"))
        .as(err.toString()).isZero();
    assertThat(out.toString()).contains("revoked every token of humans/alice");
    replica.revocations().refresh();
    assertThat(replica.revoked("humans", "alice", issued, t.id())).isTrue();
    assertThat(replica.revoked("humans", "bob", issued, "other")).isFalse();

    assertThat(run("sessions", "list", "--config", c.toString())).isZero();
    assertThat(out.toString()).contains("humans/alice");
  }

  @Test
  void revokingOneSessionLeavesTheOthers() throws Exception {
    Path c = config(true);
    SessionIssuer replica = SessionIssuer.load(new ConfigLoader().load(c).sessions(), Clock.systemUTC(), 16384);
    assertThat(run("sessions", "revoke", "-c", c.toString(), "--session", "abc")).as(err.toString()).isZero();
    replica.revocations().refresh();
    assertThat(replica.revoked("humans", "alice", Instant.now(), "abc")).isTrue();
    assertThat(replica.revoked("humans", "alice", Instant.now(), "abd")).isFalse();
  }

  @Test
  void aConfigWithoutSessionsOrATargetIsAnError() throws Exception {
    Path c = config(false);
    // a login needs sessions: the config does not even load
    assertThat(run("sessions", "revoke", "-c", c.toString(), "--session", "abc")).isNotZero();
    assertThat(run("sessions", "revoke", "-c", config(true).toString())).isEqualTo(2);
    assertThat(err.toString()).contains("--session").contains("--issuer");
  }
}

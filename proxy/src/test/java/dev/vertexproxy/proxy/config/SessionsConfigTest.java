package dev.vertexproxy.proxy.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code sessions} and {@code identity.issuers[].login}: what loads, the defaults, and every mistake with its line. */
class SessionsConfigTest {
  @TempDir
  Path dir;

  private static final String BASE = """
      listen: { address: 127.0.0.1:8443 }
      policy: { file: policy.yaml }
      audit: { dir: audit }
      """;

  private ProxyConfig load(String yaml) throws ConfigException {
    return new ConfigLoader(Map.of("SECRET_VAR", "s3cr3t-from-env")::get).parse(BASE + yaml, "proxy.yaml", dir);
  }

  private String problems(String yaml) {
    try {
      load(yaml);
      throw new AssertionError("loaded");
    } catch (ConfigException e) {
      return e.getMessage();
    }
  }

  @Test
  void aLoginIssuerWithoutAudiencesAndTheSessionsDefaultsLoad() throws Exception {
    Files.writeString(dir.resolve("secret.txt"), "s3cr3t-from-file\n");
    ProxyConfig c = load("""
        identity: { issuers: [ { name: humans, issuer: https://idp.example.com,
                                 login: { client_id: vertex-proxy, client_secret_file: secret.txt } } ] }
        sessions: { issuer: https://vertex-proxy.example.com/, signing_keys_dir: keys }
        """);
    IssuerConfig.Login login = c.identity().issuers().get(0).login();
    assertThat(login.clientId()).isEqualTo("vertex-proxy");
    assertThat(login.clientSecret()).contains("s3cr3t-from-file");
    assertThat(login.scopes()).containsExactly("openid", "email", "profile");
    assertThat(login.toString()).doesNotContain("s3cr3t");
    assertThat(c.identity().issuers().get(0).audiences()).isEmpty();
    SessionsConfig s = c.sessions();
    assertThat(s.issuerUrl()).isEqualTo("https://vertex-proxy.example.com");
    assertThat(s.lifetime()).isEqualTo(Duration.ofHours(8));
    assertThat(s.accessTokenLifetime()).isEqualTo(Duration.ofHours(1));
    assertThat(s.signingKeysDir()).isEqualTo(dir.resolve("keys"));
    assertThat(s.revocationsFile()).isEqualTo(dir.resolve("keys/revocations.json"));
    assertThat(s.algorithm()).isEqualTo("RS256");
    assertThat(s.claims()).isNull();
  }

  @Test
  void theSecretMayComeFromTheEnvironmentAndOpenidIsAlwaysRequested() throws Exception {
    ProxyConfig c = load("""
        identity: { issuers: [ { name: humans, issuer: https://idp.example.com,
                                 login: { client_id: p, client_secret_env: VP_TEST_UNSET_SECRET, scopes: [email, groups] } } ] }
        sessions: { issuer: https://p.example.com, signing_keys_dir: keys, claims: [email, groups] }
        """);
    // read at start, not at load: serve --check runs where the secret is not mounted
    assertThatThrownBy(() -> c.identity().issuers().get(0).login().clientSecret())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("VP_TEST_UNSET_SECRET is not set");
    assertThat(c.identity().issuers().get(0).login().scopes()).containsExactly("openid", "email", "groups");
    assertThat(c.sessions().claims()).containsExactly("email", "groups");
  }

  @Test
  void everyMistakeIsReportedWithItsKeyAndNoSecretIsEverShown() {
    String p = problems("""
        identity: { issuers: [ { name: humans, issuer: https://idp.example.com,
                                 login: { client_secret_file: x.txt, client_secret_env: 'not a name', scopes: ['a b'] } } ] }
        sessions: { issuer: 'https://p.example.com/path', signing_keys_dir: keys, signing_key_file: k.pem,
                    algorithm: HS256, claims: [email, nonce], lifetime: 30d }
        """);
    assertThat(p).contains("login.client_id: required", "login.client_secret_env", "login.scopes",
        "sessions.issuer", "sessions.signing_key_file", "sessions.algorithm", "sessions.claims", "sessions.lifetime");
  }

  @Test
  void aLoginNeedsSessionsAndAnIssuerWithoutLoginNeedsAudiences() {
    assertThat(problems("""
        identity: { issuers: [ { name: humans, issuer: https://idp.example.com, login: { client_id: p } } ] }
        """)).contains("sessions: required: identity.issuers[humans].login needs");
    assertThat(problems("""
        identity: { issuers: [ { name: gitlab, issuer: https://gitlab.example.com } ] }
        """)).contains("audiences: required");
  }

  @Test
  void theProxysUrlIsNotAnUpstreamIssuersAndAFixedKeyNeedsARevocationsFile() {
    assertThat(problems("""
        identity: { issuers: [ { name: gitlab, issuer: https://gitlab.example.com, audiences: [x] } ] }
        sessions: { issuer: https://gitlab.example.com, signing_key_file: key.pem }
        """)).contains("sessions.issuer", "sessions.revocations_file: required with signing_key_file");
  }

  @Test
  void anUnreadableSecretFileFailsWhenReadAndNeverShowsTheSecret() throws Exception {
    Files.writeString(dir.resolve("empty.txt"), "  \n");
    ProxyConfig c = load("""
        identity: { issuers: [ { name: humans, issuer: https://idp.example.com,
                                 login: { client_id: p, client_secret_file: empty.txt } } ] }
        sessions: { issuer: https://p.example.com, signing_keys_dir: keys }
        """);
    assertThatThrownBy(() -> c.identity().issuers().get(0).login().clientSecret()).hasMessageContaining("is empty");
    Files.writeString(dir.resolve("empty.txt"), "s3cr3t\n");
    assertThat(c.identity().issuers().get(0).login().toString()).doesNotContain("s3cr3t").contains("empty.txt");
  }
}

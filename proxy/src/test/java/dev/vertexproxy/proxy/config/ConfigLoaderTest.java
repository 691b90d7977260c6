package dev.vertexproxy.proxy.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.vertexproxy.policy.yaml.Problem;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigLoaderTest {
  private static final Path BASE = Path.of("/etc/vertex-proxy");
  private static final String VALID = """
      listen:  { address: 0.0.0.0:8443, tls: { cert: tls.crt, key: tls.key } }
      admin:   { address: 127.0.0.1:9090 }
      upstream:
        url_template: https://{location}-aiplatform.googleapis.com
      identity:
        issuers:
          - name: gitlab
            issuer: https://gitlab.example.com
            audiences: [https://vertex-proxy.example.com]
            algorithms: [RS256]
      policy:  { file: policy.yaml }
      credentials:
        mode: impersonate
      audit:   { dir: audit/, durability: group_commit, on_failure: reject }
      """;

  private final ConfigLoader loader = new ConfigLoader(Map.of("AUDIT_DIR", "/var/audit")::get);

  @Test
  void theDesignExampleLoadsWithPathsResolvedAgainstTheConfigDirectory() throws Exception {
    ProxyConfig c = loader.parse(VALID, "proxy.yaml", BASE);
    assertThat(c.listen().address().getPort()).isEqualTo(8443);
    assertThat(c.listen().tls().cert()).isEqualTo(Path.of("/etc/vertex-proxy/tls.crt"));
    assertThat(c.identity().issuers()).singleElement().satisfies(i -> {
      assertThat(i.name()).isEqualTo("gitlab");
      assertThat(i.issuer().toString()).isEqualTo("https://gitlab.example.com");
      assertThat(i.jwksUri()).isNull();
    });
    assertThat(c.identity().clockSkew()).isEqualTo(Duration.ofSeconds(30));
    assertThat(c.policy().file()).isEqualTo(Path.of("/etc/vertex-proxy/policy.yaml"));
    assertThat(c.credentials().mode()).isEqualTo(CredentialsConfig.Mode.IMPERSONATE);
    assertThat(c.audit().durability()).isEqualTo(AuditConfig.Durability.GROUP_COMMIT);
    assertThat(c.audit().onFailure()).isEqualTo(AuditConfig.OnFailure.REJECT);
  }

  @Test
  void environmentVariablesAreSubstitutedWithDefaults() throws Exception {
    String yaml = VALID.replace("dir: audit/", "dir: '${AUDIT_DIR}'").replace("0.0.0.0:8443", "'${LISTEN:-127.0.0.1:8000}'");
    ProxyConfig c = loader.parse(yaml, "proxy.yaml", BASE);
    assertThat(c.audit().dir()).isEqualTo(Path.of("/var/audit"));
    assertThat(c.listen().address().getPort()).isEqualTo(8000);
  }

  @Test
  void everyProblemIsReportedAtOnceWithLineAndKey() {
    String yaml = VALID
        .replace("0.0.0.0:8443", "0.0.0.0:70000")
        .replace("algorithms: [RS256]", "algorithms: [HS256]\n      audience: typo")
        .replace("durability: group_commit", "durability: eventually")
        .replace("credentials:\n  mode: impersonate", "credentials:\n  mode: impersonate\n  lifetme: 1h");
    assertThatThrownBy(() -> loader.parse(yaml, "proxy.yaml", BASE))
        .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(lines(e)).anySatisfy(p ->
                assertThat(p).startsWith("proxy.yaml:1:").contains("listen.address").contains("70000").contains("expected"))
            .anySatisfy(p -> assertThat(p).contains("identity.issuers[0].algorithms").contains("HS256"))
            .anySatisfy(p -> assertThat(p).contains("identity.issuers[0].audience").contains("unknown key"))
            .anySatisfy(p -> assertThat(p).contains("credentials.lifetme").contains("unknown key"))
            .anySatisfy(p -> assertThat(p).contains("audit.durability").contains("eventually").contains("group_commit")));
  }

  @Test
  void unknownTopLevelKeysMissingSectionsAndUnsetVariablesAreErrors() {
    assertThatThrownBy(() -> loader.parse("listen: { address: ':1' }\nlisten_typo: 1\n", "p.yaml", BASE))
        .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(lines(e))
            .anySatisfy(p -> assertThat(p).contains("listen_typo").contains("unknown key"))
            .anySatisfy(p -> assertThat(p).contains("identity").contains("required"))
            .anySatisfy(p -> assertThat(p).contains("policy").contains("required"))
            .anySatisfy(p -> assertThat(p).contains("audit").contains("required")));
    assertThatThrownBy(() -> loader.parse(VALID.replace("audit/", "'${NOPE}'"), "p.yaml", BASE))
        .hasMessageContaining("NOPE is not set");
  }

  @Test
  void gitlabComIsSharedByDefaultAndSharedIsSettableEitherWay() throws Exception {
    for (String url : List.of("https://gitlab.com", "https://gitlab.com/", "https://GitLab.COM", "https://gitlab.com:443/")) {
      assertThat(onlyIssuer(VALID.replace("https://gitlab.example.com", url)).shared()).as(url).isTrue();
    }
    for (String url : List.of("https://gitlab.example.com", "https://gitlab.com.evil.example", "http://gitlab.com",
        "https://gitlab.com/group", "https://gitlab.com:8443")) {
      assertThat(onlyIssuer(VALID.replace("https://gitlab.example.com", url)).shared()).as(url).isFalse();
    }
    assertThat(onlyIssuer(VALID.replace("algorithms: [RS256]", "algorithms: [RS256]\n      shared: true")).shared())
        .isTrue();
    assertThat(onlyIssuer(VALID.replace("https://gitlab.example.com", "https://gitlab.com")
        .replace("algorithms: [RS256]", "algorithms: [RS256]\n      shared: False")).shared()).isFalse();
    assertThat(new ConfigLoader(Map.of("SHARED", "true")::get).parse(VALID.replace("algorithms: [RS256]",
        "algorithms: [RS256]\n      shared: ${SHARED}"), "proxy.yaml", BASE).identity().issuers().get(0).shared()).isTrue();
  }

  @Test
  void sharedMustBeAnUnquotedBoolean() {
    for (String value : List.of("yes", "\"true\"", "1", "[true]", "sometimes")) {
      String yaml = VALID.replace("algorithms: [RS256]", "algorithms: [RS256]\n      shared: " + value);
      assertThatThrownBy(() -> loader.parse(yaml, "proxy.yaml", BASE)).as(value)
          .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(lines(e)).singleElement().satisfies(p ->
              assertThat(p).startsWith("proxy.yaml:11:15: identity.issuers[0].shared: ").contains("true or false")));
    }
  }

  /** The problems as every command prints them. */
  private static List<String> lines(ConfigException e) {
    return e.problems().stream().map(Problem::toString).toList();
  }

  private IssuerConfig onlyIssuer(String yaml) throws ConfigException {
    return loader.parse(yaml, "proxy.yaml", BASE).identity().issuers().get(0);
  }

  @Test
  void aDurationTooLargeToRepresentIsALoadErrorNotACrash() {
    for (String huge : new String[] {"99999999999999999999s", "9999999999999999h"}) {
      String yaml = VALID + "limits:\n  idle_timeout: " + huge + "\n";
      assertThatThrownBy(() -> loader.parse(yaml, "proxy.yaml", BASE)).as(huge)
          .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(lines(e)).singleElement().satisfies(p ->
              assertThat(p).startsWith("proxy.yaml:16:").contains("limits.idle_timeout").contains(huge).contains("too large")));
    }
  }

  @Test
  void maxTokenLifetimeDefaultsTo24hAndIsReadPerIssuer() throws Exception {
    assertThat(loader.parse(VALID, "proxy.yaml", BASE).identity().issuers().get(0).maxTokenLifetime())
        .isEqualTo(Duration.ofHours(24));
    String twoIssuers = VALID.replace("      algorithms: [RS256]\n", """
              algorithms: [RS256]
              max_token_lifetime: 90m
            - name: long-jobs
              issuer: https://gitlab.other.example.com
              audiences: [https://vertex-proxy.example.com]
              max_token_lifetime: 720h
        """);
    ProxyConfig c = loader.parse(twoIssuers, "proxy.yaml", BASE);
    assertThat(c.identity().issuers()).extracting(IssuerConfig::maxTokenLifetime)
        .containsExactly(Duration.ofMinutes(90), Duration.ofDays(30));
  }

  @Test
  void maxTokenLifetimeOutsideItsRangeIsALoadErrorWithLine() {
    for (String bad :
        new String[] {"0s", "0h", "721h", "43201m", "-1h", "1d", "forever", "99999999999999999999h", "9999999999999999h"}) {
      String yaml = VALID.replace("algorithms: [RS256]", "algorithms: [RS256]\n      max_token_lifetime: " + bad);
      assertThatThrownBy(() -> loader.parse(yaml, "proxy.yaml", BASE)).as(bad)
          .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(lines(e)).singleElement().satisfies(p ->
              assertThat(p).startsWith("proxy.yaml:11:").contains("identity.issuers[0].max_token_lifetime")
                  .contains('"' + bad + '"').contains("expected")));
    }
    assertThatThrownBy(() -> loader.parse(
        VALID.replace("algorithms: [RS256]", "algorithms: [RS256]\n      max_token_lifetime: 721h"), "proxy.yaml", BASE))
        .hasMessageContaining("720h");
  }

  @Test
  void stsModeLoadsWithItsProviderAndRefusesAMalformedOne() throws Exception {
    String provider = "//iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/gitlab-ci"
        + "/providers/gitlab";
    ProxyConfig sts = loader.parse(VALID.replace("mode: impersonate", "mode: sts\n  sts: { audience: '" + provider
        + "', token_url: 'https://sts.example/v1/token' }\n  delegates: [hop@p.iam.gserviceaccount.com]"
        + "\n  fetch_timeout: 2s"), "p.yaml", BASE);
    assertThat(sts.credentials().mode()).isEqualTo(CredentialsConfig.Mode.STS);
    assertThat(sts.credentials().stsAudience()).isEqualTo(provider);
    assertThat(sts.credentials().sts().tokenUrl()).hasToString("https://sts.example/v1/token");
    assertThat(sts.credentials().delegates()).containsExactly("hop@p.iam.gserviceaccount.com");
    assertThat(sts.credentials().fetchTimeout()).isEqualTo(Duration.ofSeconds(2));
    assertThat(loader.parse(VALID, "p.yaml", BASE).credentials().sts().tokenUrl())
        .isEqualTo(CredentialsConfig.GOOGLE_STS_TOKEN_URL);

    assertThatThrownBy(() -> loader.parse(VALID.replace("mode: impersonate", "mode: sts\n  sts: { audience:"
        + " 'https://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/gitlab-ci/providers/gitlab' }"
        + "\n  delegates: [not-an-account]"), "p.yaml", BASE))
        .hasMessageContaining("credentials.sts.audience").hasMessageContaining("a workload identity provider")
        .hasMessageContaining("credentials.delegates");
  }

  @Test
  void duplicateKeysAndAliasesAreRefused() {
    assertThatThrownBy(() -> loader.parse(VALID + "policy: { file: other.yaml }\n", "p.yaml", BASE))
        .isInstanceOf(ConfigException.class);
  }
}

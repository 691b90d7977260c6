package dev.vertexproxy.proxy.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.vertexproxy.policy.yaml.Problem;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The {@code policy:} block: its defaults, its keys, and every wrong value refused with file, line and expectation. */
class PolicyBlockConfigTest {
  private static final Path BASE = Path.of("/etc/vertex-proxy");
  private static final String HEAD = """
      listen: { address: 127.0.0.1:8080 }
      identity:
        issuers:
          - { name: gitlab, issuer: https://gitlab.example.com, audiences: [https://vertex-proxy.example.com] }
      audit: { dir: audit/ }
      policy:
        file: policy.yaml
      """;

  private final ConfigLoader loader = new ConfigLoader(Map.<String, String>of()::get);

  @Test
  void defaultsWatchCheckEveryTenSecondsAndExplainByReason() throws Exception {
    ProxyConfig.PolicySource p = loader.parse(HEAD, "proxy.yaml", BASE).policy();
    assertThat(p.file()).isEqualTo(BASE.resolve("policy.yaml"));
    assertThat(p.watch()).isTrue();
    assertThat(p.checkInterval()).isEqualTo(Duration.ofSeconds(10));
    assertThat(p.explainDenials()).isEqualTo(ProxyConfig.ExplainDenials.REASON);
  }

  @Test
  void eachKeyIsRead() throws Exception {
    ProxyConfig.PolicySource p = loader.parse(HEAD + "  watch: false\n  check_interval: 2s\n  explain_denials: none\n",
        "proxy.yaml", BASE).policy();
    assertThat(p.watch()).isFalse();
    assertThat(p.checkInterval()).isEqualTo(Duration.ofSeconds(2));
    assertThat(p.explainDenials()).isEqualTo(ProxyConfig.ExplainDenials.NONE);
  }

  @Test
  void wrongValuesAndUnknownKeysAreErrorsWithTheirLine() {
    for (String[] bad : new String[][] {
        {"explain_denials: verbose", "policy.explain_denials", "full, reason, none"},
        {"check_interval: 0s", "policy.check_interval", "1s to 1h"},
        {"check_interval: 2h", "policy.check_interval", "1s to 1h"},
        {"watch: yes", "policy.watch", "true"},
        {"wacth: true", "policy.wacth", "watch"}}) {
      assertThatThrownBy(() -> loader.parse(HEAD + "  " + bad[0] + "\n", "proxy.yaml", BASE)).as(bad[0])
          .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.problems()).map(Problem::toString)
              .singleElement().satisfies(line -> assertThat(line).startsWith("proxy.yaml:8:").contains(bad[1])
                  .contains(bad[2])));
    }
  }
}

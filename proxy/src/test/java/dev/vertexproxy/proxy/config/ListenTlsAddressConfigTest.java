package dev.vertexproxy.proxy.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.vertexproxy.policy.yaml.Problem;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code listen.tls.address}: TLS on a port of its own, plain HTTP on {@code listen.address}; absent, as before. */
class ListenTlsAddressConfigTest {
  private static final Path BASE = Path.of("/etc/vertex-proxy");
  private static final String CONFIG = """
      listen:  { address: 127.0.0.1:8080, tls: { cert: tls.crt, key: tls.key, address: 0.0.0.0:8443 } }
      identity:
        issuers:
          - name: gitlab
            issuer: https://gitlab.example.com
            audiences: [https://vertex-proxy.example.com]
      policy:  { file: policy.yaml }
      audit:   { dir: audit/ }
      """;

  private final ConfigLoader loader = new ConfigLoader(Map.<String, String>of()::get);

  @Test
  void theTlsAddressIsItsOwnListener() throws Exception {
    ProxyConfig c = loader.parse(CONFIG, "proxy.yaml", BASE);
    assertThat(c.listen().address().getPort()).isEqualTo(8080);
    assertThat(c.listen().tls().address().getHostString()).isEqualTo("0.0.0.0");
    assertThat(c.listen().tls().address().getPort()).isEqualTo(8443);
    assertThat(c.listen().tls().cert()).isEqualTo(BASE.resolve("tls.crt"));
  }

  @Test
  void withoutItTlsStaysOnTheListenAddress() throws Exception {
    ProxyConfig c = loader.parse(CONFIG.replace(", address: 0.0.0.0:8443", ""), "proxy.yaml", BASE);
    assertThat(c.listen().tls()).isNotNull();
    assertThat(c.listen().tls().address()).isNull();
  }

  @Test
  void thePlainPortCannotAlsoBeTheTlsPort() {
    for (String clash : new String[] {"127.0.0.1:8080", "0.0.0.0:8080"}) {
      assertThatThrownBy(() -> loader.parse(CONFIG.replace("0.0.0.0:8443", clash), "proxy.yaml", BASE))
          .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.problems()).singleElement()
              .extracting(Problem::toString).asString()
              .startsWith("proxy.yaml:1:").contains("listen.tls.address", clash, "another port than listen.address"));
    }
  }

  @Test
  void aBadAddressIsReportedWithItsKey() {
    assertThatThrownBy(() -> loader.parse(CONFIG.replace("0.0.0.0:8443", "nowhere"), "proxy.yaml", BASE))
        .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.problems()).singleElement()
            .extracting(Problem::toString).asString().contains("listen.tls.address", "nowhere", "host:port"));
  }
}

package dev.vertexproxy.proxy.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code listen.trusted_proxies}, {@code listen.forwarded_header}, {@code listen.tls.reload_interval}, {@code logging}. */
class ObservabilityConfigTest {
  private static final String BASE = """
      listen:
        address: 0.0.0.0:8443
      identity:
        issuers:
          - { name: gitlab, issuer: https://gitlab.example.com, audiences: [x] }
      policy: { file: policy.yaml }
      audit: { dir: audit/ }
      """;

  private static ProxyConfig load(String yaml, Map<String, String> env) throws ConfigException {
    return new ConfigLoader(env::get).parse(yaml, "proxy.yaml", Path.of("/etc/vp"));
  }

  private static String problems(String yaml) {
    try {
      load(yaml, Map.of());
      throw new AssertionError("expected problems");
    } catch (ConfigException e) {
      return e.getMessage();
    }
  }

  @Test
  void defaultsTrustNobodyAndLogAutoAtInfoWithoutAccessLog() throws Exception {
    ProxyConfig c = load(BASE, Map.of());
    assertThat(c.listen().trustedProxies().isEmpty()).isTrue();
    assertThat(c.listen().forwardedHeader()).isEqualTo(ProxyConfig.ForwardedHeader.X_FORWARDED_FOR);
    assertThat(c.logging())
        .isEqualTo(new ProxyConfig.Logging(ProxyConfig.LogFormat.AUTO, ProxyConfig.LogLevel.INFO, false, null));
  }

  @Test
  void trustedProxiesAndLoggingLoad() throws Exception {
    ProxyConfig c = load(BASE.replace("  address: 0.0.0.0:8443\n", """
          address: 0.0.0.0:8443
          trusted_proxies: [10.0.0.0/8, 2001:db8::/32, 203.0.113.7]
          forwarded_header: forwarded
          tls: { cert: c.pem, key: k.pem, reload_interval: 1m }
        """) + "logging: { format: json, level: debug, access_log: true, trace_project: acme-ml-prod }\n", Map.of());
    assertThat(c.listen().trustedProxies().contains(TrustedProxies.literal("10.9.8.7"))).isTrue();
    assertThat(c.listen().trustedProxies().contains(TrustedProxies.literal("203.0.113.8"))).isFalse();
    assertThat(c.listen().forwardedHeader()).isEqualTo(ProxyConfig.ForwardedHeader.FORWARDED);
    assertThat(c.listen().tls().reloadInterval()).isEqualTo(Duration.ofMinutes(1));
    assertThat(c.logging()).isEqualTo(new ProxyConfig.Logging(ProxyConfig.LogFormat.JSON, ProxyConfig.LogLevel.DEBUG, true,
        "acme-ml-prod"));
  }

  @Test
  void theTraceProjectFallsBackToTheEnvironmentWhenItIsAProjectId() throws Exception {
    assertThat(load(BASE, Map.of("GOOGLE_CLOUD_PROJECT", "acme-ml-prod")).logging().traceProject()).isEqualTo("acme-ml-prod");
    assertThat(load(BASE, Map.of("GOOGLE_CLOUD_PROJECT", "x\"}, {\"evil")).logging().traceProject()).isNull();
  }

  @Test
  void badEntriesAreRefusedEachAtItsOwnLine() {
    String msg = problems(BASE.replace("  address: 0.0.0.0:8443\n", """
          address: 0.0.0.0:8443
          trusted_proxies:
            - 10.0.0.0/8
            - lb.example.com
            - 10.0.0.0/40
            - 10.0.0.1/8
          forwarded_header: x-real-ip
        """) + "logging: { format: xml, level: loud, access_log: maybe, trace_project: 'a/b' }\n");
    assertThat(msg).contains("proxy.yaml:5:", "listen.trusted_proxies[1]: \"lb.example.com\"", "no host names")
        .contains("proxy.yaml:6:", "listen.trusted_proxies[2]: \"10.0.0.0/40\"", "0..32")
        .contains("proxy.yaml:7:", "listen.trusted_proxies[3]: \"10.0.0.1/8\"", "10.0.0.0/8")
        .contains("listen.forwarded_header: \"x-real-ip\"")
        .contains("logging.format: \"xml\"", "logging.level: \"loud\"", "logging.access_log", "logging.trace_project");
  }

  @Test
  void anEmptyListIsRefusedRatherThanMeaningNobody() {
    assertThatThrownBy(() -> load(BASE.replace("  address: 0.0.0.0:8443\n", "  address: 0.0.0.0:8443\n  trusted_proxies: []\n"),
        Map.of())).isInstanceOf(ConfigException.class).hasMessageContaining("trusted_proxies");
  }
}

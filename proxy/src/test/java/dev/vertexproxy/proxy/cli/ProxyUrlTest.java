package dev.vertexproxy.proxy.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code --proxy}: one spelling per proxy, and no URL that would send a session token in the clear or astray. */
class ProxyUrlTest {
  @Test
  void spellingsOfOneProxyNormalizeToOneKey() throws CliException {
    for (String s : List.of("https://proxy.example.com", "HTTPS://Proxy.Example.com/", "https://proxy.example.com:443",
        " https://proxy.example.com ")) {
      assertThat(ProxyUrl.parse(s).value()).as(s).isEqualTo("https://proxy.example.com");
    }
    assertThat(ProxyUrl.parse("https://proxy.example.com:8443").value()).isEqualTo("https://proxy.example.com:8443");
    assertThat(ProxyUrl.parse("http://127.0.0.1:8080/").value()).isEqualTo("http://127.0.0.1:8080");
    assertThat(ProxyUrl.parse("http://[::1]:8080").value()).isEqualTo("http://[::1]:8080");
    assertThat(ProxyUrl.parse("http://localhost").value()).isEqualTo("http://localhost");
  }

  @Test
  void plainHttpIsOnlyForThisMachine() {
    for (String s : List.of("http://proxy.example.com", "http://10.0.0.1:8080", "http://127.example.com")) {
      assertThatThrownBy(() -> ProxyUrl.parse(s)).as(s).isInstanceOf(CliException.class).hasMessageContaining("use https");
    }
  }

  @Test
  void whatIsNotABaseUrlIsRefusedWithTheExpectation() {
    for (String s : List.of("proxy.example.com", "ftp://proxy.example.com", "https://proxy.example.com/v1",
        "https://proxy.example.com/?a=b", "https://proxy.example.com/#x", "not a url", "")) {
      assertThatThrownBy(() -> ProxyUrl.parse(s)).as(s).isInstanceOf(CliException.class);
    }
  }

  @Test
  void userInfoIsRefusedWithoutEchoingIt() {
    assertThatThrownBy(() -> ProxyUrl.parse("https://me:hunter2@proxy.example.com")).isInstanceOf(CliException.class)
        .hasMessageNotContaining("hunter2");
  }
}

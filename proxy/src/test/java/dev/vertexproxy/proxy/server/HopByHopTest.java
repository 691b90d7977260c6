package dev.vertexproxy.proxy.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import org.junit.jupiter.api.Test;

class HopByHopTest {
  @Test
  void hopByHopHeadersAndThoseNamedInConnectionAreRemoved() {
    HttpHeaders h = new DefaultHttpHeaders()
        .add("Connection", "keep-alive, X-Secret-Hop").add("X-Secret-Hop", "1").add("Keep-Alive", "timeout=5")
        .add("Transfer-Encoding", "chunked").add("Upgrade", "h2c").add("TE", "trailers").add("Content-Type", "application/json");
    HopByHop.strip(h);
    assertThat(h.names()).containsExactly("Content-Type");
  }

  @Test
  void callerCredentialsNeverGoUpstream() {
    HttpHeaders h = new DefaultHttpHeaders()
        .add("Authorization", "Bearer caller").add("Proxy-Authorization", "Bearer caller").add("Cookie", "a=b")
        .add("x-goog-api-key", "AIza").add("X-Goog-User-Project", "someone-elses").add("x-goog-api-client", "genai-java/1.80")
        .add("X-Forwarded-For", "1.2.3.4").add("User-Agent", "curl");
    HopByHop.stripForUpstream(h);
    assertThat(h.names()).containsExactlyInAnyOrder("x-goog-api-client", "User-Agent");
  }
}

package dev.vertexproxy.proxy.upstream;

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
  void framingNeverCrossesTheProxyWhoeverSendsIt() {
    HttpHeaders h = new DefaultHttpHeaders().add("Content-Length", "12").add("Transfer-Encoding", "chunked").add("X-Keep", "1");
    HopByHop.strip(h);
    assertThat(h.names()).containsExactly("X-Keep");
  }

  @Test
  void connectionMayNotNameTheFramingTheHostACredentialOrTheGoogleFamily() {
    assertThat(HopByHop.protectedOption(new DefaultHttpHeaders().add("Connection", "keep-alive, Content-Length")))
        .isEqualTo("Content-Length");
    assertThat(HopByHop.protectedOption(
        new DefaultHttpHeaders().add("Connection", "close").add("Connection", "TRANSFER-ENCODING,x")))
        .isEqualTo("Transfer-Encoding");
    assertThat(HopByHop.protectedOption(new DefaultHttpHeaders().add("Connection", "host"))).isEqualTo("Host");
    assertThat(HopByHop.protectedOption(new DefaultHttpHeaders().add("Connection", "authorization"))).isEqualTo("Authorization");
    assertThat(HopByHop.protectedOption(new DefaultHttpHeaders().add("Connection", "X-Goog-Request-Params")))
        .isEqualTo("X-Goog-*");
    assertThat(HopByHop.protectedOption(new DefaultHttpHeaders().add("Connection", "x-vertex-proxy-request-id")))
        .isEqualTo("X-Vertex-Proxy-*");
    assertThat(HopByHop.protectedOption(new DefaultHttpHeaders().add("Connection", "keep-alive, TE, X-Custom"))).isNull();
    assertThat(HopByHop.protectedOption(new DefaultHttpHeaders())).isNull();
  }

  @Test
  void googleSteeringHeadersNeverGoUpstreamOnlyTheDescriptiveOnesDo() {
    HttpHeaders h = new DefaultHttpHeaders()
        .add("X-Goog-Request-Params", "model=projects%2Fother").add("x-goog-visibilities", "PREVIEW")
        .add("X-GOOG-USER-PROJECT", "x")
        .add("X-Goog-Upload-Protocol", "resumable").add("X-Goog-Api-Client", "gl-java/17").add("x-goog-fieldmask", "candidates")
        .add("X-Goog-Request-Reason", "ticket-1").add("X-Googler", "not in the family");
    HopByHop.stripForUpstream(h);
    assertThat(h.names())
        .containsExactlyInAnyOrder("X-Goog-Api-Client", "x-goog-fieldmask", "X-Goog-Request-Reason", "X-Googler");
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

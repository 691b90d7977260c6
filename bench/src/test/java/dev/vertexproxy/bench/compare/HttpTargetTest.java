package dev.vertexproxy.bench.compare;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The exact bytes every client tool writes for a request: what a proxy under test sees from the generator. */
class HttpTargetTest {
  @Test
  void theRequestIsEncodedOnceWithHostAndContentLengthAddedAndTheQueryKept() {
    HttpTarget t = HttpTarget.of("http://127.0.0.1:8080/v1/m:streamGenerateContent?alt=sse&bench_events=3",
        List.of("Authorization: Bearer abc", "Content-Type:application/json"), "{}".getBytes(StandardCharsets.UTF_8), "POST");
    assertThat(t.request().toString(StandardCharsets.ISO_8859_1)).isEqualTo(
        "POST /v1/m:streamGenerateContent?alt=sse&bench_events=3 HTTP/1.1\r\n"
            + "Authorization: Bearer abc\r\nContent-Type: application/json\r\nHost: 127.0.0.1:8080\r\n"
            + "Content-Length: 2\r\n\r\n{}");
    // each call hands out the same bytes from the start
    assertThat(t.request().readableBytes()).isEqualTo(t.request().readableBytes());
  }

  @Test
  void aGivenHostHeaderIsKeptAndAGetWithoutBodyHasNoContentLength() {
    HttpTarget t = HttpTarget.of("http://localhost:9/", List.of("Host: vertex.example"), new byte[0], "GET");
    assertThat(t.request().toString(StandardCharsets.ISO_8859_1)).isEqualTo("GET / HTTP/1.1\r\nHost: vertex.example\r\n\r\n");
  }

  @Test
  void aUrlWithoutPortOrSchemeAndAHeaderWithoutColonAreRefused() {
    assertThatThrownBy(() -> HttpTarget.of("http://127.0.0.1:/x", List.of(), new byte[0], "GET"))
        .hasMessageContaining("--url");
    assertThatThrownBy(() -> HttpTarget.of("ftp://127.0.0.1:1/x", List.of(), new byte[0], "GET"))
        .hasMessageContaining("--url");
    assertThatThrownBy(() -> HttpTarget.of("http://127.0.0.1:1/x", List.of("NoColon"), new byte[0], "GET"))
        .hasMessageContaining("--header");
  }
}

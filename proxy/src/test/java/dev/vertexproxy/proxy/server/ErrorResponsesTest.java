package dev.vertexproxy.proxy.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vertexproxy.proxy.reason.Reason;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.handler.codec.http.FullHttpResponse;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ErrorResponsesTest {
  @Test
  void refusalsUseGooglesErrorShapeWithTheReason() throws Exception {
    FullHttpResponse r = ErrorResponses.of(UnpooledByteBufAllocator.DEFAULT,
        Reason.METHOD_NOT_GRANTED, "No rule grants \"x\" <here>\n", "abc123");
    try {
      assertThat(r.status().code()).isEqualTo(403);
      assertThat(r.headers().get("content-type")).startsWith("application/json");
      JsonNode e = new ObjectMapper().readTree(r.content().toString(StandardCharsets.UTF_8)).get("error");
      assertThat(e.get("code").asInt()).isEqualTo(403);
      assertThat(e.get("status").asText()).isEqualTo("PERMISSION_DENIED");
      assertThat(e.get("message").asText()).isEqualTo("No rule grants \"x\" <here>\n");
      assertThat(e.at("/details/0/reason").asText()).isEqualTo("method-not-granted");
      assertThat(e.at("/details/0/metadata/request_id").asText()).isEqualTo("abc123");
    } finally {
      r.release();
    }
  }

  @Test
  void statusNamesFollowGoogle() {
    assertThat(Reason.googleStatus(401)).isEqualTo("UNAUTHENTICATED");
    assertThat(Reason.googleStatus(404)).isEqualTo("NOT_FOUND");
    assertThat(Reason.googleStatus(400)).isEqualTo("INVALID_ARGUMENT");
    assertThat(Reason.googleStatus(503)).isEqualTo("UNAVAILABLE");
    assertThat(Reason.googleStatus(504)).isEqualTo("DEADLINE_EXCEEDED");
  }
}

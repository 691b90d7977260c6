package dev.vertexproxy.proxy.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.auth.oauth2.AccessToken;
import com.google.auth.oauth2.GoogleCredentials;
import com.google.genai.Client;
import com.google.genai.ResponseStream;
import com.google.genai.types.GenerateContentResponse;
import com.google.genai.types.HttpOptions;
import dev.vertexproxy.proxy.dev.DevMode;
import dev.vertexproxy.proxy.dev.VertexEmulator;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Gen AI Java SDK, unmodified, in Vertex mode with the proxy as its base URL and the caller's GitLab-style JWT as
 * its credential: what an ML engineer's pipeline does.
 */
class GenAiSdkEndToEndTest {
  @TempDir
  static Path state;
  static DevStack stack;

  @BeforeAll
  static void start() throws Exception {
    stack = new DevStack(DevMode.start(DevMode.Options.forTests(state)));
  }

  @AfterAll
  static void stop() {
    if (stack != null) {
      stack.dev.close();
    }
  }

  private static Client client(String jwt) {
    GoogleCredentials callerJwt = GoogleCredentials.create(new AccessToken(jwt, Date.from(Instant.now().plusSeconds(300))));
    return Client.builder()
        .vertexAI(true)
        .project(DevMode.PROJECT)
        .location(DevMode.LOCATION)
        .credentials(callerJwt)
        .httpOptions(HttpOptions.builder().baseUrl(stack.proxyUrl() + "/").build())
        .build();
  }

  @Test
  void generateContentThroughTheProxy() throws Exception {
    String jwt = stack.mint(Map.of());
    try (Client client = client(jwt)) {
      GenerateContentResponse r = client.models.generateContent(DevMode.EXAMPLE_MODEL, "Hello from the SDK", null);
      assertThat(r.text()).contains("Hello from the SDK");
    }
    VertexEmulator.SeenRequest seen = stack.dev.vertex().seen().get(stack.dev.vertex().seen().size() - 1);
    assertThat(seen.path()).startsWith("/v1beta1/projects/dev-project/locations/us-central1/publishers/google/models/gemini-2.0-flash:generateContent");
    assertThat(seen.principal()).isEqualTo(DevMode.SERVICE_ACCOUNT);
    assertThat(seen.headers().toString()).doesNotContain(jwt);
  }

  @Test
  void streamedGenerateContentThroughTheProxy() throws Exception {
    stack.dev.vertex().streamPacing(Duration.ofMillis(100), 3);
    String jwt = stack.mint(Map.of());
    List<String> chunks = new ArrayList<>();
    try (Client client = client(jwt);
        ResponseStream<GenerateContentResponse> stream = client.models.generateContentStream(DevMode.EXAMPLE_MODEL, "Stream please", null)) {
      for (GenerateContentResponse chunk : stream) {
        chunks.add(chunk.text());
      }
    }
    assertThat(chunks).hasSize(3);
    assertThat(String.join("", chunks)).isNotBlank();
  }

  @Test
  void aDeniedCallSurfacesAsTheSdksPermissionError() throws Exception {
    String jwt = stack.mint(Map.of("project_path", "acme/not-allowed"));
    try (Client client = client(jwt)) {
      assertThatThrownBy(() -> client.models.generateContent(DevMode.EXAMPLE_MODEL, "Hello", null))
          .hasMessageContaining("403");
    }
  }
}

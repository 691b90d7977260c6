package dev.vertexproxy.emulators;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.auth.oauth2.AccessToken;
import com.google.auth.oauth2.GoogleCredentials;
import com.google.genai.Client;
import com.google.genai.ResponseStream;
import com.google.genai.errors.ClientException;
import com.google.genai.types.CountTokensResponse;
import com.google.genai.types.GenerateContentResponse;
import com.google.genai.types.HttpOptions;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Drives the real Gen AI Java SDK (Vertex mode) straight at the emulator: proof that the wire shapes fit it. */
class VertexEmulatorGenAiSdkTest {

  private static final String TOKEN = "ya29.sdk-test-token";
  private static final String SA = "sdk@p.iam.gserviceaccount.com";
  private static final String MODEL = "gemini-2.0-flash-001";

  private final VertexEmulatorTest.MapTokens tokens = new VertexEmulatorTest.MapTokens();
  private VertexEmulator emulator;

  @BeforeEach
  void start() {
    // The SDK's credentials judge expiry by the system clock, so the emulator uses it too here.
    tokens.issue(TOKEN, SA, Instant.now().plusSeconds(3600));
    emulator = VertexEmulator.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), tokens,
        Clock.systemUTC());
  }

  @AfterEach
  void stop() {
    emulator.close();
  }

  private Client client(String token, String apiVersion) {
    return Client.builder()
        .vertexAI(true)
        .project("p")
        .location("us-central1")
        .credentials(GoogleCredentials.create(new AccessToken(token, Date.from(Instant.now().plusSeconds(3600)))))
        .httpOptions(HttpOptions.builder().baseUrl(emulator.baseUri().toString()).apiVersion(apiVersion).build())
        .build();
  }

  @Test
  void generateContentThroughTheSdk() {
    try (Client client = client(TOKEN, "v1")) {
      GenerateContentResponse response = client.models.generateContent(MODEL, "Why is the sky blue?", null);

      assertThat(response.text()).isEqualTo("Echo: Why is the sky blue?");
      assertThat(response.finishReason().toString()).isEqualTo("STOP");
      assertThat(response.usageMetadata().orElseThrow().totalTokenCount()).isPresent();
      assertThat(response.modelVersion()).hasValue(MODEL);
      assertThat(response.responseId()).isPresent();
      assertThat(response.createTime()).isPresent();
    }
    assertThat(emulator.seen()).singleElement().satisfies(seen -> {
      assertThat(seen.path()).isEqualTo("/v1/projects/p/locations/us-central1/publishers/google/models/" + MODEL
          + ":generateContent");
      assertThat(seen.principal()).isEqualTo(SA);
    });
  }

  @Test
  void generateContentStreamThroughTheSdkOnV1beta1() {
    emulator.streamPacing(Duration.ofMillis(20), 3);
    List<String> texts = new ArrayList<>();
    GenerateContentResponse last = null;
    try (Client client = client(TOKEN, "v1beta1");
        ResponseStream<GenerateContentResponse> stream =
            client.models.generateContentStream(MODEL, "stream this", null)) {
      for (GenerateContentResponse chunk : stream) {
        texts.add(chunk.text());
        last = chunk;
      }
    }

    assertThat(texts).hasSize(3);
    assertThat(String.join("", texts)).isEqualTo("Echo: stream this");
    assertThat(last.finishReason().toString()).isEqualTo("STOP");
    assertThat(last.usageMetadata()).isPresent();
    assertThat(emulator.seen()).singleElement().satisfies(seen ->
        assertThat(seen.path()).startsWith("/v1beta1/projects/p/locations/us-central1/publishers/google/models/"
            + MODEL + ":streamGenerateContent").contains("alt=sse"));
  }

  @Test
  void countTokensThroughTheSdk() {
    try (Client client = client(TOKEN, "v1")) {
      CountTokensResponse response = client.models.countTokens(MODEL, "count me", null);

      assertThat(response.totalTokens()).hasValue(2);
    }
  }

  @Test
  void anUnknownTokenSurfacesAsTheSdksUnauthenticatedError() {
    try (Client client = client("ya29.not-issued", "v1")) {
      assertThatThrownBy(() -> client.models.generateContent(MODEL, "hi", null))
          .isInstanceOf(ClientException.class)
          .satisfies(e -> {
            assertThat(((ClientException) e).code()).isEqualTo(401);
            assertThat(((ClientException) e).status()).isEqualTo("UNAUTHENTICATED");
          });
    }
  }
}

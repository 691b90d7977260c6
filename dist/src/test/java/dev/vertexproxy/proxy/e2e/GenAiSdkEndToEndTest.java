package dev.vertexproxy.proxy.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.api.client.util.Clock;
import com.google.auth.oauth2.AccessToken;
import com.google.auth.oauth2.CredentialsClock;
import com.google.auth.oauth2.GoogleCredentials;
import com.google.genai.Client;
import com.google.genai.ResponseStream;
import com.google.genai.types.GenerateContentResponse;
import dev.vertexproxy.examples.GenAiThroughProxy;
import dev.vertexproxy.proxy.audit.AuditVerifier;
import dev.vertexproxy.dev.DevMode;
import dev.vertexproxy.emulators.VertexEmulator;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Gen AI Java SDK, unmodified, in Vertex mode with the proxy as its base URL and the caller's GitLab-style JWT as
 * its credential: what an ML engineer's pipeline does, built by the documented example
 * ({@code examples/java}, {@link GenAiThroughProxy}).
 *
 * <p>google-auth judges a token by its own clock: {@code OAuth2Credentials} will not use a token with 3 minutes or less
 * left (its expiration margin) and cannot refresh one it was handed. The tests that need minutes to pass set that
 * clock ({@link CredentialsClock}) instead of sleeping.
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

  /** What a GitLab job's environment holds: the proxy URL, the project and location, the {@code id_tokens:} token. */
  private static Map<String, String> jobEnv(String jwt) {
    return Map.of(
        "VERTEX_PROXY_URL", stack.proxyUrl(),
        "VERTEX_PROXY_TOKEN", jwt,
        "GOOGLE_CLOUD_PROJECT", DevMode.PROJECT,
        "GOOGLE_CLOUD_LOCATION", DevMode.LOCATION);
  }

  private static Client client(String jwt) throws IOException {
    return GenAiThroughProxy.client(jobEnv(jwt), GenAiThroughProxy.jobTokenCredentials(jwt));
  }

  /** A job token like GitLab's for a job with a one-hour timeout, tagged so its audit records can be found. */
  private static String jobToken(String jobId, long exp) throws Exception {
    return stack.mint(Map.of("job_id", jobId, "exp", exp));
  }

  /** The audit records of the job's calls, waiting (bounded) until there are at least {@code expected}. */
  private static List<JsonNode> auditRecordsOfJob(String jobId, int expected) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (true) {
      List<JsonNode> records = stack.auditRecords().stream()
          .filter(r -> jobId.equals(r.at("/caller/claims/job_id").asText())).toList();
      if (records.size() >= expected || System.nanoTime() > deadline) {
        return records;
      }
      Thread.sleep(20);
    }
  }

  private static Clock at(Instant instant) {
    return instant::toEpochMilli;
  }

  @Test
  void theDocumentedExampleAnswersThroughTheProxyAndIsAudited() throws Exception {
    String jobId = UUID.randomUUID().toString();
    long exp = Instant.now().plus(Duration.ofHours(1)).getEpochSecond();
    String answer = GenAiThroughProxy.generate(jobEnv(jobToken(jobId, exp)), "Hello from the Java example");
    assertThat(answer).contains("Hello from the Java example");
    List<JsonNode> records = auditRecordsOfJob(jobId, 1);
    assertThat(records).hasSize(1);
    assertThat(records.get(0).path("decision").asText()).isEqualTo("allow");
    assertThat(records.get(0).path("method").asText()).isEqualTo("publishers.models.generateContent");
    assertThat(records.get(0).path("status").asInt()).isEqualTo(200);
    assertThat(AuditVerifier.verify(stack.auditDir()).ok()).isTrue();
  }

  @Test
  void theCredentialCarriesTheJobTokensOwnExpiry() throws Exception {
    long exp = Instant.now().plus(Duration.ofMinutes(47)).getEpochSecond();
    GoogleCredentials credentials = GenAiThroughProxy.jobTokenCredentials(jobToken("expiry", exp));
    assertThat(credentials.getAccessToken().getExpirationTime()).isEqualTo(new Date(exp * 1000));
  }

  @Test
  void theJobTokenCredentialKeepsWorkingPastWhereThe300SecondFormStopped() throws Exception {
    String jobId = UUID.randomUUID().toString();
    Instant built = Instant.now();
    String jwt = jobToken(jobId, built.plus(Duration.ofHours(1)).getEpochSecond());
    // What docs/gitlab-ci.md used to show: an expiry 300 s after the credential was built, whatever the token says.
    GoogleCredentials old300s = GoogleCredentials.create(new AccessToken(jwt, Date.from(built.plusSeconds(300))));
    GoogleCredentials documented = GenAiThroughProxy.jobTokenCredentials(jwt);

    Instant twoAndAHalfMinutesOn = built.plusSeconds(150);
    try (Client client = GenAiThroughProxy.client(jobEnv(jwt), CredentialsClock.at(documented, at(twoAndAHalfMinutesOn)))) {
      assertThat(client.models.generateContent(DevMode.EXAMPLE_MODEL, "still here", null).text()).contains("still here");
    }
    try (Client client = GenAiThroughProxy.client(jobEnv(jwt), CredentialsClock.at(old300s, at(built)))) {
      assertThat(client.models.generateContent(DevMode.EXAMPLE_MODEL, "fresh", null).text())
          .as("the old form worked while young: its failure below is the clock's doing").contains("fresh");
    }
    try (Client client = GenAiThroughProxy.client(jobEnv(jwt), CredentialsClock.at(old300s, at(twoAndAHalfMinutesOn)))) {
      assertThatThrownBy(() -> client.models.generateContent(DevMode.EXAMPLE_MODEL, "too late", null))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("does not support refreshing the access token");
    }
    assertThat(auditRecordsOfJob(jobId, 2)).as("the refused call never left the SDK").hasSize(2);
  }

  @Test
  void inTheJobTokensLastThreeMinutesGoogleAuthNoLongerSendsIt() throws Exception {
    String jobId = UUID.randomUUID().toString();
    Instant exp = Instant.ofEpochSecond(Instant.now().plus(Duration.ofHours(1)).getEpochSecond());
    String jwt = jobToken(jobId, exp.getEpochSecond());
    try (Client client = GenAiThroughProxy.client(jobEnv(jwt),
        CredentialsClock.at(GenAiThroughProxy.jobTokenCredentials(jwt), at(exp.minusSeconds(181))))) {
      assertThat(client.models.generateContent(DevMode.EXAMPLE_MODEL, "just in time", null).text()).contains("just in time");
    }
    try (Client client = GenAiThroughProxy.client(jobEnv(jwt),
        CredentialsClock.at(GenAiThroughProxy.jobTokenCredentials(jwt), at(exp.minusSeconds(180))))) {
      assertThatThrownBy(() -> client.models.generateContent(DevMode.EXAMPLE_MODEL, "too late", null))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("does not support refreshing the access token");
    }
    assertThat(auditRecordsOfJob(jobId, 1)).as("the refused call never left the SDK").hasSize(1);
  }

  @Test
  void generateContentThroughTheProxy() throws Exception {
    String jwt = stack.mint(Map.of());
    try (Client client = client(jwt)) {
      GenerateContentResponse r = client.models.generateContent(DevMode.EXAMPLE_MODEL, "Hello from the SDK", null);
      assertThat(r.text()).contains("Hello from the SDK");
    }
    VertexEmulator.SeenRequest seen = stack.dev.vertex().seen().get(stack.dev.vertex().seen().size() - 1);
    assertThat(seen.path()).startsWith("/v1beta1/projects/dev-project/locations/us-central1/publishers/google/models/"
        + "gemini-2.0-flash:generateContent");
    assertThat(seen.principal()).isEqualTo(DevMode.SERVICE_ACCOUNT);
    assertThat(seen.headers().toString()).doesNotContain(jwt);
  }

  @Test
  void streamedGenerateContentThroughTheProxy() throws Exception {
    stack.dev.vertex().streamPacing(Duration.ofMillis(100), 3);
    String jwt = stack.mint(Map.of());
    List<String> chunks = new ArrayList<>();
    try (Client client = client(jwt);
        ResponseStream<GenerateContentResponse> stream =
            client.models.generateContentStream(DevMode.EXAMPLE_MODEL, "Stream please", null)) {
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

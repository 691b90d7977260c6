package dev.vertexproxy.emulators;

import dev.vertexproxy.testing.MutableClock;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class VertexEmulatorTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Instant START = Instant.parse("2030-01-02T03:04:05.123Z");
  private static final String TOKEN = "ya29.emulated-token-for-tests";
  private static final String SA = "trainer@acme-ml-prod.iam.gserviceaccount.com";
  private static final String GEMINI = "/v1/projects/acme-ml-prod/locations/us-central1/publishers/google/models/"
      + "gemini-2.0-flash-001";

  private final MutableClock clock = new MutableClock(START);
  private final MapTokens tokens = new MapTokens();
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private VertexEmulator emulator;

  @BeforeEach
  void start() {
    tokens.issue(TOKEN, SA, START.plusSeconds(3600));
    emulator = VertexEmulator.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), tokens, clock);
  }

  @AfterEach
  void stop() {
    emulator.close();
  }

  // ---- generateContent ------------------------------------------------------------------------------------------

  @Test
  void generateContentEchoesTheLastUserTextInVertexShape() throws Exception {
    HttpResponse<String> response = post(GEMINI + ":generateContent", TOKEN, """
        {"contents":[{"role":"user","parts":[{"text":"first"}]},
                     {"role":"model","parts":[{"text":"ignored"}]},
                     {"role":"user","parts":[{"text":"Why is the "},{"text":"sky blue?"}]}]}""");

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("content-type")).hasValue("application/json; charset=UTF-8");
    JsonNode body = JSON.readTree(response.body());
    JsonNode candidate = body.at("/candidates/0");
    assertThat(candidate.at("/content/role").asText()).isEqualTo("model");
    assertThat(candidate.at("/content/parts/0/text").asText()).isEqualTo("Echo: Why is the sky blue?");
    assertThat(candidate.at("/finishReason").asText()).isEqualTo("STOP");
    assertThat(candidate.at("/avgLogprobs").isNumber()).isTrue();
    // "first" (5 chars -> 2), "ignored" (7 -> 2), "Why is the " (11 -> 3), "sky blue?" (9 -> 3): 10 prompt tokens.
    assertThat(body.at("/usageMetadata/promptTokenCount").asInt()).isEqualTo(10);
    // "Echo: Why is the sky blue?" is 26 chars -> 7 tokens.
    assertThat(body.at("/usageMetadata/candidatesTokenCount").asInt()).isEqualTo(7);
    assertThat(body.at("/usageMetadata/totalTokenCount").asInt()).isEqualTo(17);
    assertThat(body.at("/modelVersion").asText()).isEqualTo("gemini-2.0-flash-001");
    assertThat(body.at("/createTime").asText()).isEqualTo("2030-01-02T03:04:05.123Z");
    assertThat(body.at("/responseId").asText()).isNotBlank();
  }

  @Test
  void responsesCarryTheHopByHopHeaderAndThePrincipalButNeverTheToken() throws Exception {
    HttpResponse<String> response = post(GEMINI + ":generateContent", TOKEN, userText("hi"));

    assertThat(response.headers().firstValue("x-emulator-principal")).hasValue(SA);
    assertThat(response.headers().firstValue("x-emulator-hop")).hasValue("1");
    assertThat(response.headers().firstValue("connection")).hasValue("keep-alive, X-Emulator-Hop");
    assertThat(response.headers().map().toString()).doesNotContain(TOKEN);
  }

  @Test
  void expressModeAndV1beta1PathsWorkToo() throws Exception {
    HttpResponse<String> express = post("/v1beta1/publishers/google/models/gemini-2.5-pro:generateContent", TOKEN,
        userText("express"));
    HttpResponse<String> beta = post("/v1beta1/projects/p/locations/europe-west4/publishers/google/models/"
        + "gemini-2.5-pro:generateContent", TOKEN, userText("beta"));

    assertThat(express.statusCode()).isEqualTo(200);
    assertThat(JSON.readTree(express.body()).at("/candidates/0/content/parts/0/text").asText())
        .isEqualTo("Echo: express");
    assertThat(beta.statusCode()).isEqualTo(200);
    assertThat(JSON.readTree(beta.body()).at("/modelVersion").asText()).isEqualTo("gemini-2.5-pro");
  }

  @Test
  void malformedOrEmptyRequestsAreInvalidArgument() throws Exception {
    HttpResponse<String> badJson = post(GEMINI + ":generateContent", TOKEN, "{\"contents\": [");
    HttpResponse<String> noContents = post(GEMINI + ":generateContent", TOKEN, "{}");
    HttpResponse<String> notAnObject = post(GEMINI + ":generateContent", TOKEN, "[1,2]");

    for (HttpResponse<String> response : List.of(badJson, noContents, notAnObject)) {
      assertThat(response.statusCode()).isEqualTo(400);
      assertGoogleError(response, 400, "INVALID_ARGUMENT");
    }
  }

  // ---- authentication -------------------------------------------------------------------------------------------

  @Test
  void unknownMissingOrMalformedBearersAreUnauthenticated() throws Exception {
    HttpResponse<String> unknown = post(GEMINI + ":generateContent", "ya29.never-issued", userText("x"));
    HttpResponse<String> missing = send(HttpRequest.newBuilder(uri(GEMINI + ":generateContent"))
        .POST(HttpRequest.BodyPublishers.ofString(userText("x"))).build());
    HttpResponse<String> basic = send(HttpRequest.newBuilder(uri(GEMINI + ":generateContent"))
        .header("Authorization", "Basic " + TOKEN).POST(HttpRequest.BodyPublishers.ofString(userText("x"))).build());

    for (HttpResponse<String> response : List.of(unknown, missing, basic)) {
      assertThat(response.statusCode()).isEqualTo(401);
      assertGoogleError(response, 401, "UNAUTHENTICATED");
      assertThat(JSON.readTree(response.body()).at("/error/message").asText())
          .startsWith("Request had invalid authentication credentials.");
      assertThat(response.headers().firstValue("www-authenticate")).isPresent();
      assertThat(response.headers().firstValue("x-emulator-principal")).isEmpty();
    }
  }

  @Test
  void aTokenStopsWorkingAtItsExpiryByTheInjectedClock() throws Exception {
    assertThat(post(GEMINI + ":generateContent", TOKEN, userText("x")).statusCode()).isEqualTo(200);

    clock.set(START.plusSeconds(3600));

    HttpResponse<String> expired = post(GEMINI + ":generateContent", TOKEN, userText("x"));
    assertThat(expired.statusCode()).isEqualTo(401);
    assertGoogleError(expired, 401, "UNAUTHENTICATED");
  }

  @Test
  void authenticationIsCheckedBeforeTheRouteSoUnknownPathsDoNotLeakWhatExists() throws Exception {
    assertThat(post("/v1/projects/p/locations/l/nothing", "unknown", "{}").statusCode()).isEqualTo(401);
  }

  // ---- streaming ------------------------------------------------------------------------------------------------

  @Test
  void sseEventsArrivePacedOneByOneAndTheLastCarriesFinishReasonAndUsage() throws Exception {
    emulator.streamPacing(Duration.ofMillis(200), 4);
    HttpRequest request = HttpRequest.newBuilder(uri(GEMINI + ":streamGenerateContent?alt=sse"))
        .header("Authorization", "Bearer " + TOKEN)
        .POST(HttpRequest.BodyPublishers.ofString(userText("tell me a story"))).build();

    HttpResponse<Stream<String>> response = http.send(request, HttpResponse.BodyHandlers.ofLines());
    long headersAt = System.nanoTime();
    List<Long> arrivals = new ArrayList<>();
    List<JsonNode> events = new ArrayList<>();
    List<String> lines = new ArrayList<>();
    try (Stream<String> body = response.body()) {
      for (Iterator<String> it = body.iterator(); it.hasNext(); ) {
        String line = it.next();
        lines.add(line);
        if (line.startsWith("data: ")) {
          arrivals.add(System.nanoTime() - headersAt);
          events.add(JSON.readTree(line.substring("data: ".length())));
        }
      }
    }

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("content-type")).hasValue("text/event-stream");
    assertThat(events).hasSize(4);
    // Events are separated by one blank line each: data, blank, data, blank...
    assertThat(lines).hasSize(8);
    // The last event is produced 600 ms after the head. Buffered output would deliver the first one no earlier than
    // that; paced output delivers it at once. Margins are wide because the test machine is shared and busy.
    assertThat(Duration.ofNanos(arrivals.get(0))).isLessThan(Duration.ofMillis(300));
    assertThat(Duration.ofNanos(arrivals.get(3) - arrivals.get(0))).isGreaterThan(Duration.ofMillis(300));

    StringBuilder text = new StringBuilder();
    for (JsonNode event : events) {
      assertThat(event.at("/candidates/0/content/role").asText()).isEqualTo("model");
      text.append(event.at("/candidates/0/content/parts/0/text").asText());
      assertThat(event.at("/responseId").asText()).isEqualTo(events.get(0).at("/responseId").asText());
    }
    assertThat(text.toString()).isEqualTo("Echo: tell me a story");
    assertThat(events.get(0).has("usageMetadata")).isFalse();
    assertThat(events.get(0).at("/candidates/0").has("finishReason")).isFalse();
    JsonNode last = events.get(3);
    assertThat(last.at("/candidates/0/finishReason").asText()).isEqualTo("STOP");
    assertThat(last.at("/usageMetadata/totalTokenCount").asInt()).isEqualTo(
        last.at("/usageMetadata/promptTokenCount").asInt() + last.at("/usageMetadata/candidatesTokenCount").asInt());
  }

  @Test
  void withoutAltSseTheStreamIsOneJsonArrayWrittenChunkByChunk() throws Exception {
    emulator.streamPacing(Duration.ofMillis(150), 3);
    HttpRequest request = HttpRequest.newBuilder(uri(GEMINI + ":streamGenerateContent"))
        .header("Authorization", "Bearer " + TOKEN)
        .POST(HttpRequest.BodyPublishers.ofString(userText("array please"))).build();

    HttpResponse<InputStream> response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
    long headersAt = System.nanoTime();
    byte[] first;
    byte[] rest;
    try (InputStream in = response.body()) {
      byte[] buffer = new byte[65536];
      int n = in.read(buffer);
      long firstAt = System.nanoTime() - headersAt;
      first = Arrays.copyOf(buffer, n);
      rest = in.readAllBytes();
      long endAt = System.nanoTime() - headersAt;
      // The array closes 300 ms after the head; its first element must not wait for that.
      assertThat(Duration.ofNanos(firstAt)).isLessThan(Duration.ofMillis(200));
      assertThat(Duration.ofNanos(endAt - firstAt)).isGreaterThan(Duration.ofMillis(150));
    }

    assertThat(response.headers().firstValue("content-type")).hasValue("application/json; charset=UTF-8");
    String firstText = new String(first, StandardCharsets.UTF_8);
    assertThat(firstText).startsWith("[{").doesNotEndWith("]");
    JsonNode array = JSON.readTree(firstText + new String(rest, StandardCharsets.UTF_8));
    assertThat(array.isArray()).isTrue();
    assertThat(array).hasSize(3);
    StringBuilder text = new StringBuilder();
    array.forEach(chunk -> text.append(chunk.at("/candidates/0/content/parts/0/text").asText()));
    assertThat(text.toString()).isEqualTo("Echo: array please");
    assertThat(array.get(2).at("/candidates/0/finishReason").asText()).isEqualTo("STOP");
    assertThat(array.get(2).has("usageMetadata")).isTrue();
  }

  @Test
  void streamPacingRejectsImpossibleSettings() {
    assertThatThrownBy(() -> emulator.streamPacing(Duration.ofMillis(-1), 2))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> emulator.streamPacing(Duration.ofMillis(10), 0))
        .isInstanceOf(IllegalArgumentException.class);
  }

  // ---- tokens ---------------------------------------------------------------------------------------------------

  @Test
  void countTokensCountsThePromptLikeGenerateContentDoes() throws Exception {
    HttpResponse<String> response = post(GEMINI + ":countTokens", TOKEN, userText("count these words"));

    assertThat(response.statusCode()).isEqualTo(200);
    JsonNode body = JSON.readTree(response.body());
    assertThat(body.get("totalTokens").asInt()).isEqualTo(5); // 17 chars -> 5
    assertThat(body.get("totalBillableCharacters").asInt()).isEqualTo(15); // whitespace is not billed
  }

  @Test
  void computeTokensListsOneTokenPerWord() throws Exception {
    HttpResponse<String> response = post(GEMINI + ":computeTokens", TOKEN, userText("two words"));

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(JSON.readTree(response.body()).at("/tokensInfo/0/tokens")).hasSize(2);
  }

  // ---- prediction -----------------------------------------------------------------------------------------------

  @Test
  void endpointPredictAnswersOnePredictionPerInstanceWithTheDeployedModel() throws Exception {
    HttpResponse<String> response = post("/v1/projects/acme/locations/us-central1/endpoints/4242:predict", TOKEN,
        "{\"instances\":[{\"x\":1},{\"x\":2}],\"parameters\":{}}");

    assertThat(response.statusCode()).isEqualTo(200);
    JsonNode body = JSON.readTree(response.body());
    assertThat(body.get("predictions")).hasSize(2);
    assertThat(body.at("/predictions/1/instance/x").asInt()).isEqualTo(2);
    assertThat(body.get("deployedModelId").asText()).isNotBlank();
    assertThat(body.get("model").asText()).isEqualTo("projects/acme/locations/us-central1/models/4242");
    assertThat(body.get("modelDisplayName").asText()).isNotBlank();
    assertThat(body.get("modelVersionId").asText()).isEqualTo("1");
  }

  @Test
  void publisherModelPredictWorksAndRequiresInstances() throws Exception {
    String path = "/v1/projects/acme/locations/us-central1/publishers/google/models/text-embedding-005:predict";
    HttpResponse<String> ok = post(path, TOKEN, "{\"instances\":[{\"content\":\"hello\"}]}");
    HttpResponse<String> missing = post(path, TOKEN, "{}");

    assertThat(ok.statusCode()).isEqualTo(200);
    assertThat(JSON.readTree(ok.body()).get("model").asText())
        .isEqualTo("projects/acme/locations/us-central1/publishers/google/models/text-embedding-005");
    assertGoogleError(missing, 400, "INVALID_ARGUMENT");
  }

  @Test
  void rawPredictEchoesBodyAndContentType() throws Exception {
    HttpResponse<String> response = send(HttpRequest.newBuilder(
            uri("/v1/projects/acme/locations/us-central1/endpoints/7:rawPredict"))
        .header("Authorization", "Bearer " + TOKEN)
        .header("Content-Type", "text/csv")
        .POST(HttpRequest.BodyPublishers.ofString("a,b\n1,2\n")).build());

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("content-type")).hasValue("text/csv");
    assertThat(response.body()).isEqualTo("a,b\n1,2\n");
  }

  // ---- custom jobs ----------------------------------------------------------------------------------------------

  @Test
  void customJobsAreCreatedPendingThenRunThenSucceed() throws Exception {
    String jobs = "/v1/projects/acme-ml-prod/locations/us-central1/customJobs";
    HttpResponse<String> created = post(jobs, TOKEN, """
        {"displayName":"train-forecast","jobSpec":{"workerPoolSpecs":[{"replicaCount":"1"}]}}""");

    assertThat(created.statusCode()).isEqualTo(200);
    JsonNode job = JSON.readTree(created.body());
    String name = job.get("name").asText();
    assertThat(name).matches("projects/acme-ml-prod/locations/us-central1/customJobs/[0-9]+");
    assertThat(job.get("displayName").asText()).isEqualTo("train-forecast");
    assertThat(job.at("/jobSpec/workerPoolSpecs/0/replicaCount").asText()).isEqualTo("1");
    assertThat(job.get("state").asText()).isEqualTo("JOB_STATE_PENDING");
    assertThat(job.get("createTime").asText()).isEqualTo("2030-01-02T03:04:05.123Z");

    clock.set(START.plusSeconds(60));
    JsonNode running = JSON.readTree(get("/v1/" + name).body());
    JsonNode succeeded = JSON.readTree(get("/v1/" + name).body());
    JsonNode stillSucceeded = JSON.readTree(get("/v1/" + name).body());

    assertThat(running.get("state").asText()).isEqualTo("JOB_STATE_RUNNING");
    assertThat(running.get("startTime").asText()).isEqualTo("2030-01-02T03:05:05.123Z");
    assertThat(succeeded.get("state").asText()).isEqualTo("JOB_STATE_SUCCEEDED");
    assertThat(succeeded.get("name").asText()).isEqualTo(name);
    assertThat(stillSucceeded.get("state").asText()).isEqualTo("JOB_STATE_SUCCEEDED");
  }

  @Test
  void customJobsAreNotFoundWhenUnknownOrAskedForUnderAnotherProject() throws Exception {
    String name = JSON.readTree(post("/v1/projects/a/locations/us-central1/customJobs", TOKEN,
        "{\"displayName\":\"j\"}").body()).get("name").asText();
    String id = name.substring(name.lastIndexOf('/') + 1);

    assertGoogleError(get("/v1/projects/a/locations/us-central1/customJobs/999999"), 404, "NOT_FOUND");
    assertGoogleError(get("/v1/projects/b/locations/us-central1/customJobs/" + id), 404, "NOT_FOUND");
    assertGoogleError(post("/v1/projects/a/locations/us-central1/customJobs", TOKEN, "{}"), 400,
        "INVALID_ARGUMENT");
  }

  // ---- model upload ---------------------------------------------------------------------------------------------

  @Test
  void modelUploadReturnsAnOperationThatIsDoneWhenPolled() throws Exception {
    HttpResponse<String> upload = post("/v1/projects/acme/locations/us-central1/models:upload", TOKEN,
        "{\"model\":{\"displayName\":\"forecaster\",\"containerSpec\":{\"imageUri\":\"img\"}}}");

    assertThat(upload.statusCode()).isEqualTo(200);
    JsonNode operation = JSON.readTree(upload.body());
    String name = operation.get("name").asText();
    assertThat(name).matches("projects/acme/locations/us-central1/models/[0-9]+/operations/[0-9]+");
    assertThat(operation.at("/metadata/@type").asText())
        .isEqualTo("type.googleapis.com/google.cloud.aiplatform.v1.UploadModelOperationMetadata");
    assertThat(operation.at("/metadata/genericMetadata/createTime").asText()).isEqualTo("2030-01-02T03:04:05.123Z");
    assertThat(operation.path("done").asBoolean(false)).isFalse();

    String model = name.substring(0, name.indexOf("/operations/"));
    String operationId = name.substring(name.lastIndexOf('/') + 1);
    for (String path : List.of("/v1/" + name,
        "/v1/projects/acme/locations/us-central1/operations/" + operationId)) {
      HttpResponse<String> polled = get(path);
      assertThat(polled.statusCode()).isEqualTo(200);
      JsonNode done = JSON.readTree(polled.body());
      assertThat(done.get("done").asBoolean()).isTrue();
      assertThat(done.at("/response/@type").asText())
          .isEqualTo("type.googleapis.com/google.cloud.aiplatform.v1.UploadModelResponse");
      assertThat(done.at("/response/model").asText()).isEqualTo(model);
    }
    assertGoogleError(get("/v1/projects/acme/locations/us-central1/operations/424242"), 404, "NOT_FOUND");
    assertGoogleError(get("/v1/projects/acme/locations/us-central1/models/999/operations/" + operationId), 404,
        "NOT_FOUND");
  }

  // ---- everything else ------------------------------------------------------------------------------------------

  @Test
  void unknownPathsAndWrongMethodsAreGoogleShapedNotFound() throws Exception {
    assertGoogleError(get("/v1/projects/p/locations/l/datasets"), 404, "NOT_FOUND");
    assertGoogleError(get(GEMINI + ":generateContent"), 404, "NOT_FOUND");
    assertGoogleError(post("/v2/projects/p/locations/l/customJobs", TOKEN, "{}"), 404, "NOT_FOUND");
    assertGoogleError(post("/v1/customJobs", TOKEN, "{}"), 404, "NOT_FOUND");
    assertGoogleError(post(GEMINI + ":doSomethingElse", TOKEN, "{}"), 404, "NOT_FOUND");
  }

  @Test
  void seenRecordsEveryRequestWithHeadersAndPrincipalRefusedOnesIncluded() throws Exception {
    post(GEMINI + ":generateContent", TOKEN, userText("hello"));
    send(HttpRequest.newBuilder(uri(GEMINI + ":generateContent?alt=json"))
        .header("Authorization", "Bearer caller-jwt")
        .header("Cookie", "session=abc")
        .POST(HttpRequest.BodyPublishers.ofString("{}")).build());

    List<VertexEmulator.SeenRequest> seen = emulator.seen();
    assertThat(seen).hasSize(2);
    VertexEmulator.SeenRequest accepted = seen.get(0);
    assertThat(accepted.method()).isEqualTo("POST");
    assertThat(accepted.path()).isEqualTo(GEMINI + ":generateContent");
    assertThat(accepted.principal()).isEqualTo(SA);
    assertThat(accepted.bodyBytes()).isEqualTo(userText("hello").getBytes(StandardCharsets.UTF_8).length);
    assertThat(accepted.headers().get("authorization")).containsExactly("Bearer " + TOKEN);
    assertThat(accepted.headers().get("Authorization")).containsExactly("Bearer " + TOKEN);

    VertexEmulator.SeenRequest refused = seen.get(1);
    assertThat(refused.path()).isEqualTo(GEMINI + ":generateContent?alt=json");
    assertThat(refused.principal()).isNull();
    assertThat(refused.headers().get("cookie")).containsExactly("session=abc");
    assertThat(refused.bodyBytes()).isEqualTo(2);

    emulator.clear();
    assertThat(emulator.seen()).isEmpty();
  }

  @Test
  void keepAliveConnectionsServeSeveralRequestsAndHttp10ClosesAfterOne() throws Exception {
    URI base = emulator.baseUri();
    try (Socket socket = new Socket(base.getHost(), base.getPort())) {
      socket.setSoTimeout(5000);
      OutputStream out = socket.getOutputStream();
      BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
      for (int i = 0; i < 2; i++) {
        out.write(("GET /v1/projects/p/locations/l/operations/1 HTTP/1.1\r\nHost: x\r\n"
            + "Authorization: Bearer " + TOKEN + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        Map<String, String> head = readHead(in);
        assertThat(head.get("status")).startsWith("HTTP/1.1 404");
        char[] body = new char[Integer.parseInt(head.get("content-length"))];
        int read = 0;
        while (read < body.length) {
          read += in.read(body, read, body.length - read);
        }
        assertThat(new String(body)).contains("\"NOT_FOUND\"");
      }
    }
    try (Socket socket = new Socket(base.getHost(), base.getPort())) {
      socket.setSoTimeout(5000);
      socket.getOutputStream().write(("GET /v1/nothing HTTP/1.0\r\nAuthorization: Bearer " + TOKEN + "\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      String all = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8); // ends at close
      assertThat(all).startsWith("HTTP/1.1 404").containsIgnoringCase("connection: close, X-Emulator-Hop");
    }
  }

  @Test
  void baseUriIsLoopbackWithTheBoundPort() {
    assertThat(emulator.baseUri().toString()).matches("http://127\\.0\\.0\\.1:[0-9]+");
    assertThat(emulator.baseUri().getPort()).isPositive();
  }

  // ---- helpers --------------------------------------------------------------------------------------------------

  private static Map<String, String> readHead(BufferedReader in) throws Exception {
    Map<String, String> head = new ConcurrentHashMap<>();
    head.put("status", in.readLine());
    for (String line = in.readLine(); line != null && !line.isEmpty(); line = in.readLine()) {
      int colon = line.indexOf(':');
      head.put(line.substring(0, colon).trim().toLowerCase(Locale.ROOT), line.substring(colon + 1).trim());
    }
    return head;
  }

  private static String userText(String text) {
    return "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"" + text + "\"}]}]}";
  }

  private static void assertGoogleError(HttpResponse<String> response, int code, String status) throws Exception {
    assertThat(response.statusCode()).isEqualTo(code);
    assertThat(response.headers().firstValue("content-type")).hasValue("application/json; charset=UTF-8");
    JsonNode error = JSON.readTree(response.body()).get("error");
    assertThat(error.get("code").asInt()).isEqualTo(code);
    assertThat(error.get("status").asText()).isEqualTo(status);
    assertThat(error.get("message").asText()).isNotBlank();
  }

  private URI uri(String path) {
    return URI.create(emulator.baseUri() + path);
  }

  private HttpResponse<String> post(String path, String token, String body) throws Exception {
    return send(HttpRequest.newBuilder(uri(path))
        .header("Authorization", "Bearer " + token)
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build());
  }

  private HttpResponse<String> get(String path) throws Exception {
    return send(HttpRequest.newBuilder(uri(path)).header("Authorization", "Bearer " + TOKEN).GET().build());
  }

  private HttpResponse<String> send(HttpRequest request) throws Exception {
    return http.send(request, HttpResponse.BodyHandlers.ofString());
  }

  /** IssuedTokens backed by a map, as the Google emulator would fill it. */
  static final class MapTokens implements IssuedTokens {
    private final Map<String, Issued> issued = new ConcurrentHashMap<>();

    void issue(String token, String principal, Instant expiresAt) {
      issued.put(token, new Issued(principal, "iam", expiresAt));
    }

    @Override
    public Optional<Issued> lookup(String accessToken) {
      return Optional.ofNullable(issued.get(accessToken));
    }
  }
}

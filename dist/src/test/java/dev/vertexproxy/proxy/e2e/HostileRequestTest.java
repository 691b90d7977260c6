package dev.vertexproxy.proxy.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vertexproxy.proxy.audit.AuditVerifier;
import dev.vertexproxy.proxy.e2e.RawCaller.Response;
import dev.vertexproxy.proxy.e2e.RecordingUpstream.Received;
import dev.vertexproxy.proxy.upstream.UpstreamUserAgent;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Hostile HTTP/1.1 from a caller on a raw socket, through the real proxy (dev issuer, Google emulators) to a raw
 * {@link RecordingUpstream}: for every trick, what reached "Vertex" is exactly the request the policy authorised, framed
 * by the proxy — or nothing at all — and every answer the caller got has exactly one audit record.
 *
 * <p>An authorised request, as Vertex must see it, is written out in {@link #expectedUpstream}: the caller's own
 * end-to-end headers, then the proxy's host, Google credential, keep-alive and a framing it computed itself.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HostileRequestTest {
  private static final Duration QUIET = Duration.ofSeconds(3);
  /** A complete request for another project, as an attacker would hide it in a body. */
  private static final String SMUGGLED = "POST /v1/projects/victim-project/locations/us-central1/publishers/google/models/"
      + "gemini-2.0-flash:generateContent HTTP/1.1\r\nHost: aiplatform.googleapis.com\r\nContent-Length: 2\r\n\r\n{}";
  /** A request head left open, so that whatever comes next on the connection would be glued onto it. */
  private static final String SMUGGLED_PARTIAL = "GET /v1/projects/victim-project/locations/us-central1/endpoints HTTP/1.1\r\n"
      + "Host: aiplatform.googleapis.com\r\nX-Glue: ";

  private Path tmp;
  private RecordingUpstream up;
  private DevStack stack;
  private String token;
  private String path;

  @BeforeAll
  void start() throws Exception {
    tmp = Files.createTempDirectory("hostile-request-test");
    up = new RecordingUpstream();
    stack = DevStack.start(tmp, "upstream: { url_template: 'http://127.0.0.1:" + up.port() + "' }\n");
    stack.awaitReady(); // the health probe case expects a ready replica, whichever case runs first
    token = stack.mint(Map.of());
    path = stack.examplePath();
  }

  @AfterAll
  void stop() throws Exception {
    stack.dev.close();
    up.close();
    AuditVerifier.VerifyResult verified = AuditVerifier.verify(stack.auditDir());
    assertThat(verified.ok()).as("audit chain after the hostile requests: %s", verified.firstProblem()).isTrue();
  }

  @BeforeEach
  void resetUpstream() {
    up.reset();
  }

  // ---- what an authorised request looks like -------------------------------------------------------------------

  /** An allowed generateContent call, with {@code extra} header lines (each ending in CRLF) before its framing. */
  private String allowedPost(String extra, String body) {
    return "POST " + path + " HTTP/1.1\r\nHost: proxy.example\r\nAuthorization: Bearer " + token
        + "\r\nContent-Type: application/json\r\n" + extra + "Content-Length: " + body.length() + "\r\n\r\n" + body;
  }

  /** {@link #allowedPost} without the Content-Length line: the caller's {@code framing} lines take its place. */
  private String allowedPostFramedBy(String framing, String rawBody) {
    return "POST " + path + " HTTP/1.1\r\nHost: proxy.example\r\nAuthorization: Bearer " + token
        + "\r\nContent-Type: application/json\r\n" + framing + "\r\n" + rawBody;
  }

  /**
   * The request Vertex must receive for an authorised call: request line, then the header set sorted by name (the
   * Google credential shown as {@code <google token>}), then the body bytes as framed on the wire.
   */
  private String expectedUpstream(String method, List<String> callerHeaders, String framingHeader, String rawBody) {
    List<String> headers = new ArrayList<>(callerHeaders);
    headers.add("authorization: Bearer <google token>");
    headers.add("connection: keep-alive");
    headers.add("host: 127.0.0.1:" + up.port());
    headers.add("user-agent: " + UpstreamUserAgent.of(null, "<id>"));
    if (framingHeader != null) {
      headers.add(framingHeader);
    }
    headers.sort(null);
    return method + " " + path + " HTTP/1.1\n" + String.join("\n", headers) + "\n\n" + rawBody;
  }

  private String expectedPost(String body) {
    return expectedUpstream("POST", List.of("content-type: application/json"), "content-length: " + body.length(), body);
  }

  /** What {@code r} looked like on the wire, in the form of {@link #expectedUpstream}; checks the credential swap. */
  private String asReceived(Received r) {
    assertThat(r.framingError()).as("framing of what reached Vertex").isNull();
    List<String> headers = new ArrayList<>();
    for (Map.Entry<String, List<String>> h : r.headers().entrySet()) {
      for (String v : h.getValue()) {
        if (h.getKey().equals("authorization")) {
          assertThat(v).startsWith("Bearer ").doesNotContain(token);
          v = "Bearer <google token>";
        }
        headers.add(h.getKey() + ": " + RecordingUpstream.withoutRequestId(v));
      }
    }
    headers.sort(null);
    return r.requestLine() + "\n" + String.join("\n", headers) + "\n\n" + r.rawBody();
  }

  private List<String> upstreamSaw() {
    return up.requests.stream().map(this::asReceived).toList();
  }

  /** Every answer carries a request id, and the trail has exactly one record for each. */
  private List<JsonNode> assertOneRecordPerAnswer(List<Response> answers) throws Exception {
    List<String> ids = answers.stream().map(Response::requestId).toList();
    assertThat(ids).as("every answer names its request id").doesNotContainNull().doesNotHaveDuplicates();
    List<JsonNode> records = stack.awaitAudit(ids);
    Map<String, Long> perId =
        records.stream().collect(Collectors.groupingBy(r -> r.get("request_id").asText(), Collectors.counting()));
    assertThat(perId).as("audit records per answered request").containsOnlyKeys(ids)
        .allSatisfy((id, n) -> assertThat(n).isEqualTo(1));
    return records;
  }

  private List<Response> readAll(RawCaller c, int n) throws Exception {
    List<Response> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Response r = c.read(QUIET);
      assertThat(r).as("answer %d of %d", i + 1, n).isNotNull();
      out.add(r);
    }
    return out;
  }

  private static void assertRefusedInGoogleShape(Response r, int status, String googleStatus) {
    assertThat(r.status()).isEqualTo(status);
    assertThat(r.googleStatus()).isEqualTo(googleStatus);
    assertThat(r.header("content-type")).startsWith("application/json");
  }

  // ---- Connection may not make the framing, the host or a credential hop-by-hop --------------------------------

  @ParameterizedTest(name = "Connection: keep-alive, {0}")
  @ValueSource(strings = {"Content-Length", "content-length", "Transfer-Encoding", "Host", "Authorization",
      "Proxy-Authorization", "Cookie", "X-Goog-Request-Params", "x-goog-user-project", "X-Vertex-Proxy-Request-Id"})
  void connectionNamingAHeaderTheProxyReliesOnIsRefusedAndTheBodyNeverBecomesARequest(String named) throws Exception {
    try (RawCaller c = new RawCaller(stack.proxyUrl())) {
      c.send(allowedPost("Connection: keep-alive, " + named + "\r\n", SMUGGLED));
      Response refused = c.read(QUIET);
      assertRefusedInGoogleShape(refused, 400, "INVALID_ARGUMENT");
      assertThat(refused.reason()).isEqualTo("connection-header-invalid");
      // the refused body was read and dropped, not parsed: the connection carries the next request cleanly
      c.send(allowedPost("", DevStack.BODY));
      Response next = c.read(QUIET);
      assertThat(next.status()).isEqualTo(200);
      assertThat(next.body()).contains("for-request-1");
      assertThat(upstreamSaw()).containsExactly(expectedPost(DevStack.BODY));
      List<JsonNode> records = assertOneRecordPerAnswer(List.of(refused, next));
      assertThat(records).filteredOn(r -> r.get("status").asInt() == 400)
          .singleElement().satisfies(r -> assertThat(r.get("reason").asText()).isEqualTo("connection-header-invalid"));
    }
  }

  @Test
  void connectionNamingAnOrdinaryHeaderDropsJustThatHeaderAndTheProxyStillFramesTheBody() throws Exception {
    try (RawCaller c = new RawCaller(stack.proxyUrl())) {
      c.send(allowedPost("Connection: keep-alive, X-Hop-Only\r\nX-Hop-Only: 1\r\nX-End-To-End: 2\r\n", DevStack.BODY));
      Response ok = c.read(QUIET);
      assertThat(ok.status()).isEqualTo(200);
      assertThat(upstreamSaw()).containsExactly(expectedUpstream("POST",
          List.of("content-type: application/json", "x-end-to-end: 2"), "content-length: " + DevStack.BODY.length(),
          DevStack.BODY));
      assertOneRecordPerAnswer(List.of(ok));
    }
  }

  // ---- a body is a body ----------------------------------------------------------------------------------------

  @ParameterizedTest(name = "smuggled {index}")
  @ValueSource(booleans = {false, true})
  void aRequestHiddenInAnAllowedBodyReachesVertexAsBodyAndTheNextCallerIsUntouched(boolean partialHead) throws Exception {
    String hidden = partialHead ? SMUGGLED_PARTIAL : SMUGGLED;
    Response attacker;
    try (RawCaller c = new RawCaller(stack.proxyUrl())) {
      attacker = c.send(allowedPost("", hidden)).read(QUIET);
    }
    Response victim;
    try (RawCaller c = new RawCaller(stack.proxyUrl())) {
      victim = c.send(allowedPost("", DevStack.BODY)).read(QUIET);
    }
    assertThat(attacker.body()).contains("for-request-1");
    assertThat(victim.body()).contains("for-request-2");
    assertThat(upstreamSaw()).containsExactly(expectedPost(hidden), expectedPost(DevStack.BODY));
    assertOneRecordPerAnswer(List.of(attacker, victim));
  }

  // ---- framing the decoder must refuse -------------------------------------------------------------------------

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {
      "Content-Length: 5|Transfer-Encoding: chunked",
      "Transfer-Encoding: chunked|Content-Length: 5",
      "Transfer-Encoding: chunked|Transfer-Encoding: chunked",
      "Transfer-Encoding: chunked, chunked",
      "Transfer-Encoding: xchunked",
      "Transfer-Encoding: chunked, identity",
      "Transfer-Encoding: identity",
      "Transfer-Encoding : chunked",
      "Transfer-Encoding:\u000bchunked",
      "Content-Length: 5|Content-Length: 5",
      "Content-Length: 5|Content-Length: 6",
      "Content-Length: 5, 5",
      "Content-Length: 0x2",
      "Content-Length: 1 0",
      "Content-Length: 2, 181",
      "Content-Length: +5",
      "Content-Length: -1",
      "Content-Length: 99999999999999999999",
      "Content-Length: ",
      "Content-Length : 5",
  })
  void ambiguousOrMalformedFramingIsRefusedInGoogleShapeWithARecordAndNothingForwarded(String framing) throws Exception {
    String lines = String.join("\r\n", framing.split("\\|")) + "\r\n";
    try (RawCaller c = new RawCaller(stack.proxyUrl())) {
      c.send(allowedPostFramedBy(lines, "5\r\nhello\r\n0\r\n\r\n"));
      Response r = c.read(QUIET);
      assertThat(r).as("an answer to %s", framing).isNotNull();
      assertRefusedInGoogleShape(r, 400, "INVALID_ARGUMENT");
      assertThat(r.reason()).isEqualTo("request-malformed");
      assertThat(r.header("connection")).isEqualTo("close");
      assertThat(c.closedWithin(QUIET)).as("closed after refusing framing it cannot trust").isTrue();
      assertOneRecordPerAnswer(List.of(r));
    }
    assertThat(up.requests).isEmpty();
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"Transfer-Encoding: CHUNKED", "Transfer-Encoding: identity, chunked", "Transfer-Encoding:\tchunked\t"})
  void unusualButUnambiguousChunkedFramingReachesVertexAsPlainChunked(String framing) throws Exception {
    String body = DevStack.BODY;
    try (RawCaller c = new RawCaller(stack.proxyUrl())) {
      c.send(allowedPostFramedBy(framing + "\r\n", Integer.toHexString(body.length()) + "\r\n" + body + "\r\n0\r\n\r\n"));
      Response ok = c.read(QUIET);
      assertThat(ok.status()).isEqualTo(200);
      assertOneRecordPerAnswer(List.of(ok));
    }
    assertThat(up.requests).singleElement().satisfies(r -> {
      assertThat(r.framingError()).isNull();
      assertThat(r.headers().get("transfer-encoding")).containsExactly("chunked");
      assertThat(r.headers()).doesNotContainKey("content-length");
      assertThat(r.body()).isEqualTo(body);
      assertThat(r.rawBody()).endsWith("\r\n0\r\n\r\n");
    });
  }

  // ---- line endings, folding, request-target forms -------------------------------------------------------------

  @ParameterizedTest(name = "{index}: {0}")
  @ValueSource(strings = {
      "bare LF everywhere",
      "bare LF after one header",
      "bare CR in a header",
      "obs-fold continuing Content-Length",
      "bare LF in a chunk size line",
      "NUL in a header value",
  })
  void brokenLineStructureIsRefusedAndNothingIsForwarded(String variant) throws Exception {
    String clean = allowedPost("X-Note: a\r\n", DevStack.BODY);
    String body = DevStack.BODY;
    String request = switch (variant) {
      case "bare LF everywhere" -> clean.replace("\r\n", "\n");
      case "bare LF after one header" -> clean.replace("X-Note: a\r\n", "X-Note: a\n");
      case "bare CR in a header" -> clean.replace("X-Note: a\r\n", "X-Note: a\rContent-Length: 0\r\n");
      case "obs-fold continuing Content-Length" -> clean.replace("Content-Length: " + body.length() + "\r\n",
          "Content-Length: " + body.length() + "\r\n 0\r\n");
      case "bare LF in a chunk size line" -> allowedPostFramedBy("Transfer-Encoding: chunked\r\n",
          Integer.toHexString(body.length()) + "\n" + body + "\r\n0\r\n\r\n");
      case "NUL in a header value" -> clean.replace("X-Note: a\r\n", "X-Note: a\0b\r\n");
      default -> throw new IllegalArgumentException(variant);
    };
    try (RawCaller c = new RawCaller(stack.proxyUrl())) {
      c.send(request);
      Response r = c.read(QUIET);
      assertThat(r).as("an answer to %s", variant).isNotNull();
      assertRefusedInGoogleShape(r, 400, "INVALID_ARGUMENT");
      assertThat(c.closedWithin(QUIET)).isTrue();
      assertOneRecordPerAnswer(List.of(r));
    }
    if (variant.contains("chunk")) {
      // the head may be on its way to Vertex before the bad chunk arrives: then Vertex must get a body that never ends
      assertThat(up.requests).allSatisfy(r -> assertThat(r.framingError()).isEqualTo("chunked body ended early"));
    } else {
      assertThat(up.requests).isEmpty();
    }
  }

  /**
   * RFC 9112 §5.2 lets a server replace an obs-fold with a space instead of refusing it, and the decoder does: what the
   * proxy checks is then what it forwards, on one line. A folded credential is a different credential, and refused.
   */
  @Test
  void anObsFoldIsUnfoldedBeforeAnythingReadsItAndNeverForwardedAsAFold() throws Exception {
    try (RawCaller c = new RawCaller(stack.proxyUrl())) {
      Response ok = c.send(allowedPost("X-Note: a\r\n b\r\n", DevStack.BODY)).read(QUIET);
      assertThat(ok.status()).isEqualTo(200);
      Response folded = c.send(allowedPost("", DevStack.BODY).replace("Authorization: Bearer " + token + "\r\n",
          "Authorization: Bearer " + token + "\r\n x\r\n")).read(QUIET);
      assertRefusedInGoogleShape(folded, 401, "UNAUTHENTICATED");
      assertOneRecordPerAnswer(List.of(ok, folded));
    }
    assertThat(upstreamSaw()).containsExactly(expectedUpstream("POST", List.of("content-type: application/json", "x-note: a b"),
        "content-length: " + DevStack.BODY.length(), DevStack.BODY));
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"absolute", "absolute-https", "asterisk", "authority"})
  void requestTargetsOtherThanOriginFormAreRefused(String form) throws Exception {
    String request = switch (form) {
      case "absolute" -> allowedPost("", DevStack.BODY).replace("POST " + path, "POST http://127.0.0.1:" + up.port() + path);
      case "absolute-https" -> allowedPost("", DevStack.BODY).replace("POST " + path, "POST https://aiplatform.googleapis.com" + path);
      case "asterisk" -> "OPTIONS * HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token + "\r\n\r\n";
      case "authority" -> "CONNECT aiplatform.googleapis.com:443 HTTP/1.1\r\nHost: aiplatform.googleapis.com:443\r\n"
          + "Authorization: Bearer " + token + "\r\n\r\n";
      default -> throw new IllegalArgumentException(form);
    };
    try (RawCaller c = new RawCaller(stack.proxyUrl())) {
      Response r = c.send(request).read(QUIET);
      assertThat(r).isNotNull();
      assertThat(r.status()).isIn(400, 404);
      assertThat(r.googleStatus()).isIn("INVALID_ARGUMENT", "NOT_FOUND");
      assertOneRecordPerAnswer(List.of(r));
    }
    assertThat(up.requests).isEmpty();
  }

  // ---- refused bodies are read on a deadline -------------------------------------------------------------------

  @Test
  void aRefusedBodyTrickledInSlowlyDoesNotHoldTheConnection() throws Exception {
    try (RawCaller c = new RawCaller(stack.proxyUrl())) {
      // no credential: refused at once; 1000 bytes owed, then one byte every 100 ms would take 100 s
      c.send("POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n0123456789");
      Response refused = c.read(QUIET);
      assertRefusedInGoogleShape(refused, 401, "UNAUTHENTICATED");
      long start = System.nanoTime();
      boolean closed = false;
      for (int i = 0; i < 100 && !closed; i++) {
        try {
          c.send("x");
        } catch (IOException gone) {
          closed = true;
          break;
        }
        closed = c.closedWithin(Duration.ofMillis(100));
      }
      Duration held = Duration.ofNanos(System.nanoTime() - start);
      assertThat(closed).as("closed while the caller still trickled (held %s)", held).isTrue();
      assertThat(held).isLessThan(Duration.ofSeconds(8));
      assertOneRecordPerAnswer(List.of(refused));
    }
    assertThat(up.requests).isEmpty();
  }

  @Test
  void aRefusedBodySentPromptlyIsDrainedAndTheConnectionCarriesOn() throws Exception {
    try (RawCaller c = new RawCaller(stack.proxyUrl())) {
      String body = "x".repeat(20_000);
      c.send("POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Length: " + body.length() + "\r\n\r\n");
      Response refused = c.read(QUIET);
      assertThat(refused.status()).isEqualTo(401);
      c.send(body);
      Response ok = c.send(allowedPost("", DevStack.BODY)).read(QUIET);
      assertThat(ok.status()).isEqualTo(200);
      assertOneRecordPerAnswer(List.of(refused, ok));
    }
    assertThat(upstreamSaw()).containsExactly(expectedPost(DevStack.BODY));
  }

  // ---- claims a caller chose --------------------------------------------------------------------------------------

  /**
   * A token's claims are whatever its issuer put in them: here another valid token, a secret-named claim, text that
   * would break a JSON line and a nested secret. Sent three times on one connection (the audit writer serialises one
   * caller's claims once and reuses them), none of it reaches Google and every record holds it redacted, alike.
   */
  @Test
  void hostileClaimsNeverReachGoogleAndEveryRecordHoldsThemRedactedAlike() throws Exception {
    String forged = "\"},\"decision\":\"deny\",\"x\":{\"\n";
    String hostile = stack.mint(Map.of("ci_note", "Bearer " + token, "api_key", "AIzaSyHOSTILEKEY", "quote", forged,
        "nested", Map.of("password", "hunter2", "plain", "visible")));
    String request = "POST " + path + " HTTP/1.1\r\nHost: proxy.example\r\nAuthorization: Bearer " + hostile
        + "\r\nContent-Type: application/json\r\nContent-Length: " + DevStack.BODY.length() + "\r\n\r\n" + DevStack.BODY;
    List<Response> answers = new ArrayList<>();
    try (RawCaller c = new RawCaller(stack.proxyUrl())) {
      for (int i = 0; i < 3; i++) {
        answers.add(c.send(request).read(QUIET));
      }
    }
    assertThat(answers).extracting(Response::status).containsExactly(200, 200, 200);
    // asReceived also checks that neither the caller's token nor the one inside its claims is the credential
    assertThat(upstreamSaw()).containsExactly(expectedPost(DevStack.BODY), expectedPost(DevStack.BODY),
        expectedPost(DevStack.BODY));
    for (Received r : up.requests) {
      assertThat(r.head() + r.rawBody()).doesNotContain(hostile, token, "AIzaSyHOSTILEKEY", "hunter2", "visible");
    }

    List<JsonNode> records = assertOneRecordPerAnswer(answers);
    for (JsonNode record : records) {
      JsonNode claims = record.path("caller").path("claims");
      assertThat(record.get("decision").asText()).isEqualTo("allow");
      assertThat(claims.get("api_key").asText()).isEqualTo("[redacted]");
      assertThat(claims.get("ci_note").asText()).isEqualTo("Bearer [redacted]");
      assertThat(claims.get("quote").asText()).isEqualTo(forged);
      assertThat(claims.path("nested").get("password").asText()).isEqualTo("[redacted]");
      assertThat(claims.path("nested").get("plain").asText()).isEqualTo("visible");
      assertThat(claims).isEqualTo(records.get(0).path("caller").path("claims"));
    }
    try (var files = Files.list(stack.auditDir())) {
      for (Path f : files.filter(p -> p.getFileName().toString().endsWith(".jsonl")).toList()) {
        assertThat(Files.readString(f)).doesNotContain(hostile, token, "AIzaSyHOSTILEKEY", "hunter2");
      }
    }
  }

  // ---- Google steering headers ---------------------------------------------------------------------------------

  @Test
  void callerHeadersThatSteerGoogleNeverArriveOnlyTheDescriptiveOnesDo() throws Exception {
    try (RawCaller c = new RawCaller(stack.proxyUrl())) {
      Response ok = c.send(allowedPost("X-Goog-Request-Params: model=projects%2Fvictim-project%2Flocations%2Fus-central1\r\n"
          + "X-Goog-User-Project: victim-project\r\nx-goog-visibilities: GOOGLE_INTERNAL\r\nX-Goog-Api-Key: AIzaSECRET\r\n"
          + "X-Goog-Iam-Authorization-Token: SECRET\r\nX-Goog-Api-Client: genai-java/1.80.0\r\n"
          + "X-Goog-Request-Reason: ticket-42\r\n"
          + "X-Goog-FieldMask: candidates\r\n", DevStack.BODY)).read(QUIET);
      assertThat(ok.status()).isEqualTo(200);
      assertOneRecordPerAnswer(List.of(ok));
    }
    assertThat(upstreamSaw()).containsExactly(expectedUpstream("POST", List.of("content-type: application/json",
        "x-goog-api-client: genai-java/1.80.0", "x-goog-fieldmask: candidates", "x-goog-request-reason: ticket-42"),
        "content-length: " + DevStack.BODY.length(), DevStack.BODY));
  }

  // ---- forwarded and trace headers ------------------------------------------------------------------------------

  /**
   * This stack trusts no proxy: a caller's forwarded headers, however many and however malformed, change neither its
   * {@code source_ip} nor what reaches Google (none of them does); its trace headers travel on untouched and are no
   * trace of the proxy's own when they are not well-formed.
   */
  @Test
  void forgedForwardedHeadersChangeNothingAndNeverReachGoogle() throws Exception {
    StringBuilder flood = new StringBuilder();
    for (int i = 0; i < 200; i++) {
      flood.append("X-Forwarded-For: 10.0.").append(i).append(".1, unknown, [::1]:80, _hidden\r\n");
    }
    String hostile = flood + "X-Forwarded-For: 192.0.2.7\r\n"
        + "Forwarded: for=\"192.0.2.8\\\"; by=x\", for=\"[2001:db8::1]:4711\"\r\nForwarded: for=_x;for=192.0.2.9\r\n"
        + "X-Real-IP: 192.0.2.10\r\nX-Forwarded-Host: victim.example\r\nX-Forwarded-Proto: http\r\n"
        + "Connection: keep-alive, X-Forwarded-For\r\n"
        + "traceparent: 00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01\r\n"
        + "X-Cloud-Trace-Context: ../../etc;o=1\r\n";
    Response ok;
    try (RawCaller c = new RawCaller(stack.proxyUrl())) {
      ok = c.send(allowedPost(hostile, DevStack.BODY)).read(QUIET);
    }
    assertThat(ok.status()).isEqualTo(200);
    JsonNode record = assertOneRecordPerAnswer(List.of(ok)).get(0);
    assertThat(record.get("source_ip").asText()).isEqualTo("127.0.0.1");
    assertThat(record.has("peer_ip")).isFalse();
    assertThat(upstreamSaw()).containsExactly(expectedUpstream("POST", List.of("content-type: application/json",
        "traceparent: 00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", "x-cloud-trace-context: ../../etc;o=1"),
        "content-length: " + DevStack.BODY.length(), DevStack.BODY));
  }

  // ---- the response path ---------------------------------------------------------------------------------------

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"Content-Length", "Transfer-Encoding", "content-length, transfer-encoding"})
  void anUpstreamConnectionHeaderCannotUnframeWhatGoesBackToTheCaller(String named) throws Exception {
    String answer = "{\"answer\":\"framed\"}";
    up.responder = n -> named.toLowerCase(Locale.ROOT).startsWith("content-length")
        ? "HTTP/1.1 200 OK\r\nConnection: " + named + "\r\nContent-Type: application/json\r\nContent-Length: " + answer.length()
            + "\r\n\r\n" + answer
        : "HTTP/1.1 200 OK\r\nConnection: " + named + "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            + Integer.toHexString(answer.length()) + "\r\n" + answer + "\r\n0\r\n\r\n";
    try (RawCaller c = new RawCaller(stack.proxyUrl())) {
      List<Response> answers = new ArrayList<>();
      for (int i = 0; i < 2; i++) {
        // a keep-alive caller: an unframed first answer would swallow the second
        answers.add(c.send(allowedPost("", DevStack.BODY)).read(QUIET));
      }
      assertThat(answers).allSatisfy(r -> {
        assertThat(r.framed()).as("framed by Content-Length or chunked").isTrue();
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.body()).isEqualTo(answer);
      });
      assertOneRecordPerAnswer(answers);
    }
    assertThat(up.requests).hasSize(2);
  }

  @Test
  void bytesAfterTheFramedEndOfAResponseAreNeverRelayedAndTheConnectionIsNotReused() throws Exception {
    // Vertex answers a request with two responses in one write: the second must reach no caller
    up.responder = n -> n == 1
        ? RecordingUpstream.ok(1) + "HTTP/1.1 200 OK\r\nContent-Length: 22\r\n\r\n{\"answer\":\"smuggled\"}"
        : RecordingUpstream.ok(n);
    assertSecondCallerGetsItsOwnAnswerOnAFreshConnection();
  }

  @Test
  void aResponseArrivingOnAnIdlePooledConnectionClosesItRatherThanReachingTheNextCaller() throws Exception {
    // after its answer, Vertex sends the head of another response while the connection sits in the pool; the next
    // caller's answer would otherwise be read as that response's body
    up.responder = n -> n == 1
        ? RecordingUpstream.ok(1) + "<pause>HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n{\"smuggled\":\""
        : RecordingUpstream.ok(n);
    assertSecondCallerGetsItsOwnAnswerOnAFreshConnection();
  }

  private void assertSecondCallerGetsItsOwnAnswerOnAFreshConnection() throws Exception {
    int connectionsBefore = up.connections.get();
    List<Response> answers = new ArrayList<>();
    try (RawCaller c = new RawCaller(stack.proxyUrl())) {
      answers.add(c.send(allowedPost("", DevStack.BODY)).read(QUIET));
      assertThat(c.read(Duration.ofMillis(800))).as("a second response to one request").isNull();
    }
    try (RawCaller c = new RawCaller(stack.proxyUrl())) {
      answers.add(c.send(allowedPost("", DevStack.BODY)).read(QUIET));
    }
    assertThat(answers).extracting(Response::body)
        .containsExactly("{\"answer\":\"for-request-1\"}", "{\"answer\":\"for-request-2\"}");
    assertThat(up.requests.stream().map(Received::connection).distinct().count()).as("upstream connections used").isEqualTo(2);
    assertThat(up.connections.get() - connectionsBefore).isLessThanOrEqualTo(2);
    assertOneRecordPerAnswer(answers);
  }

  // ---- health checks on the serving port -----------------------------------------------------------------------

  @Test
  void healthzOnTheServingPortAnswersWithoutARecordAndOnlyExactly() throws Exception {
    List<Response> audited = new ArrayList<>();
    try (RawCaller c = new RawCaller(stack.proxyUrl())) {
      Response health = c.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").read(QUIET);
      assertThat(health.status()).isEqualTo(200);
      assertThat(health.body()).isEqualTo("ok\n");
      assertThat(health.requestId()).isNull();
      // keep-alive: the same connection goes on to carry real requests
      for (String probe : List.of("GET /healthz?full=1 HTTP/1.1\r\nHost: x\r\n\r\n",
          "POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", "GET /healthz/ HTTP/1.1\r\nHost: x\r\n\r\n",
          "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")) {
        Response r = c.send(probe).read(QUIET);
        assertThat(r.status()).as(probe).isIn(400, 404);
        audited.add(r);
      }
      audited.add(c.send(allowedPost("", DevStack.BODY)).read(QUIET));
    }
    assertOneRecordPerAnswer(audited);
    assertThat(stack.auditRecords()).as("the probe that was answered 200 left no record")
        .noneMatch(r -> r.path("path").asText().equals("/healthz") && r.path("status").asInt() == 200);
  }
}

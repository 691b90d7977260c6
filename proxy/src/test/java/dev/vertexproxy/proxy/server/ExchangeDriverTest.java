package dev.vertexproxy.proxy.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.api.client.http.javanet.NetHttpTransport;
import dev.vertexproxy.policy.Policy;
import dev.vertexproxy.policy.PolicyException;
import dev.vertexproxy.proxy.audit.AuditReader;
import dev.vertexproxy.proxy.upstream.UpstreamLease;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.util.stream.Stream;
import dev.vertexproxy.policy.catalog.MethodCatalog;
import dev.vertexproxy.policy.route.Router;
import dev.vertexproxy.proxy.admin.ProxyMetrics;
import dev.vertexproxy.proxy.admission.AdmissionChain;
import dev.vertexproxy.proxy.admission.CredentialsStep;
import dev.vertexproxy.proxy.admission.GuardStep;
import dev.vertexproxy.proxy.admission.IdentityStep;
import dev.vertexproxy.proxy.admission.PolicyStep;
import dev.vertexproxy.proxy.admission.RouteStep;
import dev.vertexproxy.proxy.audit.AuditLog;
import dev.vertexproxy.proxy.config.AuditConfig;
import dev.vertexproxy.proxy.config.CredentialsConfig;
import dev.vertexproxy.proxy.config.IdentityConfig;
import dev.vertexproxy.proxy.config.IssuerConfig;
import dev.vertexproxy.proxy.config.ProxyConfig;
import dev.vertexproxy.proxy.credentials.GoogleTokenProvider;
import dev.vertexproxy.proxy.identity.TokenVerifier;
import dev.vertexproxy.proxy.upstream.UpstreamConnections;
import dev.vertexproxy.proxy.upstream.UpstreamHosts;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.HttpServerCodec;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ExchangeDriver} on an {@link EmbeddedChannel} behind the real HTTP codec: the refusals that happen before
 * any remote component is consulted, connection reuse after them, and pipelining. Nothing here touches the network
 * (the issuer and Google endpoints point at a closed port and are never called).
 */
class ExchangeDriverTest {
  private static final String GEMINI =
      "/v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.0-flash:generateContent";

  @TempDir
  Path tmp;
  private AuditLog audit;
  private TokenVerifier verifier;
  private GoogleTokenProvider tokens;
  private ProxyContext px;

  /** One allow rule: any gitlab caller may call generateContent as sa@p. */
  private static Policy geminiPolicy() throws PolicyException {
    return EmbeddedExchanges.allowing("publishers.models.generateContent");
  }

  @BeforeEach
  void setUp() throws Exception {
    Clock clock = Clock.systemUTC();
    audit = AuditLog.open(
        new AuditConfig(tmp.resolve("audit"), AuditConfig.Durability.NONE, AuditConfig.OnFailure.REJECT), clock);
    verifier = TokenVerifier.create(IdentityConfig.of(List.of(new IssuerConfig("gitlab", URI.create("https://127.0.0.1:1"),
        List.of("aud"), List.of("RS256"), null))), clock, Runnable::run);
    Path source = tmp.resolve("external-account.json");
    Files.writeString(source, "{\"type\":\"external_account\",\"audience\":\"//iam.googleapis.com/projects/0/locations/global/"
        + "workloadIdentityPools/p/providers/q\",\"subject_token_type\":\"urn:ietf:params:oauth:token-type:jwt\","
        + "\"token_url\":\"https://127.0.0.1:1/v1/token\",\"credential_source\":{\"file\":\"/nonexistent\"}}");
    tokens = GoogleTokenProvider.create(CredentialsConfig.impersonate(source), NetHttpTransport::new, clock, Runnable::run);
    Policy policy = geminiPolicy();
    ProxyConfig.Limits limits = new ProxyConfig.Limits(1024, 2048, 4096, Duration.ofSeconds(60), Duration.ofSeconds(30),
        Duration.ofSeconds(1), 100);
    ProxyMetrics metrics = new ProxyMetrics();
    AdmissionChain chain = new AdmissionChain(List.of(new GuardStep(limits.maxBodyBytes(), () -> !audit.healthy()),
        new RouteStep(new Router(MethodCatalog.bundled())), new IdentityStep(verifier), new PolicyStep(() -> policy),
        new CredentialsStep(tokens)));
    px = new ProxyContext(chain, audit, metrics, clock, limits, new UpstreamHosts("https://{location}-aiplatform.googleapis.com"),
        new UpstreamConnections(NioSocketChannel.class, Duration.ofSeconds(1), null, 0, Runnable::run), Duration.ofSeconds(5),
        new AtomicBoolean(), () -> true, EmbeddedExchanges.NONE);
  }

  @AfterEach
  void tearDown() {
    tokens.close();
    verifier.close();
    audit.close();
  }

  private EmbeddedChannel channel() {
    return new EmbeddedChannel(new HttpServerCodec(px.limits().maxInitialLineBytes(), px.limits().maxHeaderBytes(), 8192),
        new ExchangeDriver(px));
  }

  private static void send(EmbeddedChannel ch, String raw) {
    EmbeddedExchanges.send(ch, raw);
  }

  private static String responses(EmbeddedChannel ch) {
    return EmbeddedExchanges.responses(ch);
  }

  @Test
  void anUnknownMethodIs404AndTheConnectionServesTheNextRequest() {
    EmbeddedChannel ch = channel();
    send(ch, "GET /v1/projects/p/locations/l/nothingHere HTTP/1.1\r\nHost: x\r\n\r\n");
    String first = responses(ch);
    assertThat(first).startsWith("HTTP/1.1 404 Not Found").contains("\"status\":\"NOT_FOUND\"").contains("route-not-found")
        .doesNotContain("connection: close");
    assertThat(ch.isOpen()).isTrue();
    send(ch, "POST " + GEMINI + "/../x HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}");
    assertThat(responses(ch)).startsWith("HTTP/1.1 400 Bad Request").contains("path-not-canonical");
    assertThat(ch.isOpen()).isTrue();
    assertThat(ch.finishAndReleaseAll()).isFalse();
  }

  @Test
  void aMissingOrNonBearerCredentialIs401WithAChallenge() {
    EmbeddedChannel ch = channel();
    send(ch, "POST " + GEMINI + " HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}");
    assertThat(responses(ch)).startsWith("HTTP/1.1 401 Unauthorized").contains("www-authenticate: Bearer")
        .contains("token-missing");
    send(ch, "POST " + GEMINI + " HTTP/1.1\r\nHost: x\r\nAuthorization: Basic YTpi\r\nContent-Length: 2\r\n\r\n{}");
    assertThat(responses(ch)).startsWith("HTTP/1.1 401").contains("token-malformed");
    assertThat(ch.finishAndReleaseAll()).isFalse();
  }

  @Test
  void pipelinedRequestsAreAnsweredInOrder() {
    EmbeddedChannel ch = channel();
    send(ch, "GET /v1/a HTTP/1.1\r\nHost: x\r\n\r\nPOST " + GEMINI + " HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"
        + "GET /v1/b HTTP/1.1\r\nHost: x\r\n\r\n");
    String all = responses(ch);
    int first = all.indexOf("No Vertex AI method matches GET /v1/a");
    int second = all.indexOf("token-missing");
    int third = all.indexOf("No Vertex AI method matches GET /v1/b");
    assertThat(first).isNotNegative();
    assertThat(second).isGreaterThan(first);
    assertThat(third).isGreaterThan(second);
    assertThat(ch.finishAndReleaseAll()).isFalse();
  }

  @Test
  void aDeclaredBodyOverTheLimitIs413AndClosesWithoutReadingIt() {
    EmbeddedChannel ch = channel();
    send(ch, "POST " + GEMINI + " HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n{\"partial\":");
    assertThat(responses(ch)).startsWith("HTTP/1.1 413").contains("connection: close").contains("body-too-large");
    assertThat(ch.isOpen()).isFalse();
    assertThat(ch.finishAndReleaseAll()).isFalse();
  }

  @Test
  void oversizedHeadersAre431AndCloseBecauseTheCodecCannotRecover() {
    EmbeddedChannel ch = channel();
    send(ch, "GET /v1/a HTTP/1.1\r\nHost: x\r\nX-Big: " + "y".repeat(4096) + "\r\n\r\n");
    assertThat(responses(ch)).startsWith("HTTP/1.1 431").contains("connection: close");
    assertThat(ch.isOpen()).isFalse();
    assertThat(ch.finishAndReleaseAll()).isFalse();
  }

  @Test
  void methodOverridesAndUnsupportedExpectationsAreRefused() {
    EmbeddedChannel ch = channel();
    send(ch, "POST " + GEMINI + " HTTP/1.1\r\nHost: x\r\nX-HTTP-Method-Override: DELETE\r\nContent-Length: 2\r\n\r\n{}");
    assertThat(responses(ch)).startsWith("HTTP/1.1 400").contains("method-override-not-allowed");
    send(ch, "POST " + GEMINI + " HTTP/1.1\r\nHost: x\r\nExpect: something-else\r\nContent-Length: 2\r\n\r\n{}");
    assertThat(responses(ch)).startsWith("HTTP/1.1 417");
    assertThat(ch.finishAndReleaseAll()).isFalse();
  }

  @Test
  void everyRefusalLeavesOneAuditRecord() {
    EmbeddedChannel ch = channel();
    send(ch, "GET /v1/a HTTP/1.1\r\nHost: x\r\n\r\n");
    send(ch, "POST " + GEMINI + " HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}");
    responses(ch);
    assertThat(ch.finishAndReleaseAll()).isFalse();
    audit.close();
    assertThat(audit.appended()).isEqualTo(2);
  }

  /**
   * The allowed path with every remote part replaced: stub identity and credentials steps, and a scripted upstream
   * channel standing in for Vertex. What goes up is the proxy's request with the Google token; what comes back reaches
   * the caller with the request id; one {@code allow}/{@code allowed} record.
   */
  @Test
  void anAdmittedRequestIsRelayedAndItsAnswerStreamsBackWithOneAllowedRecord() throws Exception {
    AdmissionChain chain = EmbeddedExchanges.stubbedChain(px.limits().maxBodyBytes(), geminiPolicy());
    EmbeddedChannel upstream = new EmbeddedChannel();
    upstream.config().setAutoRead(false);
    ProxyContext stubbed = new ProxyContext(chain, audit, px.metrics(), px.clock(), px.limits(), px.hosts(),
        (loop, origin) -> loop.newSucceededFuture(UpstreamLease.unpooled(upstream)), Duration.ofSeconds(5), new AtomicBoolean(),
        () -> true, EmbeddedExchanges.NONE);
    EmbeddedChannel ch = new EmbeddedChannel(new HttpServerCodec(1024, 2048, 8192), new ExchangeDriver(stubbed));

    send(ch, "POST " + GEMINI + " HTTP/1.1\r\nHost: proxy.example\r\nAuthorization: Bearer caller-jwt\r\n"
        + "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");
    HttpRequest up = upstream.readOutbound();
    assertThat(up.method().name()).isEqualTo("POST");
    assertThat(up.uri()).isEqualTo(GEMINI);
    assertThat(up.headers().get("authorization")).isEqualTo("Bearer ya29.test");
    assertThat(up.headers().get("host")).isEqualTo("us-central1-aiplatform.googleapis.com");
    assertThat(up.headers().get("content-length")).isEqualTo("2");
    HttpContent body = upstream.readOutbound();
    assertThat(body.content().toString(StandardCharsets.UTF_8)).isEqualTo("{}");
    body.release();
    assertThat(responses(ch)).as("nothing for the caller before Vertex answers").isEmpty();

    HttpResponse answer = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
    answer.headers().set("Content-Type", "application/json").set("Content-Length", 5);
    upstream.writeInbound(answer, new DefaultLastHttpContent(Unpooled.copiedBuffer("hello", StandardCharsets.UTF_8)));
    ch.runPendingTasks();
    String got = responses(ch);
    assertThat(got).startsWith("HTTP/1.1 200 OK").contains("x-vertex-proxy-request-id: ").contains("content-length: 5")
        .doesNotContain("connection: close").endsWith("hello");
    assertThat(ch.isOpen()).as("keep-alive: ready for the next request").isTrue();
    assertThat(ch.finishAndReleaseAll()).isFalse();
    assertThat(upstream.finishAndReleaseAll()).isFalse();

    audit.close();
    List<ObjectNode> records;
    try (Stream<ObjectNode> all = AuditReader.records(tmp.resolve("audit"))) {
      records = all.toList();
    }
    assertThat(records).singleElement().satisfies(r -> {
      assertThat(r.get("decision").asText()).isEqualTo("allow");
      assertThat(r.get("outcome").asText()).isEqualTo("allowed");
      assertThat(r.get("reason").asText()).isEqualTo("allowed");
      assertThat(r.get("google_principal").asText()).isEqualTo("sa@p.iam.gserviceaccount.com");
      assertThat(r.get("bytes_in").asLong()).isEqualTo(2);
      assertThat(r.get("bytes_out").asLong()).isEqualTo(5);
      assertThat(r.toString()).doesNotContain("caller-jwt").doesNotContain("ya29.test");
    });
  }
}

package dev.vertexproxy.proxy.server;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import dev.vertexproxy.policy.Caller;
import dev.vertexproxy.policy.Policy;
import dev.vertexproxy.policy.catalog.MethodCatalog;
import dev.vertexproxy.policy.route.Router;
import dev.vertexproxy.proxy.admin.ProxyMetrics;
import dev.vertexproxy.proxy.admission.AdmissionChain;
import dev.vertexproxy.proxy.admission.AdmissionStep;
import dev.vertexproxy.proxy.admission.GuardStep;
import dev.vertexproxy.proxy.admission.PolicyStep;
import dev.vertexproxy.proxy.admission.RouteStep;
import dev.vertexproxy.proxy.admission.Verdict;
import dev.vertexproxy.proxy.audit.AuditLog;
import dev.vertexproxy.proxy.config.AuditConfig;
import dev.vertexproxy.proxy.config.ProxyConfig;
import dev.vertexproxy.proxy.credentials.GoogleTokenProvider.GoogleToken;
import dev.vertexproxy.proxy.logging.RequestLog;
import dev.vertexproxy.proxy.upstream.UpstreamHosts;
import dev.vertexproxy.proxy.upstream.UpstreamLease;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Two exchanges interleaved on one thread — two embedded channels driven from the test thread, as two connections
 * share an event loop — with admission finishing in the opposite order and one upstream failing: every line logged
 * about an exchange carries its id, and between callbacks the thread carries none.
 */
class ExchangeLogContextTest {
  private static final String GEMINI =
      "/v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.0-flash:generateContent";
  private static final Pattern REQUEST_ID = Pattern.compile("x-vertex-proxy-request-id: ([0-9a-f]{24})");

  /** A message and the request id the MDC held when it was logged. */
  record Line(String message, String requestId) {
  }

  @TempDir
  Path tmp;
  private AuditLog audit;
  private final List<Line> lines = new CopyOnWriteArrayList<>();
  private final List<String> seenByStep = new CopyOnWriteArrayList<>();
  private AppenderBase<ILoggingEvent> capture;

  @BeforeEach
  void setUp() throws Exception {
    audit = AuditLog.open(new AuditConfig(tmp.resolve("audit"), AuditConfig.Durability.NONE, AuditConfig.OnFailure.REJECT),
        Clock.systemUTC());
    capture = new AppenderBase<>() {
      @Override
      protected void append(ILoggingEvent e) {
        lines.add(new Line(e.getFormattedMessage(), e.getMDCPropertyMap().get(RequestLog.REQUEST_ID)));
      }
    };
    capture.setContext((LoggerContext) LoggerFactory.getILoggerFactory());
    capture.start();
    root().addAppender(capture);
  }

  @AfterEach
  void tearDown() {
    root().detachAppender(capture);
    audit.close();
  }

  private static Logger root() {
    return ((LoggerContext) LoggerFactory.getILoggerFactory()).getLogger(Logger.ROOT_LOGGER_NAME);
  }

  private static String responses(EmbeddedChannel ch) {
    return EmbeddedExchanges.responses(ch);
  }

  private static void send(EmbeddedChannel ch) {
    EmbeddedExchanges.send(ch, "POST " + GEMINI + " HTTP/1.1\r\nHost: proxy.example\r\n"
        + "Authorization: Bearer caller-jwt-secret\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");
  }

  private static String idOf(String response) {
    Matcher m = REQUEST_ID.matcher(response);
    assertThat(m.find()).as(response).isTrue();
    return m.group(1);
  }

  @Test
  void interleavedExchangesNeverLendEachOtherTheirId() throws Exception {
    Policy policy = Policy.parse("""
        version: 1
        rules:
          - name: gemini
            effect: allow
            identity: { issuer: gitlab }
            methods: [publishers.models.generateContent]
            service_account: sa@p.iam.gserviceaccount.com
        """, "policy.yaml", MethodCatalog.bundled(), Set.of("gitlab"));
    List<CompletableFuture<Verdict>> identity = new ArrayList<>();
    AdmissionChain chain = new AdmissionChain(List.of(
        new GuardStep(1024, () -> false),
        new RouteStep(new Router(MethodCatalog.bundled())),
        AdmissionStep.of("identity", a -> {
          seenByStep.add("identity " + MDC.get(RequestLog.REQUEST_ID));
          a.caller(new Caller("gitlab", "project_path:acme/ml", Map.of("project_path", "acme/ml")), "caller-jwt-secret");
          CompletableFuture<Verdict> pending = new CompletableFuture<>();
          identity.add(pending);
          return pending;
        }),
        new PolicyStep(() -> policy),
        AdmissionStep.of("credentials", a -> {
          seenByStep.add("credentials " + MDC.get(RequestLog.REQUEST_ID));
          LoggerFactory.getLogger("test.credentials").info("token for {}", a.decision().serviceAccount());
          a.googleToken(new GoogleToken("ya29.secret", Instant.now().plusSeconds(3600), a.decision().serviceAccount()));
          return CompletableFuture.completedFuture(Verdict.proceed());
        })));
    List<EmbeddedChannel> upstreams = new ArrayList<>();
    ProxyConfig.Limits limits = new ProxyConfig.Limits(1024, 2048, 4096, Duration.ofSeconds(60), Duration.ofSeconds(30),
        Duration.ofSeconds(1), 100);
    ProxyContext px = new ProxyContext(chain, audit, new ProxyMetrics(), Clock.systemUTC(), limits,
        new UpstreamHosts("https://{location}-aiplatform.googleapis.com"), (loop, origin) -> {
          EmbeddedChannel up = new EmbeddedChannel();
          up.config().setAutoRead(false);
          upstreams.add(up);
          return loop.newSucceededFuture(UpstreamLease.unpooled(up));
        }, Duration.ofSeconds(5), new AtomicBoolean(), () -> true, EmbeddedExchanges.NONE);
    EmbeddedChannel a = new EmbeddedChannel(new HttpServerCodec(1024, 2048, 8192), new ExchangeDriver(px));
    EmbeddedChannel b = new EmbeddedChannel(new HttpServerCodec(1024, 2048, 8192), new ExchangeDriver(px));

    send(a);
    assertThat(MDC.get(RequestLog.REQUEST_ID)).as("after A's head").isNull();
    send(b);
    assertThat(MDC.get(RequestLog.REQUEST_ID)).as("after B's head").isNull();
    // B is decided first, then A: each continues on its own loop, in its own context
    identity.get(1).complete(Verdict.proceed());
    b.runPendingTasks();
    identity.get(0).complete(Verdict.proceed());
    a.runPendingTasks();
    assertThat(MDC.get(RequestLog.REQUEST_ID)).isNull();
    assertThat(upstreams).hasSize(2);
    // B was admitted first, so it leased first. B's upstream answers; A's goes away before answering: a logged
    // upstream failure and a 502 for A only
    EmbeddedChannel upB = upstreams.get(0);
    EmbeddedChannel upA = upstreams.get(1);
    HttpResponse ok = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
    ok.headers().set("Content-Length", 2);
    upB.writeInbound(ok, new DefaultLastHttpContent(Unpooled.copiedBuffer("{}", StandardCharsets.UTF_8)));
    b.runPendingTasks();
    upA.close();
    a.runPendingTasks();
    assertThat(MDC.get(RequestLog.REQUEST_ID)).isNull();

    String ra = responses(a);
    String rb = responses(b);
    assertThat(ra).startsWith("HTTP/1.1 502");
    assertThat(rb).startsWith("HTTP/1.1 200");
    String idA = idOf(ra);
    String idB = idOf(rb);
    assertThat(seenByStep).containsExactly("identity " + idA, "identity " + idB, "credentials " + idB, "credentials " + idA);
    assertThat(lines).filteredOn(l -> l.message().startsWith("token for ")).extracting(Line::requestId)
        .containsExactly(idB, idA);
    assertThat(lines).filteredOn(l -> l.message().contains("upstream failure")).singleElement()
        .satisfies(l -> assertThat(l.requestId()).isEqualTo(idA));
    for (Line l : lines) {
      assertThat(l.message()).doesNotContain("caller-jwt-secret", "ya29.secret");
      for (String id : List.of(idA, idB)) {
        if (l.message().contains(id)) {
          assertThat(l.requestId()).as("%s", l).isEqualTo(id);
        }
      }
    }
    a.finishAndReleaseAll();
    b.finishAndReleaseAll();
    for (EmbeddedChannel up : upstreams) {
      up.finishAndReleaseAll();
    }
  }
}

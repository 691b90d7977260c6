package dev.vertexproxy.proxy.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vertexproxy.policy.Policy;
import dev.vertexproxy.proxy.admin.ProxyMetrics;
import dev.vertexproxy.proxy.admission.AdmissionChain;
import dev.vertexproxy.proxy.audit.AuditLog;
import dev.vertexproxy.proxy.config.AuditConfig;
import dev.vertexproxy.proxy.config.ProxyConfig;
import dev.vertexproxy.proxy.testing.PrometheusText;
import dev.vertexproxy.proxy.upstream.UpstreamHosts;
import dev.vertexproxy.proxy.upstream.UpstreamLease;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the driver reports about an exchange as it moves: in flight from its head, a stream while Vertex's events
 * flow, and on its one ending a request count with admission and first-byte times — including when the caller cuts
 * the stream half-way. On an {@link EmbeddedChannel}, with Vertex an embedded channel too.
 */
class ExchangeMetricsTest {
  private static final String STREAM =
      "/v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.0-flash:streamGenerateContent?alt=sse";

  @TempDir
  Path tmp;
  private AuditLog audit;
  private ProxyMetrics metrics;
  private EmbeddedChannel upstream;
  private ProxyContext px;

  @BeforeEach
  void setUp() throws Exception {
    audit = AuditLog.open(new AuditConfig(tmp.resolve("audit"), AuditConfig.Durability.NONE, AuditConfig.OnFailure.REJECT),
        Clock.systemUTC());
    metrics = new ProxyMetrics();
    Policy policy = EmbeddedExchanges.allowing("publishers.models.streamGenerateContent");
    ProxyConfig.Limits limits = new ProxyConfig.Limits(1024, 2048, 4096, Duration.ofSeconds(60), Duration.ofSeconds(30),
        Duration.ofSeconds(1), 100);
    AdmissionChain chain = EmbeddedExchanges.stubbedChain(limits.maxBodyBytes(), policy);
    upstream = new EmbeddedChannel();
    upstream.config().setAutoRead(false);
    px = new ProxyContext(chain, audit, metrics, Clock.systemUTC(), limits,
        new UpstreamHosts("https://{location}-aiplatform.googleapis.com"),
        (loop, origin) -> loop.newSucceededFuture(UpstreamLease.unpooled(upstream)), Duration.ofSeconds(5),
        new AtomicBoolean(), () -> true, EmbeddedExchanges.NONE);
  }

  @AfterEach
  void tearDown() {
    audit.close();
    metrics.close();
  }

  @Test
  void aStreamCutByTheCallerIsCountedOnceAndLeavesNothingInFlight() {
    EmbeddedChannel ch = new EmbeddedChannel(new HttpServerCodec(1024, 2048, 8192), new ExchangeDriver(px));
    ch.writeInbound(Unpooled.copiedBuffer("POST " + STREAM + " HTTP/1.1\r\nHost: proxy.example\r\n"
        + "Authorization: Bearer caller-jwt\r\nContent-Length: 2\r\n\r\n{}", StandardCharsets.US_ASCII));
    ch.runPendingTasks();
    ReferenceCountUtil.release(upstream.<HttpRequest>readOutbound());
    ReferenceCountUtil.release(upstream.<HttpContent>readOutbound());
    PrometheusText admitted = PrometheusText.parse(metrics.scrape());
    assertThat(admitted.value("vertex_proxy_exchanges_in_flight")).isEqualTo(1);
    assertThat(admitted.value("vertex_proxy_streams_in_flight")).as("no answer yet").isZero();

    HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
    head.headers().set("Content-Type", "text/event-stream; charset=utf-8").set("Transfer-Encoding", "chunked");
    upstream.writeInbound(head, new DefaultHttpContent(Unpooled.copiedBuffer("data: {}\n\n", StandardCharsets.UTF_8)));
    ch.runPendingTasks();
    EmbeddedExchanges.responses(ch);
    PrometheusText streaming = PrometheusText.parse(metrics.scrape());
    assertThat(streaming.value("vertex_proxy_streams_in_flight")).isEqualTo(1);
    assertThat(streaming.sum("vertex_proxy_requests_total")).as("not ended yet").isZero();

    ch.close(); // the caller goes away mid-stream
    ch.runPendingTasks();
    PrometheusText ended = PrometheusText.parse(metrics.scrape());
    assertThat(ended.value("vertex_proxy_streams_in_flight")).isZero();
    assertThat(ended.value("vertex_proxy_exchanges_in_flight")).isZero();
    assertThat(ended.value("vertex_proxy_requests_total", "method", "publishers.models.streamGenerateContent",
        "decision", "allow", "outcome", "failed", "reason", "client-closed", "status", "200")).isEqualTo(1);
    assertThat(ended.sum("vertex_proxy_requests_total")).isEqualTo(1);
    assertThat(ended.value("vertex_proxy_upstream_first_byte_seconds_count", "method",
        "publishers.models.streamGenerateContent")).isEqualTo(1);
    assertThat(ended.value("vertex_proxy_admission_duration_seconds_count", "decision", "allow")).isEqualTo(1);
    assertThat(ended.value("vertex_proxy_request_duration_seconds_count", "method",
        "publishers.models.streamGenerateContent", "outcome", "failed")).isEqualTo(1);
    assertThat(ch.finishAndReleaseAll()).isFalse();
    upstream.finishAndReleaseAll();
  }
}

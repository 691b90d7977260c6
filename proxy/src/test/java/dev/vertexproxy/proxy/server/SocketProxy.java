package dev.vertexproxy.proxy.server;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vertexproxy.policy.Policy;
import dev.vertexproxy.policy.PolicyException;
import dev.vertexproxy.policy.catalog.MethodCatalog;
import dev.vertexproxy.policy.route.Router;
import dev.vertexproxy.proxy.admin.ProxyMetrics;
import dev.vertexproxy.proxy.admission.AdmissionChain;
import dev.vertexproxy.proxy.admission.AdmissionStep;
import dev.vertexproxy.proxy.admission.GuardStep;
import dev.vertexproxy.proxy.admission.PolicyStep;
import dev.vertexproxy.proxy.admission.ReservedRouteStep;
import dev.vertexproxy.proxy.admission.RouteStep;
import dev.vertexproxy.proxy.admission.Verdict;
import dev.vertexproxy.proxy.audit.AuditLog;
import dev.vertexproxy.proxy.audit.AuditReader;
import dev.vertexproxy.proxy.audit.GatedDisk;
import dev.vertexproxy.proxy.config.AuditConfig;
import dev.vertexproxy.proxy.config.ProxyConfig;
import dev.vertexproxy.proxy.credentials.GoogleTokenProvider.GoogleToken;
import dev.vertexproxy.proxy.reserved.ReservedResponse;
import dev.vertexproxy.proxy.reserved.ReservedRoutes;
import dev.vertexproxy.proxy.upstream.UpstreamConnections;
import dev.vertexproxy.proxy.upstream.UpstreamHosts;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

/**
 * The caller side of the proxy on a real loopback port, in this JVM: the real caller pipeline, guard (with the audit
 * trail's health), reserved-route, route and policy steps, the stubbed identity and credentials of
 * {@link EmbeddedExchanges}, the real relay and pool to a {@link BytesUpstream}, and a real audit log on a
 * {@link GatedDisk}. One reserved route, {@code POST /_proxy/echo}, answers 200 with the body it got.
 */
final class SocketProxy implements AutoCloseable {
  static final String GEMINI =
      "/v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.0-flash:generateContent";

  final GatedDisk disk = new GatedDisk();
  final Path auditDir;
  final AuditLog audit;
  private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private final UpstreamConnections connections;
  private final ProxyMetrics metrics = new ProxyMetrics();
  private final Channel listener;

  SocketProxy(Path tmp, AuditConfig.Durability durability, AuditConfig.OnFailure onFailure, AuditConfig.Capture capture,
      BytesUpstream upstream) throws IOException, PolicyException, InterruptedException {
    auditDir = tmp.resolve("audit");
    AuditConfig config = new AuditConfig(auditDir, durability, onFailure).withCapture(capture);
    audit = disk.open(config, Clock.systemUTC());
    AuditPlan plan = AuditPlan.of(config);
    Policy policy = EmbeddedExchanges.allowing("publishers.models.generateContent");
    ReservedRoutes reserved = ReservedRoutes.builder().add(HttpMethod.POST, "/_proxy/echo",
        r -> CompletableFuture.completedFuture(ReservedResponse.status(200).text("got " + r.body().length + " bytes")))
        .build();
    ProxyConfig.Limits limits = new ProxyConfig.Limits(4096, 8192, 1 << 20, Duration.ofSeconds(60), Duration.ofSeconds(30),
        Duration.ofSeconds(1), 100);
    AdmissionChain chain = new AdmissionChain(List.of(
        new GuardStep(limits.maxBodyBytes(), () -> plan.refusesWithoutRecord() && !audit.healthy()),
        new ReservedRouteStep(reserved),
        new RouteStep(new Router(MethodCatalog.bundled())),
        AdmissionStep.of("identity", a -> {
          a.caller(EmbeddedExchanges.CALLER, "caller-jwt");
          return CompletableFuture.completedFuture(Verdict.proceed());
        }),
        new PolicyStep(() -> policy),
        AdmissionStep.of("credentials", a -> {
          a.googleToken(new GoogleToken("ya29.test", Instant.now().plusSeconds(3600), a.decision().serviceAccount()));
          return CompletableFuture.completedFuture(Verdict.proceed());
        })));
    connections = new UpstreamConnections(NioSocketChannel.class, Duration.ofSeconds(2), null, 4, Runnable::run);
    ProxyContext px = new ProxyContext(chain, audit, metrics, Clock.systemUTC(), limits,
        new UpstreamHosts("http://127.0.0.1:" + upstream.port()), connections, Duration.ofSeconds(10),
        new AtomicBoolean(), () -> true, plan);
    listener = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
        .childOption(ChannelOption.AUTO_READ, false)
        .childHandler(new ProxyChannelInitializer(px, null, new DefaultChannelGroup(GlobalEventExecutor.INSTANCE),
            new ProxyConfig.Listen(null, null)))
        .bind("127.0.0.1", 0).sync().channel();
  }

  /** Exchanges the proxy counts as in flight: what a drain at shutdown waits for before it closes connections. */
  long inFlight() {
    return metrics.inFlight().get();
  }

  int port() {
    return ((InetSocketAddress) listener.localAddress()).getPort();
  }

  /** Every record in the trail; closes the audit log first so everything queued is on disk. */
  List<ObjectNode> records() throws IOException {
    disk.release();
    audit.close();
    try (Stream<ObjectNode> all = AuditReader.records(auditDir)) {
      return all.toList();
    }
  }

  @Override
  public void close() {
    disk.release();
    listener.close().syncUninterruptibly();
    connections.close();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    audit.close();
  }
}

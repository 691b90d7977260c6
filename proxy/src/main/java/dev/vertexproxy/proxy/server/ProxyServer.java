package dev.vertexproxy.proxy.server;

import com.google.auth.http.HttpTransportFactory;
import dev.vertexproxy.policy.Policy;
import dev.vertexproxy.policy.PolicyException;
import dev.vertexproxy.policy.catalog.MethodCatalog;
import dev.vertexproxy.policy.route.Router;
import dev.vertexproxy.policy.yaml.Problem;
import dev.vertexproxy.proxy.BuildInfo;
import dev.vertexproxy.proxy.admin.AdminServer;
import dev.vertexproxy.proxy.admin.ProxyMetrics;
import dev.vertexproxy.proxy.audit.AuditLog;
import dev.vertexproxy.proxy.config.IssuerConfig;
import dev.vertexproxy.proxy.config.ProxyConfig;
import dev.vertexproxy.proxy.credentials.CredentialsPlan;
import dev.vertexproxy.proxy.credentials.GoogleTokenProvider;
import dev.vertexproxy.proxy.identity.TokenVerifier;
import dev.vertexproxy.proxy.logging.LogSetup;
import dev.vertexproxy.proxy.policy.PolicyInForce;
import dev.vertexproxy.proxy.policy.PolicyWatcher;
import dev.vertexproxy.proxy.login.LoginContext;
import dev.vertexproxy.proxy.login.ProxyEndpoints;
import dev.vertexproxy.proxy.login.SessionIssuer;
import dev.vertexproxy.proxy.login.SessionMaintenance;
import dev.vertexproxy.proxy.login.page.RecentRequests;
import dev.vertexproxy.proxy.reserved.ReservedRoutes;
import dev.vertexproxy.proxy.upstream.UpstreamConnections;
import dev.vertexproxy.proxy.upstream.UpstreamHosts;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.NettyRuntime;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.concurrent.ExecutorService;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running proxy: caller listener, admin listener and the long-lived parts they share. {@link #start} validates
 * everything (config, policy, TLS files, credentials file) before binding; {@link #close} drains in-flight exchanges for
 * up to {@code limits.drain_timeout}, then closes what is left. Thread-safe.
 */
public final class ProxyServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ProxyServer.class);

  private final ProxyConfig config;
  private final ProxyContext px;
  private final Parts parts;
  private final EventLoopGroup boss;
  private final EventLoopGroup workers;
  private final ExecutorService blocking;
  private final ChannelGroup channels;
  private final AtomicBoolean identityReady;
  private final Listeners listeners;
  private final AdminServer admin;
  private final AtomicBoolean closed = new AtomicBoolean();

  /** What the server itself keeps of the long-lived parts: the policy in force (reload), and what it closes. */
  private record Parts(PolicyInForce policy, PolicyWatcher watcher, TokenVerifier verifier, GoogleTokenProvider tokens,
      UpstreamConnections connections, TlsReloader tls, SessionMaintenance sessions) {
  }

  /** The caller listeners: {@code listen.address}, and where TLS is served (the same channel, another, or none). */
  private record Listeners(Channel main, Channel tls) {
  }

  private ProxyServer(ProxyConfig config, ProxyContext px, Parts parts, EventLoopGroup boss, EventLoopGroup workers,
      ExecutorService blocking, ChannelGroup channels, AtomicBoolean identityReady, Listeners listeners, AdminServer admin) {
    this.config = config;
    this.parts = parts;
    this.channels = channels;
    this.identityReady = identityReady;
    this.px = px;
    this.boss = boss;
    this.workers = workers;
    this.blocking = blocking;
    this.listeners = listeners;
    this.admin = admin;
  }

  /** Starts a proxy from a validated configuration. */
  public static ProxyServer start(ProxyConfig config, Clock clock, HttpTransportFactory googleTransport)
      throws IOException, PolicyException, InterruptedException {
    return start(config, clock, googleTransport, Ablation.NONE);
  }

  /** As {@link #start(ProxyConfig, Clock, HttpTransportFactory)}, with parts left out for the ablation benchmark. */
  static ProxyServer start(ProxyConfig config, Clock clock, HttpTransportFactory googleTransport, Ablation ablation)
      throws IOException, PolicyException, InterruptedException {
    MethodCatalog catalog = MethodCatalog.bundled();
    ProxyMetrics metrics = new ProxyMetrics(config.identity().issuerNames());
    PolicyInForce policyInForce;
    try {
      policyInForce = PolicyInForce.load(config.policy().file(), (text, source) -> loadPolicy(config, text, source), clock,
          metrics.policy());
    } catch (PolicyException e) {
      metrics.close();
      throw e;
    }
    Policy policy = policyInForce.get();
    LogSetup.apply(config.logging());
    TlsReloader tls = config.listen().tls() == null ? null : TlsReloader.load(config.listen().tls());
    boolean epoll = Epoll.isAvailable();
    IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
    Class<? extends ServerSocketChannel> serverType = epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    Class<? extends SocketChannel> clientType = epoll ? EpollSocketChannel.class : NioSocketChannel.class;
    EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("vp-accept", true), io);
    EventLoopGroup workers = new MultiThreadIoEventLoopGroup(Integer.getInteger("io.netty.eventLoopThreads",
        NettyRuntime.availableProcessors()), new DefaultThreadFactory("vp-io", true), io); // a loop per CPU, not 2
    ThreadPoolExecutor blocking = new ThreadPoolExecutor(4, 32, 60, TimeUnit.SECONDS, new LinkedBlockingQueue<>(10_000),
        new DefaultThreadFactory("vp-blocking", true));
    blocking.allowCoreThreadTimeOut(true);
    AuditLog audit = null;
    TokenVerifier verifier = null;
    GoogleTokenProvider tokens = null;
    PolicyWatcher watcher = null;
    try {
      audit = AuditLog.open(config.audit(), clock, metrics.audit(), config.logging().traceProject());
      metrics.auditQueue(audit);
      SessionIssuer issuer = config.sessions() == null ? null
          : SessionIssuer.load(config.sessions(), clock, config.identity().maxTokenBytes());
      checkLoginSecrets(config);
      verifier = TokenVerifier.create(config.identity(), clock, blocking, metrics.jwksFetches(), issuer);
      tokens = GoogleTokenProvider.builder().config(config.credentials()).impersonation(googleTransport).clock(clock)
          .executor(blocking).events(metrics.googleTokens()).build();
      metrics.googleTokenExpiry(tokens::earliestExpiry, clock);
      UpstreamConnections connections = new UpstreamConnections(clientType, config.upstream().connectTimeout(),
          config.upstream().caFile(), config.upstream().maxIdlePerHost(), blocking);
      metrics.upstreamConnections(connections, UpstreamConnections::opened, UpstreamConnections::reused);
      AtomicBoolean identityReady = new AtomicBoolean();
      AtomicBoolean draining = new AtomicBoolean();
      AuditLog a = audit;
      BooleanSupplier ready = () -> !draining.get() && a.healthy() && identityReady.get();
      // the page for people lists each person's recent requests on this replica, fed with every audit event
      RecentRequests recent = new RecentRequests(LoginContext.RECENT_PER_CALLER, LoginContext.RECENT_CALLERS);
      if (issuer != null) {
        audit.observe(recent::record);
      }
      ReservedRoutes reserved = ProxyEndpoints.routes(issuer == null ? null
          : new LoginContext(config, issuer, verifier, policyInForce::get, blocking, clock, recent));
      ProxyContext px = new ProxyContext(
          RequestFlow.admission(config, new Router(catalog), policyInForce, verifier, tokens, audit, reserved, ablation), audit,
          metrics, clock, config.limits(), new UpstreamHosts(config.upstream().urlTemplate()), connections,
          config.upstream().responseTimeout(), draining, ready, AuditPlan.of(config.audit(), ablation));
      watcher = PolicyWatcher.start(policyInForce, config.policy().watch(), config.policy().checkInterval());
      Parts parts = new Parts(policyInForce, watcher, verifier, tokens, connections, tls == null ? null : tls.start(),
          issuer == null ? null : SessionMaintenance.start(issuer, workers, blocking));
      ChannelGroup channels = new DefaultChannelGroup("callers", GlobalEventExecutor.INSTANCE);
      ServerBootstrap bootstrap = new ServerBootstrap()
          .group(boss, workers)
          .channel(serverType)
          .option(ChannelOption.SO_BACKLOG, 1024)
          .childOption(ChannelOption.AUTO_READ, false)
          .childOption(ChannelOption.TCP_NODELAY, true);
      // listen.tls.address: TLS on its own port and plain HTTP on listen.address; otherwise one port, TLS if configured
      boolean split = tls != null && config.listen().tls().address() != null;
      Channel listener = bind(bootstrap.clone().childHandler(
          new ProxyChannelInitializer(px, split ? null : tls, channels, config.listen())),
          config.listen().address(), "listen.address");
      Channel tlsListener = listener;
      if (split) {
        try {
          tlsListener = bind(bootstrap.clone().childHandler(new ProxyChannelInitializer(px, tls, channels, config.listen())),
              config.listen().tls().address(), "listen.tls.address");
        } catch (IOException e) {
          listener.close();
          throw e;
        }
      }
      AdminServer admin = null;
      if (config.admin().address() != null) {
        try {
          admin = AdminServer.start(resolve(config.admin().address()), boss, workers, serverType, metrics, ready,
              new AdminServer.PolicyAdmin(() -> parts.policy().reload(PolicyInForce.Trigger.ADMIN),
                  parts.policy()::statusJson), blocking);
        } catch (Exception e) {
          if (e instanceof InterruptedException) {
            Thread.currentThread().interrupt();
          }
          listener.close();
          tlsListener.close();
          throw new IOException("cannot listen on " + config.admin().address() + " (admin.address): " + e.getMessage(), e);
        }
      }
      ProxyServer server = new ProxyServer(config, px, parts, boss, workers, blocking, channels, identityReady,
          new Listeners(listener, tls == null ? null : tlsListener), admin);
      server.warmUpIdentity(0);
      log.info("vertex-proxy {} started: listening on {} ({}), admin {}, issuers {}, policy {} ({} rules), trusted proxies: {}",
          version(), listener.localAddress(),
          split ? "plain HTTP, TLS on " + tlsListener.localAddress() : tls == null ? "plain HTTP" : "TLS",
          admin == null ? "off" : admin.address(), config.identity().issuerNames(), policy.version(), policy.rules().size(),
          config.listen().trustedProxies().isEmpty() ? "none" : config.listen().trustedProxies());
      if (config.listen().trustedProxies().trustsAnyPeer()) {
        log.warn("listen.trusted_proxies contains a /0 block: any peer that can reach {} chooses the source_ip of its"
            + " requests; list only the load balancer's addresses unless nothing else can connect", listener.localAddress());
      }
      return server;
    } catch (IOException | RuntimeException e) {
      if (watcher != null) {
        watcher.close();
      }
      if (tls != null) {
        tls.close();
      }
      if (tokens != null) {
        tokens.close();
      }
      if (verifier != null) {
        verifier.close();
      }
      if (audit != null) {
        audit.close();
      }
      metrics.close();
      workers.shutdownGracefully(0, 0, TimeUnit.SECONDS);
      boss.shutdownGracefully(0, 0, TimeUnit.SECONDS);
      blocking.shutdownNow();
      throw e;
    }
  }

  /** Every login's client secret is readable now, so a missing mount fails the start, not a person's first login. */
  private static void checkLoginSecrets(ProxyConfig config) throws IOException {
    for (IssuerConfig i : config.identity().issuers()) {
      if (i.login() != null) {
        try {
          i.login().clientSecret();
        } catch (IllegalStateException e) {
          throw new IOException("identity.issuers[" + i.name() + "]." + e.getMessage(), e);
        }
      }
    }
  }

  /** Binds one caller listener; a port already taken names the config key that asked for it. */
  private static Channel bind(ServerBootstrap bootstrap, InetSocketAddress address, String key) throws IOException {
    InetSocketAddress bind = resolve(address);
    try {
      return bootstrap.bind(bind).sync().channel();
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      throw new IOException("cannot listen on " + bind + " (" + key + "): " + e.getMessage(), e);
    }
  }

  /** Fetches every issuer's keys so /readyz turns ready; retries with backoff while an issuer is unreachable. */
  private void warmUpIdentity(int attempt) {
    if (closed.get()) {
      return;
    }
    parts.verifier().warmUp().whenComplete((ok, err) -> {
      if (err == null) {
        identityReady.set(true);
        return;
      }
      long delay = Math.min(30, 1L << Math.min(attempt, 5));
      log.warn("identity warm-up failed (retrying in {}s): {}", delay, err.getMessage());
      if (!closed.get()) {
        workers.next().schedule(() -> warmUpIdentity(attempt + 1), delay, TimeUnit.SECONDS);
      }
    });
  }

  private static String version() {
    return BuildInfo.current().describe();
  }

  private static InetSocketAddress resolve(InetSocketAddress a) {
    return a.isUnresolved() ? new InetSocketAddress(a.getHostString(), a.getPort()) : a;
  }

  /** Where {@code listen.address} is bound: TLS or plain as configured (plain when {@code listen.tls.address} is set). */
  public InetSocketAddress address() {
    return (InetSocketAddress) listeners.main().localAddress();
  }

  /** Where TLS is served: {@link #address()} or the {@code listen.tls.address} listener; {@code null} without TLS. */
  public InetSocketAddress tlsAddress() {
    return listeners.tls() == null ? null : (InetSocketAddress) listeners.tls().localAddress();
  }

  public InetSocketAddress adminAddress() {
    return admin == null ? null : admin.address();
  }

  /**
   * Swaps in the policy file's current content after it validated, and returns its version; the running policy stays
   * when it did not (the exception says why). Exchanges already past the policy step keep their decision.
   */
  public String reloadPolicy() throws PolicyException {
    return parts.policy().reload(PolicyInForce.Trigger.ADMIN);
  }

  /**
   * The configuration's policy file, validated against the bundled catalog and the configured issuers: their names,
   * and which are shared (their allow rules must pin a namespace or project).
   */
  public static Policy loadPolicy(ProxyConfig config) throws PolicyException {
    return checked(config, Policy.load(config.policy().file(), MethodCatalog.bundled(), config.identity().issuerNames(),
        config.identity().sharedIssuerNames()), config.policy().file().toString());
  }

  /** {@link #loadPolicy(ProxyConfig)} of content already read: a reload judges exactly the bytes it hashed. */
  static Policy loadPolicy(ProxyConfig config, String text, String source) throws PolicyException {
    return checked(config, Policy.parse(text, source, MethodCatalog.bundled(), config.identity().issuerNames(),
        config.identity().sharedIssuerNames()), source);
  }

  private static Policy checked(ProxyConfig config, Policy policy, String source) throws PolicyException {
    List<Problem> problems = CredentialsPlan.problems(config, policy, source);
    if (!problems.isEmpty()) {
      throw new PolicyException(problems);
    }
    return policy;
  }

  public String policyVersion() {
    return parts.policy().get().version();
  }

  /**
   * Stops accepting, lets in-flight exchanges finish for up to {@code limits.drain_timeout} (their responses, and
   * any further request on a kept-alive connection, carry {@code Connection: close}), then closes everything.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    px.draining().set(true);
    parts.watcher().close();
    listeners.main().close().syncUninterruptibly();
    if (listeners.tls() != null) {
      listeners.tls().close().syncUninterruptibly();
    }
    long started = System.nanoTime();
    long deadline = started + px.limits().drainTimeout().toNanos();
    log.info("draining: no new connections, {} exchanges in flight, waiting up to {}s", px.metrics().inFlight().get(),
        px.limits().drainTimeout().toSeconds());
    while (px.metrics().inFlight().get() > 0 && System.nanoTime() < deadline) {
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    long left = px.metrics().inFlight().get();
    if (left > 0) {
      log.warn("drain deadline reached: closing {} exchanges still in flight", left);
    } else {
      log.info("drained: every exchange finished within {} ms", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
    }
    channels.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
    if (admin != null) {
      admin.close();
    }
    parts.connections().close();
    if (parts.sessions() != null) {
      parts.sessions().close();
    }
    if (parts.tls() != null) {
      parts.tls().close();
    }
    parts.tokens().close();
    parts.verifier().close();
    px.audit().close();
    px.metrics().close();
    workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    boss.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    blocking.shutdownNow();
    log.info("vertex-proxy stopped");
  }
}

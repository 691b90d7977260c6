package dev.vertexproxy.proxy.server;

import dev.vertexproxy.proxy.config.ProxyConfig;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The caller listener's TLS context, re-read when {@code listen.tls}'s files change. Kubernetes renews a mounted Secret
 * by swapping a symlink, which file-watch events report unreliably, so the files' content is hashed on a schedule
 * ({@code reload_interval}) on a thread of its own, never an event loop. A changed pair that loads replaces the context
 * for new connections; connections already open keep the handshake they made. A changed pair that does not load (a
 * half-written renewal, a key that does not match) keeps the old context, logs a warning, and is tried again at the
 * next check only if the files change again.
 *
 * <p>{@link #get} is lock-free and called by every new connection; {@link #check} is called by the schedule (or a
 * test) and is serialised. Thread-safe.
 */
final class TlsReloader implements Supplier<SslContext>, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(TlsReloader.class);

  private final ProxyConfig.Tls files;
  private final AtomicReference<SslContext> current = new AtomicReference<>();
  private byte[] seen;
  private ScheduledExecutorService schedule;

  private TlsReloader(ProxyConfig.Tls files) {
    this.files = files;
  }

  /** Loads the pair now; the proxy does not start without a usable one. */
  static TlsReloader load(ProxyConfig.Tls files) throws IOException {
    TlsReloader r = new TlsReloader(files);
    byte[] cert = Files.readAllBytes(files.cert());
    byte[] key = Files.readAllBytes(files.key());
    r.current.set(build(cert, key));
    r.seen = digest(cert, key);
    return r;
  }

  /** Checks the files every {@code reload_interval} until {@link #close}; a zero interval checks never. */
  TlsReloader start() {
    Duration every = files.reloadInterval();
    if (every.isZero() || every.isNegative()) {
      return this;
    }
    ScheduledThreadPoolExecutor s = new ScheduledThreadPoolExecutor(1, new DefaultThreadFactory("vp-tls-reload", true));
    s.scheduleWithFixedDelay(() -> {
      try {
        check();
      } catch (RuntimeException e) {
        log.warn("TLS certificate check failed: {}", e.toString());
      }
    }, every.toMillis(), every.toMillis(), TimeUnit.MILLISECONDS);
    schedule = s;
    return this;
  }

  @Override
  public SslContext get() {
    return current.get();
  }

  /**
   * Re-reads both files; swaps in a new context when their content changed and loads.
   *
   * @return whether a new context is now in force
   */
  synchronized boolean check() {
    byte[] cert;
    byte[] key;
    try {
      cert = Files.readAllBytes(files.cert());
      key = Files.readAllBytes(files.key());
    } catch (IOException e) {
      log.warn("TLS files unreadable, the current certificate stays: {}", e.toString());
      return false;
    }
    byte[] hash = digest(cert, key);
    if (Arrays.equals(hash, seen)) {
      return false;
    }
    seen = hash;
    try {
      current.set(build(cert, key));
    } catch (IOException | RuntimeException e) {
      log.warn("TLS files {} and {} changed but do not load, the current certificate stays: {}", files.cert(),
          files.key(), e.getMessage());
      return false;
    }
    log.info("TLS certificate reloaded from {} (sha256 of cert and key {})", files.cert(),
        HexFormat.of().formatHex(hash, 0, 8));
    return true;
  }

  /** A context from the pair, proven by a handshake in memory: a key that does not match the certificate is refused. */
  private static SslContext build(byte[] cert, byte[] key) throws IOException {
    SslContext ctx;
    try {
      ctx = SslContextBuilder.forServer(new ByteArrayInputStream(cert), new ByteArrayInputStream(key))
          .protocols("TLSv1.3", "TLSv1.2").build();
    } catch (IllegalArgumentException e) {
      throw new IOException(e.getMessage(), e);
    }
    String problem = handshakeProblem(ctx);
    if (problem != null) {
      throw new IOException("a TLS handshake with this certificate and key fails (" + problem + "); do they belong together?");
    }
    return ctx;
  }

  /** Runs a client handshake against {@code server} over in-memory channels; the failure, or {@code null}. */
  private static String handshakeProblem(SslContext server) throws IOException {
    SslContext client = SslContextBuilder.forClient().trustManager(InsecureTrustManagerFactory.INSTANCE)
        .protocols("TLSv1.3", "TLSv1.2").build();
    EmbeddedChannel s = new EmbeddedChannel(server.newHandler(ByteBufAllocator.DEFAULT));
    EmbeddedChannel c = new EmbeddedChannel(client.newHandler(ByteBufAllocator.DEFAULT));
    SslHandler handler = c.pipeline().get(SslHandler.class);
    try {
      for (int i = 0; i < 64 && !handler.handshakeFuture().isDone(); i++) {
        move(c, s);
        move(s, c);
        s.runPendingTasks();
        c.runPendingTasks();
      }
      Throwable cause = handler.handshakeFuture().cause();
      return handler.handshakeFuture().isSuccess() ? null : cause == null ? "no answer" : cause.toString();
    } catch (RuntimeException e) {
      return e.toString();
    } finally {
      s.finishAndReleaseAll();
      c.finishAndReleaseAll();
    }
  }

  private static void move(EmbeddedChannel from, EmbeddedChannel to) {
    ByteBuf b;
    while ((b = from.readOutbound()) != null) {
      to.writeInbound(b);
    }
  }

  private static byte[] digest(byte[] cert, byte[] key) {
    try {
      MessageDigest d = MessageDigest.getInstance("SHA-256");
      d.update(cert);
      d.update((byte) 0);
      d.update(key);
      return d.digest();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }

  @Override
  public void close() {
    if (schedule != null) {
      schedule.shutdownNow();
    }
  }
}

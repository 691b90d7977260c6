package dev.vertexproxy.proxy.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.vertexproxy.emulators.DevCertificates;
import dev.vertexproxy.proxy.config.ProxyConfig;
import dev.vertexproxy.proxy.testing.PresentedCertificate;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Certificate reload with real TLS handshakes over loopback, the files laid out as Kubernetes mounts a Secret: the
 * names are symlinks through {@code ..data}, and a renewal swaps that one symlink.
 */
class TlsReloaderTest {
  @TempDir
  Path dir;
  private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private Channel server;
  private TlsReloader tls;
  private int generation;

  private static DevCertificates cert(String cn) {
    return DevCertificates.selfSigned(cn, Clock.systemUTC(), new String[] {"localhost"}, InetAddress.getLoopbackAddress());
  }

  /** Writes a new generation directory and points {@code ..data} at it in one rename, as the kubelet does. */
  private void mount(String certPem, String keyPem) throws IOException {
    Path gen = Files.createDirectory(dir.resolve("..gen" + (++generation)));
    Files.writeString(gen.resolve("tls.crt"), certPem);
    Files.writeString(gen.resolve("tls.key"), keyPem);
    Path tmp = dir.resolve("..data_tmp");
    Files.deleteIfExists(tmp);
    Files.createSymbolicLink(tmp, gen.getFileName());
    Files.move(tmp, dir.resolve("..data"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    if (!Files.exists(dir.resolve("tls.crt"), LinkOption.NOFOLLOW_LINKS)) {
      Files.createSymbolicLink(dir.resolve("tls.crt"), Path.of("..data/tls.crt"));
      Files.createSymbolicLink(dir.resolve("tls.key"), Path.of("..data/tls.key"));
    }
  }

  private void mount(DevCertificates c) throws IOException {
    Path tmp = Files.createTempDirectory(dir, "pem");
    c.writeCertificatePem(tmp.resolve("c"));
    c.writeKeyPem(tmp.resolve("k"));
    mount(Files.readString(tmp.resolve("c")), Files.readString(tmp.resolve("k")));
  }

  private ProxyConfig.Tls files(Duration interval) {
    return new ProxyConfig.Tls(dir.resolve("tls.crt"), dir.resolve("tls.key"), interval);
  }

  /** A server that picks the reloader's current context per connection, as ProxyChannelInitializer does, and echoes. */
  private void serve() throws InterruptedException {
    server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            ch.pipeline().addLast(tls.get().newHandler(ch.alloc()), new ChannelInboundHandlerAdapter() {
              @Override
              public void channelRead(ChannelHandlerContext ctx, Object msg) {
                ctx.writeAndFlush(msg);
              }
            });
          }
        }).bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).sync().channel();
  }

  private SSLSocket connect() throws Exception {
    return PresentedCertificate.open(((InetSocketAddress) server.localAddress()).getPort());
  }

  private X509Certificate presented() throws Exception {
    try (SSLSocket s = connect()) {
      return (X509Certificate) s.getSession().getPeerCertificates()[0];
    }
  }

  private static String echo(SSLSocket s, String text) throws IOException {
    s.getOutputStream().write(text.getBytes(StandardCharsets.UTF_8));
    s.getOutputStream().flush();
    byte[] b = s.getInputStream().readNBytes(text.length());
    return new String(b, StandardCharsets.UTF_8);
  }

  @BeforeEach
  void first() throws Exception {
    mount(cert("first"));
  }

  @AfterEach
  void stop() {
    if (tls != null) {
      tls.close();
    }
    if (server != null) {
      server.close().syncUninterruptibly();
    }
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  @Test
  void aRenewedSecretIsPresentedToNewConnectionsWhileOpenOnesContinue() throws Exception {
    tls = TlsReloader.load(files(Duration.ZERO));
    serve();
    SSLSocket open = connect();
    assertThat(((X509Certificate) open.getSession().getPeerCertificates()[0]).getSubjectX500Principal().getName())
        .isEqualTo("CN=first");
    assertThat(tls.check()).as("unchanged files").isFalse();

    mount(cert("second"));
    assertThat(tls.check()).isTrue();
    assertThat(presented().getSubjectX500Principal().getName()).isEqualTo("CN=second");
    assertThat(echo(open, "still here")).isEqualTo("still here");
    assertThat(((X509Certificate) open.getSession().getPeerCertificates()[0]).getSubjectX500Principal().getName())
        .isEqualTo("CN=first");
    open.close();
  }

  @Test
  void aPairThatDoesNotLoadKeepsTheOldCertificate() throws Exception {
    tls = TlsReloader.load(files(Duration.ZERO));
    serve();
    Path pems = Files.createTempDirectory(dir, "pem");
    DevCertificates third = cert("third");
    DevCertificates other = cert("other");
    third.writeCertificatePem(pems.resolve("c"));
    other.writeKeyPem(pems.resolve("wrong-key"));
    String thirdCert = Files.readString(pems.resolve("c"));

    mount(thirdCert, "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n");
    assertThat(tls.check()).isFalse();
    assertThat(presented().getSubjectX500Principal().getName()).isEqualTo("CN=first");

    // a well-formed key of another certificate: only a handshake shows it does not belong
    mount(thirdCert, Files.readString(pems.resolve("wrong-key")));
    assertThat(tls.check()).isFalse();
    assertThat(presented().getSubjectX500Principal().getName()).isEqualTo("CN=first");

    mount(thirdCert.substring(0, thirdCert.length() / 2), Files.readString(pems.resolve("wrong-key")));
    assertThat(tls.check()).isFalse();
    assertThat(presented().getSubjectX500Principal().getName()).isEqualTo("CN=first");

    // the renewal completes: the next change loads
    mount(third);
    assertThat(tls.check()).isTrue();
    assertThat(presented().getSubjectX500Principal().getName()).isEqualTo("CN=third");
  }

  @Test
  void theProxyDoesNotStartWithAKeyThatIsNotTheCertificates() throws Exception {
    Path pems = Files.createTempDirectory(dir, "pem");
    cert("a").writeCertificatePem(pems.resolve("c"));
    cert("b").writeKeyPem(pems.resolve("k"));
    mount(Files.readString(pems.resolve("c")), Files.readString(pems.resolve("k")));
    assertThatThrownBy(() -> TlsReloader.load(files(Duration.ZERO))).isInstanceOf(IOException.class)
        .hasMessageContaining("do they belong together");
  }

  @Test
  void theScheduleFindsTheRenewalOnItsOwn() throws Exception {
    tls = TlsReloader.load(files(Duration.ofMillis(20))).start();
    serve();
    mount(cert("scheduled"));
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    String name = presented().getSubjectX500Principal().getName();
    while (!name.equals("CN=scheduled") && System.nanoTime() < deadline) {
      Thread.sleep(20);
      name = presented().getSubjectX500Principal().getName();
    }
    assertThat(name).isEqualTo("CN=scheduled");
  }
}

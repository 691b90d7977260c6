package dev.vertexproxy.proxy.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import dev.vertexproxy.emulators.DevCertificates;
import dev.vertexproxy.proxy.testing.PresentedCertificate;
import java.net.InetAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * The running proxy picks up a renewed certificate on its own: {@code listen.tls} files replaced under it, the next
 * connection's handshake presents the new certificate, and a broken renewal leaves the old one in place.
 */
class TlsReloadEndToEndTest {
  private static DevCertificates cert(String cn) {
    return DevCertificates.selfSigned(cn, Clock.systemUTC(), new String[] {"localhost"}, InetAddress.getLoopbackAddress());
  }

  /** Writes both files next to their final place, then renames them over it, each in one step. */
  private static void install(Path dir, String certPem, String keyPem) throws Exception {
    Files.writeString(dir.resolve("tls.crt.new"), certPem);
    Files.writeString(dir.resolve("tls.key.new"), keyPem);
    Files.move(dir.resolve("tls.key.new"), dir.resolve("tls.key"), StandardCopyOption.ATOMIC_MOVE,
        StandardCopyOption.REPLACE_EXISTING);
    Files.move(dir.resolve("tls.crt.new"), dir.resolve("tls.crt"), StandardCopyOption.ATOMIC_MOVE,
        StandardCopyOption.REPLACE_EXISTING);
  }

  private static String pem(Path dir, DevCertificates c, boolean key) throws Exception {
    Path f = Files.createTempFile(dir, "pem", ".pem");
    if (key) {
      c.writeKeyPem(f);
    } else {
      c.writeCertificatePem(f);
    }
    return Files.readString(f);
  }

  private static String presented(int port) throws Exception {
    return PresentedCertificate.of(port).getSubjectX500Principal().getName();
  }

  /** Bounded wait for the periodic check to have run (a condition, not a duration, is what the test asserts). */
  private static String awaitPresented(int port, String expected) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    String name = presented(port);
    while (!name.equals(expected) && System.nanoTime() < deadline) {
      Thread.sleep(20);
      name = presented(port);
    }
    return name;
  }

  @Test
  void aRenewedCertificateIsServedWithoutARestartAndABrokenOneIsNot() throws Exception {
    Path tmp = Files.createTempDirectory("tls-reload-test");
    Path tls = Files.createDirectory(tmp.resolve("tls"));
    DevCertificates first = cert("first");
    install(tls, pem(tmp, first, false), pem(tmp, first, true));
    List<String> warnings = new CopyOnWriteArrayList<>();
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    AppenderBase<ILoggingEvent> capture = new AppenderBase<>() {
      @Override
      protected void append(ILoggingEvent e) {
        warnings.add(e.getFormattedMessage());
      }
    };
    capture.setContext(context);
    capture.start();
    Logger reloader = context.getLogger("dev.vertexproxy.proxy.server.TlsReloader");
    reloader.addAppender(capture);
    DevStack stack = DevStack.start(tmp, "listen: { tls: { cert: '" + tls.resolve("tls.crt") + "', key: '"
        + tls.resolve("tls.key") + "', reload_interval: 20ms } }\n");
    try {
      int port = URI.create(stack.proxyUrl()).getPort();
      assertThat(stack.proxyUrl()).startsWith("https://");
      // a listen.tls of its own replaces dev mode's second listener and its CA
      assertThat(stack.dev.info().get("proxy_tls_url")).isEqualTo(stack.proxyUrl());
      assertThat(stack.dev.info().get("ca_file")).as("the dev CA does not vouch for this certificate").isNull();
      assertThat(presented(port)).isEqualTo("CN=first");

      DevCertificates second = cert("second");
      install(tls, pem(tmp, second, false), pem(tmp, second, true));
      assertThat(awaitPresented(port, "CN=second")).isEqualTo("CN=second");

      // a renewal whose key is another certificate's: refused once the check has seen it (its warning), and a later
      // good one still gets through
      DevCertificates third = cert("third");
      install(tls, pem(tmp, third, false), pem(tmp, first, true));
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (warnings.stream().noneMatch(m -> m.contains("changed but do not load")) && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertThat(warnings).anySatisfy(m -> assertThat(m).contains("changed but do not load", "do they belong together"));
      assertThat(presented(port)).isEqualTo("CN=second");
      DevCertificates fourth = cert("fourth");
      install(tls, pem(tmp, fourth, false), pem(tmp, fourth, true));
      assertThat(awaitPresented(port, "CN=fourth")).isEqualTo("CN=fourth");
    } finally {
      reloader.detachAppender(capture);
      stack.dev.close();
    }
  }
}

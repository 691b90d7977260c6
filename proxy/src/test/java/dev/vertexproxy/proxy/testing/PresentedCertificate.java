package dev.vertexproxy.proxy.testing;

import java.net.InetAddress;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * TLS connections for tests that look at which certificate a loopback server presents (after a reload, say), not at
 * whether to trust it: the handshake accepts any server certificate. Never for anything but such a look.
 */
public final class PresentedCertificate {
  private PresentedCertificate() {
  }

  /** A handshaken connection to {@code 127.0.0.1:port} (10 s read timeout); the caller closes it. */
  public static SSLSocket open(int port) throws Exception {
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(null, new TrustManager[] {new X509TrustManager() {
      @Override
      public void checkClientTrusted(X509Certificate[] chain, String authType) {
      }

      @Override
      public void checkServerTrusted(X509Certificate[] chain, String authType) {
        // the test looks at which certificate is presented, not whether to trust it
      }

      @Override
      public X509Certificate[] getAcceptedIssuers() {
        return new X509Certificate[0];
      }
    }}, new SecureRandom());
    SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket(InetAddress.getLoopbackAddress(), port);
    s.setSoTimeout(10_000);
    s.startHandshake();
    return s;
  }

  /** The leaf certificate a new connection to {@code 127.0.0.1:port} is shown. */
  public static X509Certificate of(int port) throws Exception {
    try (SSLSocket s = open(port)) {
      return (X509Certificate) s.getSession().getPeerCertificates()[0];
    }
  }
}

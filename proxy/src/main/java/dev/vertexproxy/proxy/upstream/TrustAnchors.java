package dev.vertexproxy.proxy.upstream;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/**
 * Trust anchors for outgoing TLS (to Vertex, and to STS and IAM Credentials): the system's, plus the PEM certificates
 * of an extra CA file.
 */
public final class TrustAnchors {
  private TrustAnchors() {
  }

  static TrustManagerFactory systemPlus(Path caFile) throws IOException {
    try {
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(systemPlusStore(caFile));
      return tmf;
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot read CA file " + caFile + ": " + e.getMessage(), e);
    }
  }

  /** A key store of the system's trust anchors and {@code caFile}'s certificates. */
  public static KeyStore systemPlusStore(Path caFile) throws IOException {
    try {
      KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
      ks.load(null, null);
      TrustManagerFactory system = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      system.init((KeyStore) null);
      int i = 0;
      for (var tm : system.getTrustManagers()) {
        if (tm instanceof X509TrustManager x) {
          for (X509Certificate c : x.getAcceptedIssuers()) {
            ks.setCertificateEntry("system-" + i++, c);
          }
        }
      }
      try (InputStream in = Files.newInputStream(caFile)) {
        for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
          ks.setCertificateEntry("extra-" + i++, c);
        }
      }
      return ks;
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot read CA file " + caFile + ": " + e.getMessage(), e);
    }
  }
}

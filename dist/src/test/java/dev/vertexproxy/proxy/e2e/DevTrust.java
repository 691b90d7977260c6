package dev.vertexproxy.proxy.e2e;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * Trust in exactly the dev CA ({@code ca_file} of dev.json), the way a user gives it to a client: as an
 * {@link SSLContext} for Java's HttpClient, or as a PKCS#12 truststore file for a JVM's
 * {@code -Djavax.net.ssl.trustStore}. Hostname verification stays with the client, on.
 */
final class DevTrust {
  static final String STORE_PASSWORD = "changeit";

  private DevTrust() {
  }

  static X509Certificate ca(Path caFile) throws IOException, GeneralSecurityException {
    try (InputStream in = Files.newInputStream(caFile)) {
      return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
    }
  }

  static KeyStore store(Path caFile) throws IOException, GeneralSecurityException {
    KeyStore store = KeyStore.getInstance("PKCS12");
    store.load(null, null);
    store.setCertificateEntry("vertex-proxy-dev-ca", ca(caFile));
    return store;
  }

  static SSLContext context(Path caFile) throws IOException, GeneralSecurityException {
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(store(caFile));
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(null, tmf.getTrustManagers(), null);
    return ctx;
  }

  /** Writes a PKCS#12 truststore holding only the dev CA, password {@link #STORE_PASSWORD}. */
  static Path storeFile(Path caFile, Path target) throws IOException, GeneralSecurityException {
    try (OutputStream out = Files.newOutputStream(target)) {
      store(caFile).store(out, STORE_PASSWORD.toCharArray());
    }
    return target;
  }
}

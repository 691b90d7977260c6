package dev.vertexproxy.emulators;

import java.io.IOException;
import java.net.InetAddress;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Clock;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/**
 * A throw-away self-signed TLS identity for the Google emulator. It exists because google-auth-library 1.57 refuses
 * an {@code external_account} {@code token_url} that is not {@code https} (any host is accepted), so the real library
 * code path needs a TLS endpoint; clients trust exactly this one certificate through {@link #trustStore()} instead of
 * switching verification off. Immutable, thread-safe.
 */
final class GoogleEmulatorTls {
  private static final char[] NO_PASSWORD = new char[0];

  private final SSLContext serverContext;
  private final KeyStore trustStore;

  private GoogleEmulatorTls(SSLContext serverContext, KeyStore trustStore) {
    this.serverContext = serverContext;
    this.trustStore = trustStore;
  }

  /** A certificate valid for {@code localhost}, 127.0.0.1 and the bound address. */
  static GoogleEmulatorTls selfSigned(InetAddress boundAddress, Clock clock) {
    try {
      DevCertificates tls = DevCertificates.selfSigned("vertex-proxy Google emulator", clock, new String[] {"localhost"},
          InetAddress.getByName("127.0.0.1"), boundAddress);
      X509Certificate certificate = tls.certificate();
      KeyStore serverKeys = KeyStore.getInstance("PKCS12");
      serverKeys.load(null, null);
      serverKeys.setKeyEntry("emulator", tls.key(), NO_PASSWORD, new X509Certificate[] {certificate});
      KeyManagerFactory keyManagers = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      keyManagers.init(serverKeys, NO_PASSWORD);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(keyManagers.getKeyManagers(), null, null);

      KeyStore trust = KeyStore.getInstance("PKCS12");
      trust.load(null, null);
      trust.setCertificateEntry("google-emulator", certificate);
      return new GoogleEmulatorTls(context, trust);
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException("cannot create the Google emulator's TLS certificate", e);
    }
  }

  SSLContext serverContext() {
    return serverContext;
  }

  KeyStore trustStore() {
    return trustStore;
  }
}

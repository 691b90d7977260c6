package dev.vertexproxy.proxy.dev;

import java.math.BigInteger;
import java.net.InetAddress;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

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
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"));
      KeyPair keyPair = generator.generateKeyPair();
      X500Name subject = new X500Name("CN=vertex-proxy Google emulator");
      Instant now = clock.instant();
      X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(
          subject,
          new BigInteger(64, new SecureRandom()),
          Date.from(now.minus(Duration.ofDays(1))),
          Date.from(now.plus(Duration.ofDays(30))),
          subject,
          keyPair.getPublic());
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
          new GeneralName(GeneralName.dNSName, "localhost"),
          new GeneralName(GeneralName.iPAddress, "127.0.0.1"),
          new GeneralName(GeneralName.iPAddress, boundAddress.getHostAddress())}));
      X509Certificate certificate = new JcaX509CertificateConverter()
          .getCertificate(builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(keyPair.getPrivate())));

      KeyStore serverKeys = KeyStore.getInstance("PKCS12");
      serverKeys.load(null, null);
      serverKeys.setKeyEntry("emulator", keyPair.getPrivate(), NO_PASSWORD, new X509Certificate[] {certificate});
      KeyManagerFactory keyManagers = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      keyManagers.init(serverKeys, NO_PASSWORD);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(keyManagers.getKeyManagers(), null, null);

      KeyStore trust = KeyStore.getInstance("PKCS12");
      trust.load(null, null);
      trust.setCertificateEntry("google-emulator", certificate);
      return new GoogleEmulatorTls(context, trust);
    } catch (GeneralSecurityException | OperatorCreationException | java.io.IOException e) {
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

package dev.vertexproxy.emulators;

import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.util.io.pem.PemGenerationException;

/**
 * Throw-away self-signed TLS identities for the dev emulators (and tests): an EC P-256 key and a certificate for the
 * given names, valid for 30 days. Clients trust exactly that certificate; verification is never switched off.
 *
 * @param key         the private key
 * @param certificate the self-signed certificate
 */
public record DevCertificates(PrivateKey key, X509Certificate certificate) {

  /** A certificate whose subject alternative names are {@code dnsNames} and {@code addresses}. */
  public static DevCertificates selfSigned(String commonName, Clock clock, String[] dnsNames, InetAddress... addresses) {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"));
      KeyPair keyPair = generator.generateKeyPair();
      X500Name subject = new X500Name("CN=" + commonName);
      Instant now = clock.instant();
      X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(subject, new BigInteger(64, new SecureRandom()),
          Date.from(now.minus(Duration.ofDays(1))), Date.from(now.plus(Duration.ofDays(30))), subject, keyPair.getPublic());
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      GeneralName[] names = new GeneralName[dnsNames.length + addresses.length];
      int i = 0;
      for (String dns : dnsNames) {
        names[i++] = new GeneralName(GeneralName.dNSName, dns);
      }
      for (InetAddress a : addresses) {
        names[i++] = new GeneralName(GeneralName.iPAddress, a.getHostAddress());
      }
      builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names));
      X509Certificate certificate = new JcaX509CertificateConverter()
          .getCertificate(builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(keyPair.getPrivate())));
      return new DevCertificates(keyPair.getPrivate(), certificate);
    } catch (GeneralSecurityException | OperatorCreationException | IOException e) {
      throw new IllegalStateException("cannot create a self-signed certificate for " + commonName, e);
    }
  }

  /**
   * A throw-away certificate authority (EC P-256, 30 days, {@code CA:true} with no path below it): what {@code
   * vertex-proxy dev} writes as {@code ca.pem}, so a client trusts the dev listener through an ordinary CA file (curl
   * {@code --cacert}, Python's {@code SSL_CERT_FILE}, a Java truststore) whose checks stay on, strict ones included.
   */
  public static DevCertificates authority(String commonName, Clock clock) {
    try {
      KeyPair keyPair = keyPair();
      X500Name subject = new X500Name("CN=" + commonName);
      X509v3CertificateBuilder builder = builder(subject, subject, keyPair, clock);
      JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
      builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      builder.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(keyPair.getPublic()));
      return new DevCertificates(keyPair.getPrivate(), sign(builder, keyPair.getPrivate()));
    } catch (GeneralSecurityException | OperatorCreationException | IOException e) {
      throw new IllegalStateException("cannot create a certificate authority for " + commonName, e);
    }
  }

  /**
   * A server certificate issued by this authority for {@code dnsNames} and {@code addresses}: what a strict client
   * expects of a leaf (key identifiers, {@code serverAuth}, names only in the subject alternative names).
   */
  public DevCertificates issue(String commonName, Clock clock, String[] dnsNames, InetAddress... addresses) {
    try {
      KeyPair keyPair = keyPair();
      X509v3CertificateBuilder builder = builder(X500Name.getInstance(certificate.getSubjectX500Principal().getEncoded()),
          new X500Name("CN=" + commonName), keyPair, clock);
      JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
      builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
      builder.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(keyPair.getPublic()));
      builder.addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(certificate));
      builder.addExtension(Extension.subjectAlternativeName, false, names(dnsNames, addresses));
      return new DevCertificates(keyPair.getPrivate(), sign(builder, key));
    } catch (GeneralSecurityException | OperatorCreationException | IOException e) {
      throw new IllegalStateException("cannot issue a certificate for " + commonName, e);
    }
  }

  private static KeyPair keyPair() throws GeneralSecurityException {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp256r1"));
    return generator.generateKeyPair();
  }

  private static X509v3CertificateBuilder builder(X500Name issuer, X500Name subject, KeyPair keyPair, Clock clock) {
    Instant now = clock.instant();
    return new JcaX509v3CertificateBuilder(issuer, new BigInteger(64, new SecureRandom()),
        Date.from(now.minus(Duration.ofDays(1))), Date.from(now.plus(Duration.ofDays(30))), subject, keyPair.getPublic());
  }

  private static GeneralNames names(String[] dnsNames, InetAddress... addresses) {
    GeneralName[] names = new GeneralName[dnsNames.length + addresses.length];
    int i = 0;
    for (String dns : dnsNames) {
      names[i++] = new GeneralName(GeneralName.dNSName, dns);
    }
    for (InetAddress a : addresses) {
      names[i++] = new GeneralName(GeneralName.iPAddress, a.getHostAddress());
    }
    return new GeneralNames(names);
  }

  private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey signer)
      throws GeneralSecurityException, OperatorCreationException {
    return new JcaX509CertificateConverter().getCertificate(builder.build(new JcaContentSignerBuilder("SHA256withECDSA")
        .build(signer)));
  }

  /** Writes the certificate as PEM (what {@code upstream.ca_file} and {@code listen.tls.cert} read). */
  public void writeCertificatePem(Path file) throws IOException {
    Files.writeString(file, pem(certificate), StandardCharsets.US_ASCII);
  }

  /** Writes the private key as unencrypted PKCS#8 PEM (what {@code listen.tls.key} reads). */
  public void writeKeyPem(Path file) throws IOException {
    try {
      Files.writeString(file, pem(new JcaPKCS8Generator(key, null).generate()), StandardCharsets.US_ASCII);
    } catch (PemGenerationException e) {
      throw new IOException("cannot encode the private key", e);
    }
  }

  private static String pem(Object o) throws IOException {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter w = new JcaPEMWriter(out)) {
      w.writeObject(o);
    }
    return out.toString();
  }
}

package dev.vertexproxy.proxy.audit;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.spec.NamedParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Ed25519 keys and signatures of the trail's checkpoints: what the writer signs and what {@code audit verify --key}
 * checks, in one place.
 *
 * <p>A checkpoint signs the chain head: the signed bytes are the canonical JSON (as for record hashes) of
 * {@code {"chain_id":…,"hash":…,"seq":…,"time":…}}, where {@code seq} and {@code hash} are those of the record just
 * before the checkpoint record. The signature is base64url without padding. A key's id is the first 16 hex digits of
 * the SHA-256 of its public key's X.509 (SubjectPublicKeyInfo) encoding, so a reviewer can tell which key signed.
 *
 * <p>Keys are PEM: the private key PKCS#8 ({@code -----BEGIN PRIVATE KEY-----}, as {@code openssl genpkey -algorithm
 * ed25519} writes it), the public key X.509 ({@code -----BEGIN PUBLIC KEY-----}, as {@code openssl pkey -pubout}
 * writes it). Only the JDK's own Ed25519 is used. Stateless and thread-safe.
 */
public final class Checkpoints {
  private static final Pattern PEM =
      Pattern.compile("-----BEGIN ([A-Z ]+)-----\\s*([A-Za-z0-9+/=\\s]+?)\\s*-----END \\1-----");
  /** PKCS#8 v1 of an Ed25519 key: this prefix, then the 32-byte seed. */
  private static final byte[] PKCS8_PREFIX = {0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70,
      0x04, 0x22, 0x04, 0x20};

  /** A private key with its public half and id, ready to sign. */
  public record SigningKey(PrivateKey privateKey, PublicKey publicKey, String keyId) {
    @Override
    public String toString() {
      return "SigningKey[" + keyId + "]"; // never the private key
    }
  }

  private Checkpoints() {
  }

  /** The bytes a checkpoint's signature covers. */
  public static byte[] payload(String chainId, long seq, String hash, String time) {
    ObjectNode node = JsonNodeFactory.instance.objectNode();
    node.put("chain_id", chainId);
    node.put("hash", hash);
    node.put("seq", seq);
    node.put("time", time);
    return AuditRecords.canonical(node);
  }

  public static String sign(SigningKey key, byte[] payload) {
    try {
      Signature signature = Signature.getInstance("Ed25519");
      signature.initSign(key.privateKey());
      signature.update(payload);
      return Base64.getUrlEncoder().withoutPadding().encodeToString(signature.sign());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("Ed25519 signing failed", e);
    }
  }

  /** True if {@code signature} (base64url) is {@code key}'s signature of {@code payload}; false for any malformed input. */
  public static boolean verify(PublicKey key, byte[] payload, String signature) {
    try {
      byte[] bytes = Base64.getUrlDecoder().decode(signature);
      Signature verifier = Signature.getInstance("Ed25519");
      verifier.initVerify(key);
      verifier.update(payload);
      return verifier.verify(bytes);
    } catch (IllegalArgumentException | GeneralSecurityException e) {
      return false;
    }
  }

  /** The first 16 hex digits of SHA-256 over the key's X.509 encoding. */
  public static String keyId(PublicKey key) {
    return AuditRecords.sha256Hex(key.getEncoded()).substring(0, 16);
  }

  /** A new random key pair. */
  public static SigningKey generate() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("Ed25519");
      KeyPair pair = generator.generateKeyPair();
      return new SigningKey(pair.getPrivate(), pair.getPublic(), keyId(pair.getPublic()));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("Ed25519 is required of every Java 17 platform", e);
    }
  }

  /** Reads a PKCS#8 PEM Ed25519 private key and derives its public half. */
  public static SigningKey readPrivate(Path file) throws IOException {
    byte[] der = pem(file, "PRIVATE KEY");
    if (der.length != PKCS8_PREFIX.length + 32 || !Arrays.equals(der, 0, PKCS8_PREFIX.length, PKCS8_PREFIX, 0,
        PKCS8_PREFIX.length)) {
      throw new IOException(file + ": not an Ed25519 private key (expected PKCS#8 PEM, as `openssl genpkey -algorithm"
          + " ed25519` or `vertex-proxy audit keygen` writes)");
    }
    byte[] seed = Arrays.copyOfRange(der, PKCS8_PREFIX.length, der.length);
    try {
      // The JDK derives an Ed25519 key pair from the 32 bytes its random source gives: hand it the seed.
      KeyPairGenerator generator = KeyPairGenerator.getInstance("Ed25519");
      generator.initialize(NamedParameterSpec.ED25519, new FixedBytes(seed));
      KeyPair pair = generator.generateKeyPair();
      PrivateKey parsed = KeyFactory.getInstance("Ed25519").generatePrivate(new PKCS8EncodedKeySpec(der));
      if (!Arrays.equals(pair.getPrivate().getEncoded(), parsed.getEncoded())) {
        throw new IOException(file + ": could not derive the public key of this Ed25519 key");
      }
      return new SigningKey(parsed, pair.getPublic(), keyId(pair.getPublic()));
    } catch (GeneralSecurityException e) {
      throw new IOException(file + ": not a valid Ed25519 private key: " + e.getMessage(), e);
    } finally {
      Arrays.fill(seed, (byte) 0);
    }
  }

  /** Reads an X.509 PEM Ed25519 public key. */
  public static PublicKey readPublic(Path file) throws IOException {
    byte[] der = pem(file, "PUBLIC KEY");
    try {
      return KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(der));
    } catch (GeneralSecurityException e) {
      throw new IOException(file + ": not an Ed25519 public key (expected PEM `-----BEGIN PUBLIC KEY-----`, as"
          + " `openssl pkey -pubout` or `vertex-proxy audit keygen` writes)", e);
    }
  }

  public static String privatePem(SigningKey key) {
    return pemText("PRIVATE KEY", key.privateKey().getEncoded());
  }

  public static String publicPem(PublicKey key) {
    return pemText("PUBLIC KEY", key.getEncoded());
  }

  private static String pemText(String type, byte[] der) {
    return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
        .encodeToString(der) + "\n-----END " + type + "-----\n";
  }

  private static byte[] pem(Path file, String type) throws IOException {
    String text = Files.readString(file, StandardCharsets.US_ASCII);
    Matcher m = PEM.matcher(text);
    while (m.find()) {
      if (m.group(1).equals(type)) {
        try {
          return Base64.getMimeDecoder().decode(m.group(2));
        } catch (IllegalArgumentException e) {
          throw new IOException(file + ": the " + type + " block is not valid base64", e);
        }
      }
    }
    throw new IOException(file + ": no -----BEGIN " + type + "----- block");
  }

  /** A "random" source that returns a given seed once: how the JDK is made to derive a key pair from a private key. */
  private static final class FixedBytes extends SecureRandom {
    private static final long serialVersionUID = 1L;
    private final byte[] bytes;
    private boolean used;

    FixedBytes(byte[] bytes) {
      super(new byte[0]);
      this.bytes = bytes.clone();
    }

    @Override
    public void nextBytes(byte[] out) {
      if (used || out.length != bytes.length) {
        throw new IllegalStateException("expected one request for " + bytes.length + " bytes");
      }
      used = true;
      System.arraycopy(bytes, 0, out, 0, out.length);
      Arrays.fill(bytes, (byte) 0);
    }
  }
}

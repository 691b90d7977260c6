package dev.vertexproxy.proxy.login;

import dev.vertexproxy.proxy.files.PrivateFiles;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import dev.vertexproxy.proxy.config.SessionsConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.SecureRandom;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.RSAPublicKeySpec;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;

/**
 * The proxy's signing keys as an issuer, and the secret its replicas share.
 *
 * <p>Design note. With {@code sessions.signing_keys_dir} every replica mounts the same directory: a key is one private
 * JWK per file ({@code <kid>.jwk}, mode 0600, written to a temporary file and moved into place, so a reader never sees
 * half a key), its creation time in the JWK's {@code iat}. The key that signs is the newest one that has been
 * published for at least {@link #ACTIVATION_DELAY} — long enough for every replica's verifier to have re-read the
 * directory — or, on the very first start, the only one. A replica that finds the signing key within that delay of
 * {@code rotation_interval} writes the next key; two replicas doing so at once leave two keys, both published, and
 * every replica converges on the newer. A key stays published until the last token it could have signed expired,
 * then its file is removed. With {@code signing_key_file} one fixed key (PKCS#8 RSA PEM, or a private JWK) signs
 * forever.
 *
 * <p>{@link #secret} derives per-purpose keys from a 32-byte random secret kept beside the keys ({@code secret}, mode
 * 0600), or, for a fixed key file, from that key's private material.
 *
 * <p>Thread-safe: the loaded state is one immutable snapshot behind a volatile reference. {@link #reload} does file
 * I/O and must run on a blocking thread; {@link #signingKey} and {@link #publicKeys} never do.
 */
public final class SigningKeys {
  /** A new key is published this long before it signs, so verifiers on other replicas know it first. */
  public static final Duration ACTIVATION_DELAY = Duration.ofMinutes(10);
  private static final String SUFFIX = ".jwk";

  private final SessionsConfig config;
  private final Clock clock;
  private final Duration longestToken;
  private final JWSAlgorithm algorithm;
  private volatile State state;

  private record State(JWK signing, JWKSet published, byte[] master) {
  }

  private SigningKeys(SessionsConfig config, Clock clock) {
    this.config = config;
    this.clock = clock;
    this.longestToken = config.longestTokenLifetime();
    this.algorithm = JWSAlgorithm.parse(config.algorithm());
  }

  /** Loads (and, for a directory, creates or rotates) the keys; blocking, run at start-up. */
  public static SigningKeys load(SessionsConfig config, Clock clock) throws IOException {
    SigningKeys keys = new SigningKeys(config, clock);
    keys.reload();
    return keys;
  }

  public JWSAlgorithm algorithm() {
    return algorithm;
  }

  /** The private key that signs now. */
  public JWK signingKey() {
    return state.signing;
  }

  /** Every public key a verifier must know: the signing key, the next one, and retired ones still within a token's life. */
  public JWKSet publicKeys() {
    return state.published;
  }

  /** A 32-byte key for {@code purpose}, the same on every replica: HMAC-SHA256 of the shared secret and the purpose. */
  public byte[] secret(String purpose) {
    return Hmac.sha256(state.master, ("vertex-proxy/" + purpose).getBytes(StandardCharsets.UTF_8));
  }

  /**
   * Re-reads the keys (another replica may have rotated), writes the next key when rotation is due and removes keys
   * no token can need any more. Blocking.
   */
  public synchronized void reload() throws IOException {
    if (config.signingKeyFile() != null) {
      if (state == null) {
        JWK key = readKeyFile(config.signingKeyFile());
        byte[] material = key.toJSONString().getBytes(StandardCharsets.UTF_8);
        state = new State(key, new JWKSet(key.toPublicJWK()),
            Hmac.sha256("vertex-proxy/signing-key-file".getBytes(StandardCharsets.UTF_8), material));
      }
      return;
    }
    Path dir = config.signingKeysDir();
    Files.createDirectories(dir);
    byte[] master = masterSecret(dir);
    Instant now = clock.instant();
    List<JWK> keys = readDir(dir);
    if (keys.isEmpty() || created(newest(keys)).plus(config.rotationInterval()).minus(ACTIVATION_DELAY).isBefore(now)) {
      keys.add(write(dir, generate(now)));
    }
    JWK signing = signing(keys, now);
    List<JWK> published = new ArrayList<>();
    for (JWK k : keys) {
      // retired: a newer key has signed since; its last token was signed at most when that one took over
      Instant retiredAt = retiredAt(keys, k);
      if (retiredAt != null && retiredAt.plus(longestToken).plus(ACTIVATION_DELAY).isBefore(now)) {
        Files.deleteIfExists(dir.resolve(k.getKeyID() + SUFFIX));
        continue;
      }
      published.add(k.toPublicJWK());
    }
    state = new State(signing, new JWKSet(published), master);
  }

  private JWK signing(List<JWK> keys, Instant now) {
    JWK best = null;
    for (JWK k : keys) {
      boolean active = !created(k).plus(ACTIVATION_DELAY).isAfter(now);
      if (active && (best == null || created(k).isAfter(created(best)))) {
        best = k;
      }
    }
    return best != null ? best : oldest(keys); // first start: nothing is old enough, and someone must sign
  }

  /** When a newer key became active after {@code k}; {@code null} while {@code k} may still sign. */
  private static Instant retiredAt(List<JWK> keys, JWK k) {
    Instant first = null;
    for (JWK other : keys) {
      Instant activeFrom = created(other).plus(ACTIVATION_DELAY);
      if (created(other).isAfter(created(k)) && (first == null || activeFrom.isBefore(first))) {
        first = activeFrom;
      }
    }
    return first;
  }

  private JWK generate(Instant now) {
    String kid = now.getEpochSecond() + "-" + HexFormat.of().formatHex(randomBytes(6));
    try {
      if (algorithm.equals(JWSAlgorithm.ES256)) {
        return new ECKeyGenerator(Curve.P_256).keyID(kid).keyUse(KeyUse.SIGNATURE).algorithm(algorithm)
            .issueTime(Date.from(now)).generate();
      }
      return new RSAKeyGenerator(2048).keyID(kid).keyUse(KeyUse.SIGNATURE).algorithm(algorithm)
          .issueTime(Date.from(now)).generate();
    } catch (JOSEException e) {
      throw new IllegalStateException("cannot generate a " + algorithm + " key", e);
    }
  }

  private JWK write(Path dir, JWK key) throws IOException {
    writePrivate(dir, key.getKeyID() + SUFFIX, key.toJSONString().getBytes(StandardCharsets.UTF_8), true);
    return key;
  }

  private List<JWK> readDir(Path dir) throws IOException {
    List<JWK> keys = new ArrayList<>();
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*" + SUFFIX)) {
      for (Path f : files) {
        try {
          JWK k = JWK.parse(Files.readString(f, StandardCharsets.UTF_8));
          if (k.isPrivate() && k.getKeyID() != null && k.getIssueTime() != null && algorithm.equals(k.getAlgorithm())) {
            keys.add(k);
          }
        } catch (ParseException e) {
          throw new IOException(f + ": not a private JWK: " + e.getMessage());
        }
      }
    }
    return keys;
  }

  private static byte[] masterSecret(Path dir) throws IOException {
    Path f = dir.resolve("secret");
    if (!Files.exists(f)) {
      writePrivate(dir, "secret", Base64.getEncoder().encode(randomBytes(32)), false);
    }
    byte[] s = Base64.getDecoder().decode(Files.readString(f, StandardCharsets.US_ASCII).strip());
    if (s.length < 32) {
      throw new IOException(f + ": expected 32 random bytes, base64");
    }
    return s;
  }

  /** Writes {@code name} with mode 0600 ({@link PrivateFiles}); {@code replace} false keeps an existing file. */
  private static void writePrivate(Path dir, String name, byte[] content, boolean replace) throws IOException {
    if (replace) {
      PrivateFiles.replace(dir.resolve(name), content);
    } else {
      PrivateFiles.createIfAbsent(dir.resolve(name), content); // another replica may have won: theirs is the one
    }
  }

  private JWK readKeyFile(Path file) throws IOException {
    String text = Files.readString(file, StandardCharsets.US_ASCII).strip();
    try {
      if (text.startsWith("{")) {
        JWK k = JWK.parse(text);
        if (!k.isPrivate()) {
          throw new IOException(file + ": a public key; sessions.signing_key_file needs the private key");
        }
        return k;
      }
      if (!algorithm.equals(JWSAlgorithm.RS256) || !text.startsWith("-----BEGIN PRIVATE KEY-----")) {
        throw new IOException(file + ": expected a PKCS#8 RSA private key (-----BEGIN PRIVATE KEY-----) for RS256,"
            + " or a private JWK");
      }
      byte[] der = Base64.getMimeDecoder().decode(text.replaceAll("-----[A-Z ]+-----", ""));
      RSAPrivateCrtKey priv = (RSAPrivateCrtKey) KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(der));
      RSAPublicKey pub = (RSAPublicKey) KeyFactory.getInstance("RSA")
          .generatePublic(new RSAPublicKeySpec(priv.getModulus(), priv.getPublicExponent()));
      RSAKey key = new RSAKey.Builder(pub).privateKey(priv).keyUse(KeyUse.SIGNATURE).algorithm(algorithm).build();
      return new RSAKey.Builder(key).keyID(key.computeThumbprint().toString()).build();
    } catch (ParseException | JOSEException | GeneralSecurityException | ClassCastException e) {
      throw new IOException(file + ": not a usable private key: " + e.getMessage());
    }
  }

  private static Instant created(JWK k) {
    return k.getIssueTime() == null ? Instant.EPOCH : k.getIssueTime().toInstant();
  }

  private static JWK newest(List<JWK> keys) {
    return keys.stream().max(Comparator.comparing(SigningKeys::created)).orElseThrow();
  }

  private static JWK oldest(List<JWK> keys) {
    return keys.stream().min(Comparator.comparing(SigningKeys::created)).orElseThrow();
  }

  private static byte[] randomBytes(int n) {
    byte[] b = new byte[n];
    new SecureRandom().nextBytes(b);
    return b;
  }

  /** Unchecked, for the key source's supplier. */
  JWKSet reloadedPublicKeys() {
    try {
      reload();
      return publicKeys();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}

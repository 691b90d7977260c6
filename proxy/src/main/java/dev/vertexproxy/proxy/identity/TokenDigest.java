package dev.vertexproxy.proxy.identity;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The SHA-256 of a caller's token, in hex: what the verified-token cache and the per-caller Google-token cache are keyed
 * by, so that neither cache holds a bearer token itself. One digest per thread, reused: looking one up in the security
 * providers for every request cost more than hashing the token.
 */
public final class TokenDigest {
  private static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(() -> {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
  });

  private TokenDigest() {
  }

  /** The hex SHA-256 of {@code token}'s ASCII bytes (a JWT is ASCII; anything else is refused before it is hashed). */
  public static String sha256Hex(String token) {
    return HexFormat.of().formatHex(SHA256.get().digest(token.getBytes(StandardCharsets.US_ASCII)));
  }
}

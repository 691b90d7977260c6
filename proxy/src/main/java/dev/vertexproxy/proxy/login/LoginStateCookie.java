package dev.vertexproxy.proxy.login;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.Optional;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The login attempt's cookie: a {@link LoginState} sealed with AES-256-GCM under a key every replica derives alike
 * ({@code issuer.secret("login-state")}), so the callback may land on any replica, and neither the browser nor anyone
 * who reads the cookie learns the verifier or can forge an attempt. {@code HttpOnly; SameSite=Lax} (a top-level
 * redirect back from the IdP still carries it), {@code Secure} and the {@code __Host-} prefix over https, and a
 * {@code Max-Age} of the attempt's lifetime; the callback clears it whatever the outcome.
 *
 * <p>Sealed value: {@code v1.} then base64url(12-byte random IV ‖ ciphertext ‖ 16-byte tag); the associated data
 * binds it to this purpose and format version. Anything that does not open — a wrong key, a flipped bit, another
 * cookie's value, an expired attempt — is simply absent: the caller answers {@code login-state-invalid}. Immutable
 * and thread-safe.
 */
public final class LoginStateCookie {
  /** How long a login attempt may take, from the redirect to the IdP to the callback. */
  public static final Duration LIFETIME = Duration.ofMinutes(10);

  private static final String PREFIX = "v1.";
  private static final byte[] AAD = "vertex-proxy login-state v1".getBytes(StandardCharsets.US_ASCII);
  private static final int IV_BYTES = 12;
  private static final int TAG_BITS = 128;
  private static final int MAX_COOKIE_CHARS = 2048;
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final ObjectMapper JSON = new ObjectMapper();

  private final SecretKey key;
  private final boolean secure;

  /**
   * @param key 32 bytes: AES-256
   * @param secure whether the proxy's public URL is https: picks the {@code __Host-} name and {@code Secure}
   */
  public LoginStateCookie(byte[] key, boolean secure) {
    if (key.length != 32) {
      throw new IllegalArgumentException("the login-state key must be 32 bytes, not " + key.length);
    }
    this.key = new SecretKeySpec(key.clone(), "AES");
    this.secure = secure;
  }

  /** The cookie's name: {@code __Host-vp_login} over https, {@code vp_login} over plain http (loopback dev). */
  public String name() {
    return secure ? "__Host-vp_login" : "vp_login";
  }

  /** The {@code Set-Cookie} value that hands the sealed attempt to the browser. */
  public String setCookie(LoginState state, Instant now) {
    long maxAge = Math.max(0, Duration.between(now, state.expiresAt()).toSeconds());
    return name() + "=" + seal(state) + attributes() + "; Max-Age=" + maxAge;
  }

  /** The {@code Set-Cookie} value that removes the attempt from the browser. */
  public String clearCookie() {
    return name() + "=" + attributes() + "; Max-Age=0";
  }

  private String attributes() {
    return "; Path=/; HttpOnly; SameSite=Lax" + (secure ? "; Secure" : "");
  }

  /** Seals {@code state} into the cookie value. */
  public String seal(LoginState state) {
    ObjectNode o = JSON.createObjectNode()
        .put("iss", state.issuerName())
        .put("st", state.state())
        .put("n", state.nonce())
        .put("v", state.codeVerifier())
        .put("nx", state.next())
        .put("exp", state.expiresAt().getEpochSecond());
    try {
      byte[] iv = new byte[IV_BYTES];
      RANDOM.nextBytes(iv);
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, iv));
      cipher.updateAAD(AAD);
      byte[] sealed = cipher.doFinal(JSON.writeValueAsBytes(o));
      byte[] out = new byte[IV_BYTES + sealed.length];
      System.arraycopy(iv, 0, out, 0, IV_BYTES);
      System.arraycopy(sealed, 0, out, IV_BYTES, sealed.length);
      return PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(out);
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException("could not seal the login state", e);
    }
  }

  /**
   * Opens a cookie value sealed by {@link #seal} with the same key; empty when it does not open, is malformed, or the
   * attempt has expired at {@code now}.
   */
  public Optional<LoginState> open(String value, Instant now) {
    if (value == null || value.length() > MAX_COOKIE_CHARS || !value.startsWith(PREFIX)) {
      return Optional.empty();
    }
    try {
      byte[] raw = Base64.getUrlDecoder().decode(value.substring(PREFIX.length()));
      if (raw.length <= IV_BYTES + TAG_BITS / 8) {
        return Optional.empty();
      }
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, Arrays.copyOfRange(raw, 0, IV_BYTES)));
      cipher.updateAAD(AAD);
      byte[] plain = cipher.doFinal(raw, IV_BYTES, raw.length - IV_BYTES);
      JsonNode o = JSON.readTree(plain);
      String issuer = text(o, "iss");
      String state = text(o, "st");
      String nonce = text(o, "n");
      String verifier = text(o, "v");
      String next = text(o, "nx");
      if (issuer == null || state == null || nonce == null || verifier == null || next == null || !o.path("exp").isNumber()) {
        return Optional.empty();
      }
      LoginState opened = new LoginState(issuer, state, nonce, verifier, next, Instant.ofEpochSecond(o.get("exp").asLong()));
      return opened.liveAt(now) ? Optional.of(opened) : Optional.empty();
    } catch (GeneralSecurityException | IOException | IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  private static String text(JsonNode o, String field) {
    JsonNode n = o.get(field);
    return n != null && n.isTextual() ? n.asText() : null;
  }
}

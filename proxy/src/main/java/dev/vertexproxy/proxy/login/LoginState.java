package dev.vertexproxy.proxy.login;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.Base64;
import java.util.Objects;

/**
 * One browser login attempt, from {@code GET /_proxy/login} to its callback: the issuer it went to, the {@code state}
 * and {@code nonce} it sent, its PKCE {@code code_verifier}, where to land afterwards and when the attempt expires.
 * It never leaves the proxy in the clear: {@link LoginStateCookie} seals it into the browser's cookie, and only the
 * callback of the same browser can open it again.
 *
 * <p>The three secrets are 32 random bytes each, base64url without padding (43 characters, inside RFC 7636's 43–128
 * for the verifier). {@link #toString()} names none of them. Immutable.
 *
 * @param issuerName the {@code identity.issuers[].name} of the IdP the attempt went to
 * @param state the OAuth {@code state}: ties the callback to this browser's attempt
 * @param nonce the OIDC {@code nonce}: ties the ID token to this attempt
 * @param codeVerifier the PKCE verifier whose S256 challenge was sent; only the token request ever carries it
 * @param next where the browser goes after the login: a path under {@code /_proxy/}
 * @param expiresAt after this the attempt is void
 */
public record LoginState(String issuerName, String state, String nonce, String codeVerifier, String next,
    Instant expiresAt) {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

  /** Checks that nothing is missing. */
  public LoginState {
    Objects.requireNonNull(issuerName, "issuerName");
    Objects.requireNonNull(state, "state");
    Objects.requireNonNull(nonce, "nonce");
    Objects.requireNonNull(codeVerifier, "codeVerifier");
    Objects.requireNonNull(next, "next");
    Objects.requireNonNull(expiresAt, "expiresAt");
  }

  /** A new attempt at {@code issuerName} with fresh random state, nonce and verifier, void after {@code expiresAt}. */
  public static LoginState start(String issuerName, String next, Instant expiresAt) {
    return new LoginState(issuerName, random(), random(), random(), next, expiresAt);
  }

  /** The PKCE S256 challenge of the verifier (RFC 7636 §4.2): base64url(SHA-256(ASCII(verifier))), unpadded. */
  public String codeChallenge() {
    return s256(codeVerifier);
  }

  /** The S256 transform of any verifier; shared with tests that play the IdP's side of the check. */
  public static String s256(String verifier) {
    try {
      return B64.encodeToString(MessageDigest.getInstance("SHA-256").digest(verifier.getBytes(StandardCharsets.US_ASCII)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }

  /** Whether the attempt is still good at {@code now}. */
  public boolean liveAt(Instant now) {
    return now.isBefore(expiresAt);
  }

  static String random() {
    byte[] bytes = new byte[32];
    RANDOM.nextBytes(bytes);
    return B64.encodeToString(bytes);
  }

  @Override
  public String toString() {
    return "LoginState[issuer=" + issuerName + ", next=" + next + ", expiresAt=" + expiresAt + "]";
  }
}

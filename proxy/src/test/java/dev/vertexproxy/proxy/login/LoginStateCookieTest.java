package dev.vertexproxy.proxy.login;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import org.junit.jupiter.api.Test;

class LoginStateCookieTest {
  private static final Instant NOW = Instant.parse("2026-03-01T10:00:00Z");
  private final byte[] key = key(1);
  private final LoginStateCookie cookie = new LoginStateCookie(key, true);

  private static byte[] key(int fill) {
    byte[] k = new byte[32];
    Arrays.fill(k, (byte) fill);
    return k;
  }

  private static LoginState attempt() {
    return LoginState.start("humans", "/_proxy/", NOW.plus(LoginStateCookie.LIFETIME));
  }

  @Test
  void aSealedAttemptOpensWithTheSameKeyUntilItExpires() {
    LoginState state = attempt();
    String sealed = cookie.seal(state);
    assertThat(cookie.open(sealed, NOW)).contains(state);
    assertThat(cookie.open(sealed, NOW.plus(LoginStateCookie.LIFETIME).minusSeconds(1))).contains(state);
    assertThat(cookie.open(sealed, NOW.plus(LoginStateCookie.LIFETIME))).isEmpty();
  }

  @Test
  void theSealedValueShowsNoneOfTheAttemptsSecrets() {
    LoginState state = attempt();
    String sealed = cookie.seal(state);
    assertThat(sealed).startsWith("v1.").doesNotContain(state.state()).doesNotContain(state.nonce())
        .doesNotContain(state.codeVerifier()).doesNotContain("humans");
    assertThat(state.toString()).doesNotContain(state.state()).doesNotContain(state.nonce())
        .doesNotContain(state.codeVerifier());
    assertThat(cookie.seal(state)).as("a fresh IV each time").isNotEqualTo(sealed);
  }

  @Test
  void anotherKeyAFlippedBitOrGarbageDoNotOpen() {
    String sealed = cookie.seal(attempt());
    assertThat(new LoginStateCookie(key(2), true).open(sealed, NOW)).isEmpty();
    byte[] raw = Base64.getUrlDecoder().decode(sealed.substring(3));
    raw[raw.length / 2] ^= 1;
    assertThat(cookie.open("v1." + Base64.getUrlEncoder().withoutPadding().encodeToString(raw), NOW)).isEmpty();
    assertThat(cookie.open("v1.!!!", NOW)).isEmpty();
    assertThat(cookie.open("v2." + sealed.substring(3), NOW)).isEmpty();
    assertThat(cookie.open("v1.AAAA", NOW)).isEmpty();
    assertThat(cookie.open(null, NOW)).isEmpty();
    assertThat(cookie.open("v1." + "A".repeat(5000), NOW)).isEmpty();
  }

  @Test
  void theCookieIsHostOnlyHttpOnlyLaxAndSecureOverHttpsAndClearedWithMaxAgeZero() {
    String set = cookie.setCookie(attempt(), NOW);
    assertThat(set).startsWith("__Host-vp_login=v1.").contains("; Path=/", "; HttpOnly", "; SameSite=Lax", "; Secure",
        "; Max-Age=600");
    assertThat(cookie.clearCookie()).startsWith("__Host-vp_login=;").contains("Max-Age=0", "Secure");
    LoginStateCookie plain = new LoginStateCookie(key, false);
    assertThat(plain.setCookie(attempt(), NOW)).startsWith("vp_login=").doesNotContain("Secure");
  }

  @Test
  void thePkceChallengeIsRfc7636sS256() {
    // RFC 7636 appendix B
    assertThat(LoginState.s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"))
        .isEqualTo("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    LoginState state = attempt();
    assertThat(state.codeVerifier()).hasSize(43).matches("[A-Za-z0-9_-]+");
    assertThat(state.codeChallenge()).isEqualTo(LoginState.s256(state.codeVerifier()));
  }
}

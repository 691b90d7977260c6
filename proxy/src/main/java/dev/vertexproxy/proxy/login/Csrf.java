package dev.vertexproxy.proxy.login;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * CSRF tokens for every state-changing form of the proxy's pages: the HMAC-SHA256 of the session's id ({@code jti})
 * under {@code issuer.secret("csrf")}, so it needs no server-side storage, is the same on every replica, differs per
 * session and dies with it. {@code SameSite=Lax} already keeps the session cookie off cross-site POSTs; the token is
 * the check that does not depend on the browser. Compared in constant time. Stateless.
 */
public final class Csrf {
  /** The form field every state-changing POST carries the token in. */
  public static final String FIELD = "csrf";

  private Csrf() {
  }

  /** The token for the session {@code sessionId} on the proxy whose issuer is {@code issuer}. */
  public static String token(SessionIssuer issuer, String sessionId) {
    return token(issuer.secret("csrf"), sessionId);
  }

  /** Whether {@code presented} is the token for {@code sessionId}; false for a missing one. */
  public static boolean check(SessionIssuer issuer, String sessionId, String presented) {
    return check(issuer.secret("csrf"), sessionId, presented);
  }

  static String token(byte[] key, String sessionId) {
    byte[] tag = Hmac.sha256(key, ("csrf:" + sessionId).getBytes(StandardCharsets.UTF_8));
    return Base64.getUrlEncoder().withoutPadding().encodeToString(tag);
  }

  static boolean check(byte[] key, String sessionId, String presented) {
    if (sessionId == null || presented == null || presented.isEmpty()) {
      return false;
    }
    return Hmac.equal(token(key, sessionId).getBytes(StandardCharsets.US_ASCII), presented.getBytes(StandardCharsets.UTF_8));
  }
}

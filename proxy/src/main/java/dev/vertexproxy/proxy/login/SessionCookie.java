package dev.vertexproxy.proxy.login;

import dev.vertexproxy.proxy.identity.IdentityException;
import dev.vertexproxy.proxy.identity.TokenVerifier;
import dev.vertexproxy.proxy.identity.VerifiedToken;
import dev.vertexproxy.proxy.reason.Reason;
import dev.vertexproxy.proxy.reserved.ReservedRequest;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;

/**
 * The browser's proxy session: the cookie {@code __Host-vp_session} (https) or {@code vp_session} (plain http, loopback
 * dev), {@code HttpOnly; SameSite=Lax; Path=/}, whose value is a session token the proxy minted at the end of a
 * browser login ({@code via: login}). Read on every page and page action, and verified like any bearer — signature,
 * expiry, revocation — so a revoked subject or session is refused on the next click, not at the cookie's expiry.
 *
 * <p>The cookie is the proxy's own business: the relay never forwards a {@code Cookie} header to Vertex, and a
 * session token sent to a Vertex path as a bearer is removed there like every caller credential. Stateless.
 */
public final class SessionCookie {
  /** The cookie's name over https: host-only, Secure, Path=/ — no other host or path can set or shadow it. */
  public static final String SECURE_NAME = "__Host-vp_session";
  /** The cookie's name over plain http, where the {@code __Host-} prefix cannot be used. */
  public static final String PLAIN_NAME = "vp_session";

  /**
   * What the cookie turned out to be.
   *
   * @param session the verified session, when there is one
   * @param token the session token itself, when verified (for the copy field; never logged)
   * @param refusal why a cookie that was present was not accepted ({@code session-revoked}, {@code token-expired}, …);
   *     null when it was accepted or absent
   */
  public record Read(Optional<VerifiedToken> session, String token, Reason refusal) {
    static final Read ABSENT = new Read(Optional.empty(), null, null);

    /** Whether there was no session cookie at all. */
    public boolean absent() {
      return session.isEmpty() && refusal == null;
    }

    @Override
    public String toString() {
      return "SessionCookie.Read[" + (session.isPresent() ? "session" : refusal == null ? "absent" : refusal.code()) + "]";
    }
  }

  private SessionCookie() {
  }

  /** The cookie's name for a proxy whose public URL is {@code issuerUrl}. */
  public static String name(String issuerUrl) {
    return issuerUrl.startsWith("https://") ? SECURE_NAME : PLAIN_NAME;
  }

  /** The {@code Set-Cookie} value that hands {@code token} (valid until {@code expiresAt}) to the browser. */
  public static String set(String issuerUrl, String token, Instant expiresAt, Instant now) {
    long maxAge = Math.max(0, Duration.between(now, expiresAt).toSeconds());
    return name(issuerUrl) + "=" + token + attributes(issuerUrl) + "; Max-Age=" + maxAge;
  }

  /** The {@code Set-Cookie} value that removes the session cookie. */
  public static String clear(String issuerUrl) {
    return name(issuerUrl) + "=" + attributes(issuerUrl) + "; Max-Age=0";
  }

  private static String attributes(String issuerUrl) {
    return "; Path=/; HttpOnly; SameSite=Lax" + (issuerUrl.startsWith("https://") ? "; Secure" : "");
  }

  /**
   * The verified session of the request, or empty: no cookie, or one that is not a valid, unrevoked session token of
   * this proxy. The shared contract for every page that needs a person (device approval, CLI authorize): empty means
   * "send them to {@code /_proxy/login}".
   */
  public static CompletionStage<Optional<VerifiedToken>> read(ReservedRequest request, TokenVerifier verifier) {
    return check(request, verifier).thenApply(Read::session);
  }

  /** Like {@link #read}, telling an absent cookie from a refused one and why it was refused. */
  public static CompletionStage<Read> check(ReservedRequest request, TokenVerifier verifier) {
    Optional<String> value = request.cookie(SECURE_NAME).or(() -> request.cookie(PLAIN_NAME)).filter(v -> !v.isEmpty());
    if (value.isEmpty()) {
      return CompletableFuture.completedFuture(Read.ABSENT);
    }
    String token = value.get();
    CompletionStage<VerifiedToken> verified;
    try {
      verified = verifier.verifyToken(token);
    } catch (RuntimeException e) {
      verified = CompletableFuture.failedFuture(e);
    }
    return verified.handle((v, err) -> {
      if (err != null) {
        Throwable cause = unwrap(err);
        Reason reason = cause instanceof IdentityException ie ? Reason.of(ie.reason()) : Reason.IDENTITY_UNAVAILABLE;
        return new Read(Optional.empty(), null, reason);
      }
      if (!v.proxyIssued() || !"session".equals(use(v))) {
        return new Read(Optional.empty(), null, Reason.SESSION_REQUIRED);
      }
      return new Read(Optional.of(v), token, null);
    });
  }

  private static String use(VerifiedToken token) {
    return sessionClaim(token, "use");
  }

  private static String sessionClaim(VerifiedToken token, String field) {
    Object session = token.caller().claims().get(TokenVerifier.PROXY_SESSION);
    if (session instanceof Map<?, ?> m && m.get(field) instanceof String s) {
      return s;
    }
    return null;
  }

  static Throwable unwrap(Throwable t) {
    while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }
}

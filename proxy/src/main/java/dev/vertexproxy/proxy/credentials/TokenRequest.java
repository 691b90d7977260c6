package dev.vertexproxy.proxy.credentials;

import dev.vertexproxy.policy.Caller;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Objects;
import java.util.Optional;

/**
 * What a Google access token is wanted for: the service account the policy rule names and, for the modes that act as
 * the caller (the {@code sts} mode: the caller's own OIDC token exchanged at Google STS), the verified caller with its
 * raw token.
 *
 * <p>The caller's token is a bearer credential: it never appears in {@link #toString()}, in {@link Key} or in any
 * message built from them. The service-account name is not checked here but by {@link GoogleTokenProvider#tokenFor},
 * which fails the future instead of throwing, so that a bad name in a policy becomes a 503 for that request rather
 * than an exception on an event loop. Immutable.
 */
public final class TokenRequest {
  private final String serviceAccount;
  private final Caller caller;
  private final String callerToken;
  private final Key key;

  private TokenRequest(String serviceAccount, Caller caller, String callerToken) {
    this.serviceAccount = serviceAccount;
    this.caller = caller;
    this.callerToken = callerToken;
    this.key = caller == null
        ? new Key(serviceAccount, null, null, null)
        : new Key(serviceAccount, caller.issuer(), caller.subject(), sha256(callerToken));
  }

  /** Today's impersonation: a token of {@code serviceAccount}, the same for every caller the rule allows. */
  public static TokenRequest impersonating(String serviceAccount) {
    return new TokenRequest(serviceAccount, null, null);
  }

  /**
   * A token for {@code serviceAccount} obtained on behalf of {@code caller}, whose verified bearer token is
   * {@code callerToken}. A source that does not act as the caller ignores both, so passing them always is safe.
   */
  public static TokenRequest forCaller(String serviceAccount, Caller caller, String callerToken) {
    return new TokenRequest(serviceAccount, Objects.requireNonNull(caller, "caller"),
        Objects.requireNonNull(callerToken, "callerToken"));
  }

  /** The service account named by the matching policy rule, exactly as the rule wrote it. */
  public String serviceAccount() {
    return serviceAccount;
  }

  /** The verified caller, when the request carries one. */
  public Optional<Caller> caller() {
    return Optional.ofNullable(caller);
  }

  /** The caller's raw bearer token, for a fetching source that exchanges it; {@code null} without a caller. */
  String callerToken() {
    return callerToken;
  }

  /** This request without the caller: what a source that does not act as the caller is given. */
  TokenRequest withoutCaller() {
    return caller == null ? this : impersonating(serviceAccount);
  }

  /** What the cache and the back-off key this request by. */
  Key key() {
    return key;
  }

  @Override
  public String toString() {
    return "TokenRequest[serviceAccount=" + serviceAccount
        + (caller == null ? "" : ", caller=" + caller.issuer() + "/" + caller.subject()) + "]";
  }

  /**
   * The identity a token is cached and backed off under. Without a caller that is the service account; with one it
   * is the service account, the caller's issuer and subject and the SHA-256 of the caller's token, so a token obtained
   * with one caller's credential is never handed to another credential, even of the same subject. The hash is left
   * out of {@link #toString()} too.
   */
  record Key(String serviceAccount, String callerIssuer, String callerSubject, String callerTokenSha256) {
    @Override
    public String toString() {
      return callerIssuer == null ? String.valueOf(serviceAccount)
          : serviceAccount + " for " + callerIssuer + "/" + callerSubject;
    }
  }

  private static String sha256(String token) {
    try {
      return HexFormat.of().formatHex(
          MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
  }
}

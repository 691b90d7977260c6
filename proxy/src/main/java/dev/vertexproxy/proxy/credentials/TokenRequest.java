package dev.vertexproxy.proxy.credentials;

import dev.vertexproxy.policy.Caller;
import dev.vertexproxy.proxy.identity.TokenDigest;
import java.time.Instant;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * What a Google access token is wanted for: how it is obtained ({@link Mode}), the service account the policy rule
 * names and, for the {@code sts} mode (the caller's own OIDC token exchanged at Google STS), the workload identity
 * provider and the verified caller with its raw token and that token's expiry.
 *
 * <p>The caller's token is a bearer credential: it never appears in {@link #toString()}, in {@link Key} or in any
 * message built from them. The service-account name is not checked here but by {@link GoogleTokenProvider#tokenFor},
 * which fails the future instead of throwing, so that a bad name in a policy becomes a 503 for that request rather
 * than an exception on an event loop. Immutable.
 */
public final class TokenRequest {
  /** How the token is obtained. */
  public enum Mode {
    /** The proxy's own identity impersonates the service account; the same token for every caller. */
    IMPERSONATE,
    /** The caller's token is exchanged at STS, then (with a service account) impersonates it: one token per caller. */
    STS
  }

  private final Mode mode;
  private final String serviceAccount;
  private final String audience;
  private final Caller caller;
  private final String callerToken;
  private final Instant callerExpiresAt;
  /**
   * Made on first use: a request of a mode that does not act as the caller is dropped for one without the caller
   * ({@link #withoutCaller}) before anything keys it, so hashing the caller's token up front was work for nothing on
   * every request. A racing first use computes the same key twice; either is right (a record: safely published).
   */
  private Key key;

  private TokenRequest(Mode mode, String serviceAccount, String audience, Caller caller, String callerToken,
      Instant callerExpiresAt) {
    this.mode = mode;
    this.serviceAccount = serviceAccount;
    this.audience = audience;
    this.caller = caller;
    this.callerToken = callerToken;
    this.callerExpiresAt = callerExpiresAt;
  }

  /** Impersonation: a token of {@code serviceAccount}, the same for every caller the rule allows. */
  public static TokenRequest impersonating(String serviceAccount) {
    return new TokenRequest(Mode.IMPERSONATE, serviceAccount, null, null, null, null);
  }

  /**
   * Impersonation on behalf of {@code caller}, whose verified bearer token is {@code callerToken}. A source that does
   * not act as the caller never sees either ({@link GoogleTokenProvider} strips them), so passing them is safe.
   */
  public static TokenRequest forCaller(String serviceAccount, Caller caller, String callerToken) {
    return new TokenRequest(Mode.IMPERSONATE, serviceAccount, null, Objects.requireNonNull(caller, "caller"),
        Objects.requireNonNull(callerToken, "callerToken"), null);
  }

  /**
   * Per-caller federation: {@code callerToken} exchanged at Google STS for a federated token of the workload identity
   * provider {@code audience}, which then impersonates {@code serviceAccount}, or is itself the token when
   * {@code serviceAccount} is {@code null}. The token is never cached beyond {@code callerExpiresAt}.
   */
  public static TokenRequest federating(String audience, String serviceAccount, Caller caller, String callerToken,
      Instant callerExpiresAt) {
    return new TokenRequest(Mode.STS, serviceAccount, Objects.requireNonNull(audience, "audience"),
        Objects.requireNonNull(caller, "caller"), Objects.requireNonNull(callerToken, "callerToken"),
        Objects.requireNonNull(callerExpiresAt, "callerExpiresAt"));
  }

  public Mode mode() {
    return mode;
  }

  /** The service account named by the matching policy rule, exactly as the rule wrote it; {@code null} in sts direct. */
  public String serviceAccount() {
    return serviceAccount;
  }

  /** The workload identity provider ({@code sts} mode), or {@code null}. */
  public String audience() {
    return audience;
  }

  /** The verified caller, when the request carries one. */
  public Optional<Caller> caller() {
    return Optional.ofNullable(caller);
  }

  /** When the caller's own token expires ({@code sts} mode), or {@code null}: no token outlives it. */
  public Instant callerExpiresAt() {
    return callerExpiresAt;
  }

  /** The caller's raw bearer token, for a fetching source that exchanges it; {@code null} without a caller. */
  String callerToken() {
    return callerToken;
  }

  /** Who the token is for, for messages and logs: the service account, or the federated caller. Never a token. */
  public String target() {
    if (serviceAccount != null) {
      return serviceAccount;
    }
    return caller == null ? String.valueOf(audience) : caller.issuer() + "/" + caller.subject() + " via " + audience;
  }

  /** This request without the caller: what a source that does not act as the caller is given. */
  TokenRequest withoutCaller() {
    return caller == null || mode == Mode.STS ? this : impersonating(serviceAccount);
  }

  /** What the cache and the back-off key this request by. */
  Key key() {
    Key k = key;
    if (k == null) {
      k = caller == null
          ? new Key(mode, serviceAccount, audience, null, null, null)
          : new Key(mode, serviceAccount, audience, caller.issuer(), caller.subject(),
              TokenDigest.sha256Hex(callerToken));
      key = k;
    }
    return k;
  }

  @Override
  public String toString() {
    return "TokenRequest[" + mode.name().toLowerCase(Locale.ROOT) + ", serviceAccount=" + serviceAccount
        + (audience == null ? "" : ", audience=" + audience)
        + (caller == null ? "" : ", caller=" + caller.issuer() + "/" + caller.subject()) + "]";
  }

  /**
   * The identity a token is cached and backed off under. Without a caller that is the mode and service account; with
   * one it adds the provider, the caller's issuer and subject and the SHA-256 of the caller's token, so a token
   * obtained with one caller's credential is never handed to another credential, even of the same subject. The hash
   * is left out of {@link #toString()} too.
   */
  record Key(Mode mode, String serviceAccount, String audience, String callerIssuer, String callerSubject,
      String callerTokenSha256) {
    @Override
    public String toString() {
      String target = serviceAccount == null ? "the federated caller" : serviceAccount;
      return callerIssuer == null ? target : target + " for " + callerIssuer + "/" + callerSubject;
    }
  }
}

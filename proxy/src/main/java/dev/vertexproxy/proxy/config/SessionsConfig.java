package dev.vertexproxy.proxy.config;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * The {@code sessions} section of proxy.yaml: the proxy as an issuer of its own short-lived tokens — session tokens for
 * people who logged in (browser, device or CLI) and access tokens from the STS-shaped token exchange. Absent: no proxy
 * issuer, no login, no token exchange.
 *
 * @param issuer              {@code issuer}: the proxy's public base URL, without a path; the {@code iss} and
 *                            {@code aud} of its tokens and the base of every URL it hands out (redirect and
 *                            verification URIs)
 * @param lifetime            {@code lifetime}: how long a session token lives (default 8h)
 * @param accessTokenLifetime {@code access_token_lifetime}: the longest life of an exchanged access token (default 1h;
 *                            never past the subject token's own expiry)
 * @param signingKeysDir      {@code signing_keys_dir}: where signing keys are generated and rotated, shared by replicas;
 *                            {@code null} when {@code signingKeyFile} is used
 * @param signingKeyFile      {@code signing_key_file}: one fixed PEM private key (no rotation); {@code null} otherwise
 * @param algorithm           {@code algorithm}: RS256 (default) or ES256
 * @param rotationInterval    {@code rotation_interval}: a key signs for this long, then a new one takes over while the
 *                            old one stays published until its last token expired
 * @param claims              {@code claims}: the upstream claims a session carries; {@code null}: all but the
 *                            registered JWT/OIDC ones ({@link #REGISTERED_CLAIMS})
 * @param revocationsFile     {@code revocations_file}: the persisted revocation list (default
 *                            {@code <signing_keys_dir>/revocations.json})
 */
public record SessionsConfig(URI issuer, Duration lifetime, Duration accessTokenLifetime, Path signingKeysDir,
    Path signingKeyFile, String algorithm, Duration rotationInterval, List<String> claims, Path revocationsFile) {
  public static final Duration DEFAULT_LIFETIME = Duration.ofHours(8);
  public static final Duration DEFAULT_ACCESS_TOKEN_LIFETIME = Duration.ofHours(1);
  public static final Duration DEFAULT_ROTATION_INTERVAL = Duration.ofDays(30);

  /**
   * Claims a session never copies from the upstream token: they describe that token (its issuer, audience, times, id,
   * nonce), not the person, and the session sets its own. {@code proxy_session} is the proxy's own.
   */
  public static final Set<String> REGISTERED_CLAIMS = Set.of("iss", "sub", "aud", "exp", "nbf", "iat", "jti", "azp",
      "nonce", "at_hash", "c_hash", "s_hash", "auth_time", "acr", "amr", "sid", "typ", "proxy_session", "vp_issuer",
      "vp_use", "vp_via");

  public SessionsConfig {
    claims = claims == null ? null : List.copyOf(claims);
  }

  /** The longest life the proxy gives any of its tokens: how long keys and revocations must outlast a token. */
  public Duration longestTokenLifetime() {
    return lifetime.compareTo(accessTokenLifetime) >= 0 ? lifetime : accessTokenLifetime;
  }

  /** The issuer URL as tokens carry it: no trailing slash. */
  public String issuerUrl() {
    String s = issuer.toString();
    return s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
  }
}

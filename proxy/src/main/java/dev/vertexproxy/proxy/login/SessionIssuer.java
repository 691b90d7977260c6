package dev.vertexproxy.proxy.login;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.factories.DefaultJWSSignerFactory;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.vertexproxy.policy.Caller;
import dev.vertexproxy.proxy.config.SessionsConfig;
import dev.vertexproxy.proxy.identity.OwnTokens;
import java.io.IOException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.Map;
import java.util.Objects;

/**
 * The proxy as an issuer: mints the short-lived tokens people get from a login (sessions) and SDKs from the token
 * exchange (access tokens), signed with {@link SigningKeys}, and keeps their {@link Revocations}.
 *
 * <p>A token names the person or job exactly as the upstream token did — {@code sub}, the upstream issuer's name in
 * {@code vp_issuer}, and the upstream claims the policy may need ({@code sessions.claims}) — so the verifier turns it
 * back into the same {@link Caller} and policy rules match people and exchanged CI tokens like any direct caller.
 * {@code iss} and {@code aud} are the proxy's URL; {@code vp_use} says session or access, {@code vp_via} how it was
 * obtained. Minting never does I/O; thread-safe.
 */
public final class SessionIssuer implements OwnTokens {
  /** What a token is for: both are accepted as bearer tokens, they differ in lifetime and in how they were obtained. */
  public enum TokenUse {
    /** A person's session from a browser, device or CLI login: {@code sessions.lifetime}. */
    SESSION("session"),
    /** From the STS-shaped token exchange: {@code sessions.access_token_lifetime}, never past the subject's expiry. */
    ACCESS("access");

    private final String code;

    TokenUse(String code) {
      this.code = code;
    }

    public String code() {
      return code;
    }
  }

  /** A minted token; {@link #toString()} never shows it. */
  public record IssuedToken(String token, String id, Instant expiresAt) {
    @Override
    public String toString() {
      return "IssuedToken[id=" + id + ", expiresAt=" + expiresAt + "]";
    }
  }

  private static final SecureRandom RANDOM = new SecureRandom();

  private final SessionsConfig config;
  private final SigningKeys keys;
  private final Revocations revocations;
  private final Clock clock;
  private final int maxTokenBytes;

  public SessionIssuer(SessionsConfig config, SigningKeys keys, Revocations revocations, Clock clock, int maxTokenBytes) {
    this.config = Objects.requireNonNull(config);
    this.keys = keys;
    this.revocations = revocations;
    this.clock = clock;
    this.maxTokenBytes = maxTokenBytes;
  }

  /** Loads the keys (generating or rotating them in a directory) and the revocation list; blocking, at start-up. */
  public static SessionIssuer load(SessionsConfig config, Clock clock, int maxTokenBytes) throws IOException {
    SigningKeys keys = SigningKeys.load(config, clock);
    Revocations revocations = new Revocations(config.revocationsFile(), clock, config.longestTokenLifetime());
    revocations.refresh();
    return new SessionIssuer(config, keys, revocations, clock, maxTokenBytes);
  }

  /** The proxy's URL: {@code iss} and {@code aud} of its tokens, base of the URLs it hands out. */
  public String url() {
    return config.issuerUrl();
  }

  public SessionsConfig config() {
    return config;
  }

  public SigningKeys keys() {
    return keys;
  }

  public Revocations revocations() {
    return revocations;
  }

  /** A 32-byte key for {@code purpose} (CSRF tokens, sealed login cookies), the same on every replica. */
  public byte[] secret(String purpose) {
    return keys.secret(purpose);
  }

  /** The public keys as a JWKS document. */
  public String jwks() {
    return keys.publicKeys().toString(true);
  }

  /**
   * Mints a token for {@code upstream}.
   *
   * @param via      how it was obtained: {@code login}, {@code device}, {@code cli} or {@code exchange}
   * @param notAfter the latest expiry allowed (the subject token's own), or {@code null}
   * @throws IllegalArgumentException when the carried claims make it longer than {@code identity.max_token_bytes}, or
   *                                  {@code notAfter} has passed
   */
  public IssuedToken mint(Caller upstream, TokenUse use, String via, Instant notAfter) {
    Instant now = clock.instant();
    Instant exp = now.plus(use == TokenUse.SESSION ? config.lifetime() : config.accessTokenLifetime());
    if (notAfter != null && notAfter.isBefore(exp)) {
      exp = notAfter;
    }
    if (!exp.isAfter(now)) {
      throw new IllegalArgumentException("the subject token has expired");
    }
    byte[] idBytes = new byte[16];
    RANDOM.nextBytes(idBytes);
    String id = Base64.getUrlEncoder().withoutPadding().encodeToString(idBytes);
    JWTClaimsSet.Builder claims = new JWTClaimsSet.Builder();
    for (Map.Entry<String, Object> c : upstream.claims().entrySet()) {
      boolean carried = config.claims() == null ? !SessionsConfig.REGISTERED_CLAIMS.contains(c.getKey())
          : config.claims().contains(c.getKey());
      if (carried) {
        claims.claim(c.getKey(), c.getValue());
      }
    }
    claims.issuer(url()).audience(url()).subject(upstream.subject()).jwtID(id)
        .issueTime(Date.from(now)).notBeforeTime(Date.from(now)).expirationTime(Date.from(exp))
        .claim("vp_issuer", upstream.issuer()).claim("vp_use", use.code()).claim("vp_via", via);
    JWK key = keys.signingKey();
    SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(keys.algorithm()).keyID(key.getKeyID()).type(JOSEObjectType.JWT)
        .build(), claims.build());
    try {
      JWSSigner signer = new DefaultJWSSignerFactory().createJWSSigner(key, keys.algorithm());
      jwt.sign(signer);
    } catch (JOSEException e) {
      throw new IllegalStateException("cannot sign with key " + key.getKeyID(), e);
    }
    String token = jwt.serialize();
    if (token.length() > maxTokenBytes) {
      throw new IllegalArgumentException("the session would be " + token.length() + " bytes, more than"
          + " identity.max_token_bytes (" + maxTokenBytes + "): narrow sessions.claims");
    }
    return new IssuedToken(token, id, exp);
  }

  // ---- OwnTokens: what the verifier needs ---------------------------------------------------------------------

  @Override
  public String issuerUrl() {
    return url();
  }

  @Override
  public JWSAlgorithm algorithm() {
    return keys.algorithm();
  }

  @Override
  public JWKSet reloadPublicKeys() {
    return keys.reloadedPublicKeys();
  }

  @Override
  public Duration longestLifetime() {
    return config.longestTokenLifetime();
  }

  @Override
  public boolean revoked(String issuerName, String subject, Instant issuedAt, String tokenId) {
    return revocations.revoked(issuerName, subject, issuedAt, tokenId);
  }
}

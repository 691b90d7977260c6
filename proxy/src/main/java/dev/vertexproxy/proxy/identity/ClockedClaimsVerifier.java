package dev.vertexproxy.proxy.identity;

import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.proc.JWTClaimsSetVerifier;
import dev.vertexproxy.proxy.identity.IdentityException.Reason;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;

/**
 * The claims checks of one issuer, run by nimbus after the signature verified: exact {@code iss}, {@code sub},
 * {@code exp} and {@code iat} present, {@code aud} holds an accepted audience, then the time checks with skew, then
 * the lifetime: {@code exp - iat} at most the issuer's {@code max_token_lifetime}.
 *
 * <p>Why a lifetime bound: a token that lives for weeks is a bearer credential that outlives the job it was issued to,
 * so a leaked one keeps working long after the job ended. The bound is on the issuer's own two timestamps, so clock
 * skew does not enter it; a missing {@code iat} is refused because the lifetime could not be bounded.
 *
 * <p>Why not {@code DefaultJWTClaimsVerifier}: every failure here must carry its own reason (nimbus only has
 * messages), nimbus does not refuse an {@code iat} in the future, and time must come from the injected clock so
 * tests can move it. Immutable and thread-safe.
 */
final class ClockedClaimsVerifier<C extends SecurityContext> implements JWTClaimsSetVerifier<C> {
  private final String issuer;
  private final List<String> audiences;
  private final Duration skew;
  private final Duration maxLifetime;
  private final Clock clock;

  ClockedClaimsVerifier(String issuer, List<String> audiences, Duration skew, Duration maxLifetime, Clock clock) {
    this.issuer = issuer;
    this.audiences = List.copyOf(audiences);
    this.skew = skew;
    this.maxLifetime = maxLifetime;
    this.clock = clock;
  }

  @Override
  public void verify(JWTClaimsSet claims, C context) throws ClaimsRefused {
    if (!issuer.equals(claims.getIssuer())) {
      throw new ClaimsRefused(Reason.ISSUER_UNKNOWN, "token issuer is not trusted");
    }
    String subject = claims.getSubject();
    if (subject == null || subject.isBlank()) {
      throw new ClaimsRefused(Reason.CLAIMS_INVALID, "token has no sub claim");
    }
    Date expires = claims.getExpirationTime();
    if (expires == null) {
      throw new ClaimsRefused(Reason.CLAIMS_INVALID, "token has no exp claim");
    }
    Date issuedAt = claims.getIssueTime();
    if (issuedAt == null) {
      throw new ClaimsRefused(Reason.CLAIMS_INVALID, "token has no iat claim (its lifetime cannot be bounded)");
    }
    List<String> tokenAudiences = claims.getAudience();
    if (tokenAudiences.stream().noneMatch(audiences::contains)) {
      throw new ClaimsRefused(Reason.AUDIENCE_MISMATCH,
          "token audience is not accepted (expected one of: " + String.join(", ", audiences) + ")");
    }
    Instant now = clock.instant();
    if (!expires.toInstant().isAfter(now.minus(skew))) {
      throw new ClaimsRefused(Reason.TOKEN_EXPIRED, "token has expired");
    }
    Date notBefore = claims.getNotBeforeTime();
    if (notBefore != null && notBefore.toInstant().isAfter(now.plus(skew))) {
      throw new ClaimsRefused(Reason.TOKEN_NOT_YET_VALID, "token is not valid yet (nbf is in the future)");
    }
    if (issuedAt.toInstant().isAfter(now.plus(skew))) {
      throw new ClaimsRefused(Reason.TOKEN_ISSUED_IN_FUTURE, "token was issued in the future (iat)");
    }
    Duration lifetime = Duration.between(issuedAt.toInstant(), expires.toInstant());
    if (lifetime.compareTo(maxLifetime) > 0) {
      throw new ClaimsRefused(Reason.TOKEN_LIFETIME_TOO_LONG, "token lives longer than this issuer's tokens may (exp - iat is "
          + readable(lifetime) + ", at most " + readable(maxLifetime) + ")");
    }
  }

  /** In the config's own units: {@code 24h}, {@code 90m}, {@code 45s}. */
  private static String readable(Duration d) {
    long seconds = d.toSeconds();
    if (seconds % 3600 == 0) {
      return seconds / 3600 + "h";
    }
    return seconds % 60 == 0 ? seconds / 60 + "m" : seconds + "s";
  }
}

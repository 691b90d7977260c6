package dev.vertexproxy.proxy.identity;

import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import dev.vertexproxy.policy.Caller;
import dev.vertexproxy.proxy.identity.IdentityException.Reason;
import dev.vertexproxy.proxy.identity.TokenVerifier.IssuerVerifier;
import dev.vertexproxy.proxy.identity.TokenVerifier.KeySetContext;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The checks a login's ID token gets beyond a bearer token's ({@link TokenVerifier#verifyIdToken}): issued by the
 * login's issuer, to the proxy's client ({@code aud}, and {@code azp} when present or when there are several
 * audiences), and carrying the attempt's {@code nonce}, compared in constant time.
 */
final class IdTokens {
  private IdTokens() {
  }

  static CompletableFuture<VerifiedToken> verify(IssuerVerifier issuer, SignedJWT jwt, String clientId, String nonce,
      DefaultJWTProcessor<KeySetContext> processor) {
    JWTClaimsSet unverified = TokenVerifier.claimsOf(jwt);
    if (!issuer.config().issuer().toString().equals(unverified.getIssuer())) {
      throw new IdentityException(Reason.ISSUER_UNKNOWN, "the ID token is not from issuer '" + issuer.config().name() + "'");
    }
    TokenVerifier.checkHeader(issuer, jwt.getHeader());
    CompletableFuture<VerifiedToken> result = new CompletableFuture<>();
    issuer.keys().keysFor(jwt.getHeader()).whenComplete((keys, fetchFailure) -> {
      if (fetchFailure != null) {
        IdentityException refusal = IssuerKeys.unwrap(fetchFailure);
        result.completeExceptionally(refusal != null ? refusal
            : new IdentityException(Reason.JWKS_UNAVAILABLE, "the issuer's keys could not be fetched"));
        return;
      }
      try {
        result.complete(checked(issuer, jwt, keys, clientId, nonce, processor));
      } catch (RuntimeException e) {
        result.completeExceptionally(e);
      }
    });
    return result;
  }

  private static VerifiedToken checked(IssuerVerifier issuer, SignedJWT jwt, JWKSet keys, String clientId, String nonce,
    DefaultJWTProcessor<KeySetContext> processor) {
    JWTClaimsSet claims = TokenVerifier.verifySignatureAndClaims(issuer, processor, jwt, keys);
    List<String> aud = claims.getAudience();
    Object azp = claims.getClaim("azp");
    if ((azp != null || aud.size() > 1) && !clientId.equals(azp)) {
      throw new IdentityException(Reason.AUDIENCE_MISMATCH, "the ID token was issued to another client (azp)");
    }
    Object presented = claims.getClaim("nonce");
    if (nonce == null || !(presented instanceof String p) || !MessageDigest.isEqual(
        p.getBytes(StandardCharsets.UTF_8), nonce.getBytes(StandardCharsets.UTF_8))) {
      throw new IdentityException(Reason.LOGIN_NONCE_INVALID, "the ID token's nonce is not this login's");
    }
    return new VerifiedToken(new Caller(issuer.config().name(), claims.getSubject(),
        JsonValues.claims(jwt.getPayload().toJSONObject())), claims.getIssueTime().toInstant(),
        claims.getExpirationTime().toInstant(), false);
  }
}

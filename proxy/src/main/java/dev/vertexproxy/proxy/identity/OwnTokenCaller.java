package dev.vertexproxy.proxy.identity;

import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.vertexproxy.policy.Caller;
import dev.vertexproxy.proxy.identity.IdentityException.Reason;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Turns a verified proxy token back into the caller it names: the upstream issuer's name ({@code vp_issuer}, which
 * must be a configured issuer) and subject, the upstream claims it carries, and {@code proxy_session}
 * ({@code {id, use, via}}) saying what the token itself is — so policy rules see a person or an exchanged CI job
 * exactly as they would see the upstream token.
 */
final class OwnTokenCaller {
  private OwnTokenCaller() {
  }

  /** A proxy token's caller: the upstream issuer's name and subject, the claims it carries, and what the token is. */
  static VerifiedToken of(JWTClaimsSet claims, SignedJWT jwt, Set<String> issuerNames) {
    Map<String, Object> all = JsonValues.claims(jwt.getPayload().toJSONObject());
    Object upstream = all.get("vp_issuer");
    if (!(upstream instanceof String name) || !issuerNames.contains(name) || claims.getJWTID() == null) {
      throw new IdentityException(Reason.CLAIMS_INVALID, "proxy token without a known vp_issuer or jti");
    }
    Map<String, Object> carried = new LinkedHashMap<>();
    all.forEach((k, v) -> {
      if (!OWN_CLAIMS.contains(k)) {
        carried.put(k, v);
      }
    });
    Map<String, Object> session = new LinkedHashMap<>();
    session.put("id", claims.getJWTID());
    session.put("use", String.valueOf(all.get("vp_use")));
    session.put("via", String.valueOf(all.get("vp_via")));
    carried.put(TokenVerifier.PROXY_SESSION, session);
    return new VerifiedToken(new Caller(name, claims.getSubject(), carried), claims.getIssueTime().toInstant(),
        claims.getExpirationTime().toInstant(), true);
  }

  private static final Set<String> OWN_CLAIMS = Set.of("iss", "sub", "aud", "exp", "nbf", "iat", "jti", "vp_issuer",
      "vp_use", "vp_via", TokenVerifier.PROXY_SESSION);

}

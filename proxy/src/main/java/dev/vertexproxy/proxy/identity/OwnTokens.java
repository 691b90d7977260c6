package dev.vertexproxy.proxy.identity;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.JWKSet;
import java.time.Duration;
import java.time.Instant;

/**
 * What the {@link TokenVerifier} needs to accept the proxy's own tokens (session and exchanged access tokens) like any
 * issuer's: its URL, algorithm and keys, the longest life it gives a token, and its revocation list. Implemented by the
 * login package's issuer; kept here so identity does not depend on login.
 */
public interface OwnTokens {
  /** The {@code iss} and {@code aud} of the proxy's tokens, without a trailing slash. */
  String issuerUrl();

  JWSAlgorithm algorithm();

  /** The public keys, re-read from where they are kept: blocking, called on the verifier's blocking executor. */
  JWKSet reloadPublicKeys();

  /** The longest {@code exp - iat} the proxy gives a token. */
  Duration longestLifetime();

  /** Whether the token of this upstream issuer name, subject, issue time and id was revoked; never blocks. */
  boolean revoked(String issuerName, String subject, Instant issuedAt, String tokenId);
}

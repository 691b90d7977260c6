package dev.vertexproxy.proxy.identity;

import com.nimbusds.jose.jwk.JWKSet;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;

/**
 * One layer of an issuer's key source, as {@link IssuerKeys.Builder} composes them (the shape of nimbus'
 * {@code JWKSourceBuilder}, on the injected clock and executor): {@link FetchingKeySource} →
 * {@link RateLimitedRefetch} → {@link OutageTolerantKeySource} → the cache, {@link IssuerKeys}. A layer answers
 * with a future and never blocks the calling thread; it fails only with an {@link IdentityException}
 * ({@code jwks-unavailable} / {@code issuer-unavailable}), possibly wrapped in a {@code CompletionException}.
 */
interface KeySetSource {
  /**
   * A key set, asked for because the caller's keys have {@code why} gone wanting: the answer may be a set fetched
   * earlier when a layer decides not to fetch.
   */
  CompletableFuture<FetchedKeys> keys(Refetch why);

  /** Why the cache asks for keys. */
  enum Refetch {
    /** It has none, or they are older than the cache TTL (routine refresh, warm-up). */
    EXPIRED,
    /** Its keys are fresh but hold no key for a token's {@code kid}/algorithm: maybe the issuer rotated. */
    KEY_UNKNOWN
  }

  /** A public key set and when it arrived (on the injected clock); its age decides freshness and outage grace. */
  record FetchedKeys(JWKSet keys, Instant fetchedAt) {
  }
}

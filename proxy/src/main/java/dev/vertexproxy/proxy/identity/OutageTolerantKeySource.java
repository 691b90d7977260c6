package dev.vertexproxy.proxy.identity;

import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * Rides out an issuer outage: when the layer below fails, the last key set that arrived is answered instead, as long
 * as it is younger than {@code maxAge} (by default twice {@code jwks_cache_ttl}: stale keys stay usable for one more
 * TTL). Past that the failure stands, with its reason ({@code jwks-unavailable} / {@code issuer-unavailable}, 503)
 * unchanged: the proxy does not verify tokens against keys it can no longer vouch for.
 *
 * <p>Thread-safe: the last good set is a volatile reference.
 */
final class OutageTolerantKeySource implements KeySetSource {
  private final KeySetSource delegate;
  private final Clock clock;
  private final Duration maxAge;
  private volatile FetchedKeys lastGood;

  OutageTolerantKeySource(KeySetSource delegate, Clock clock, Duration maxAge) {
    this.delegate = delegate;
    this.clock = clock;
    this.maxAge = maxAge;
  }

  @Override
  public CompletableFuture<FetchedKeys> keys(Refetch why) {
    return delegate.keys(why).handle((fetched, error) -> {
      if (error == null) {
        remember(fetched);
        return fetched;
      }
      FetchedKeys good = lastGood;
      if (good != null && clock.instant().isBefore(good.fetchedAt().plus(maxAge))) {
        return good;
      }
      throw error instanceof CompletionException c ? c : new CompletionException(error);
    });
  }

  private synchronized void remember(FetchedKeys fetched) {
    if (lastGood == null || !fetched.fetchedAt().isBefore(lastGood.fetchedAt())) {
      lastGood = fetched;
    }
  }
}

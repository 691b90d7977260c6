package dev.vertexproxy.proxy.identity;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;

/**
 * Decides whether a request for keys may reach the issuer: one fetch at a time (every caller meanwhile shares it),
 * and at most one fetch started per {@code minInterval} ({@code jwks_refresh_min_interval}), whatever the reason.
 * Inside the interval a request is answered with the last fetch's outcome: a flood of made-up {@code kid}s costs at
 * most one fetch per interval, and a failing issuer is not asked again sooner. Routine refreshes are paced by the cache
 * TTL; a TTL shorter than the interval is in effect the interval.
 *
 * <p>Thread-safe: state is guarded by {@code this}; the layer below only starts its fetch under the lock.
 */
final class RateLimitedRefetch implements KeySetSource {
  private final KeySetSource delegate;
  private final Clock clock;
  private final Duration minInterval;

  private CompletableFuture<FetchedKeys> last;
  private Instant lastStarted;

  RateLimitedRefetch(KeySetSource delegate, Clock clock, Duration minInterval) {
    this.delegate = delegate;
    this.clock = clock;
    this.minInterval = minInterval;
  }

  @Override
  public synchronized CompletableFuture<FetchedKeys> keys(Refetch why) {
    Instant now = clock.instant();
    if (last != null) {
      if (!last.isDone()) {
        return last;
      }
      if (now.isBefore(lastStarted.plus(minInterval))) {
        // Whatever the reason: a caller that found the cache empty just before the last fetch's keys were stored in
        // it asks for a routine fetch, and must share that one rather than start another.
        return last;
      }
    }
    lastStarted = now;
    last = delegate.keys(why);
    return last;
  }
}

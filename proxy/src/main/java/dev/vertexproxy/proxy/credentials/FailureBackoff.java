package dev.vertexproxy.proxy.credentials;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.vertexproxy.proxy.credentials.GoogleTokenProvider.GoogleToken;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * Keeps a failing key from reaching Google on every request: after consecutive failures for one key, requests for
 * it fail at once with the last failure (same kind, same Google status) until a bounded, exponentially growing delay
 * has passed. Sits between the fetching source and {@link RefreshAheadCache}.
 *
 * <p>The schedule, per key: the first failure is forgiven — the next request tries again at once, because a lone
 * failure is usually one dropped connection and should cost one caller, not every caller for a while. From the
 * second consecutive failure on the key waits {@code initial}, then twice that, and so on up to {@code max}. A success
 * forgets the key's failures; so does {@code 2 × max} without a failure (the memory is a bounded Caffeine cache on
 * the injected clock, so a flood of distinct failing keys cannot grow it without bound).
 *
 * <p>Thread-safe; never blocks: a request inside a back-off is answered with an already failed future.
 */
final class FailureBackoff implements GoogleTokenSource {
  private static final int MAX_REMEMBERED_KEYS = 10_000;

  private final GoogleTokenSource delegate;
  private final Clock clock;
  private final Duration initial;
  private final Duration max;
  private final Cache<TokenRequest.Key, Failures> failures;

  /** {@code count} consecutive failures, the last at {@code at}; nothing is fetched before {@code retryAt}. */
  private record Failures(int count, Instant at, Instant retryAt, Throwable last) {
  }

  FailureBackoff(GoogleTokenSource delegate, Clock clock, Duration initial, Duration max) {
    this.delegate = delegate;
    this.clock = clock;
    this.initial = initial;
    this.max = max;
    this.failures = Caffeine.newBuilder()
        .maximumSize(MAX_REMEMBERED_KEYS)
        .expireAfterWrite(max.multipliedBy(2))
        .ticker(RefreshAheadCache.ticker(clock))
        .executor(Runnable::run)
        .build();
  }

  @Override
  public CompletableFuture<GoogleToken> tokenFor(TokenRequest request) {
    TokenRequest.Key key = request.key();
    Failures known = failures.getIfPresent(key);
    Instant now = clock.instant();
    if (known != null && now.isBefore(known.retryAt)) {
      return CompletableFuture.failedFuture(failFast(known, Duration.between(now, known.retryAt)));
    }
    return delegate.tokenFor(request).whenComplete((token, error) -> {
      if (error == null) {
        failures.invalidate(key);
      } else {
        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        failures.asMap().compute(key, (k, before) -> next(before, cause));
      }
    });
  }

  /** How long a key that has failed {@code count} times in a row waits before the next fetch. */
  Duration delayAfter(int count) {
    if (count <= 1) {
      return Duration.ZERO;
    }
    int doublings = Math.min(count - 2, 30);
    Duration delay = initial.multipliedBy(1L << doublings);
    return delay.compareTo(max) > 0 ? max : delay;
  }

  private Failures next(Failures before, Throwable failure) {
    int count = before == null ? 1 : before.count + 1;
    Instant at = clock.instant();
    return new Failures(count, at, at.plus(delayAfter(count)), failure);
  }

  /** The last failure again, its kind and Google status kept, saying when Google will be asked next. */
  private static Throwable failFast(Failures known, Duration left) {
    if (known.last instanceof GoogleTokenUnavailableException last) {
      return new GoogleTokenUnavailableException(last.serviceAccount(), last.googleHttpStatus(),
          last.getMessage() + " (failed " + known.count + " times in a row; not asked again for " + left + ")", last);
    }
    return known.last;
  }
}

package dev.vertexproxy.proxy.credentials;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.vertexproxy.proxy.credentials.GoogleTokenProvider.GoogleToken;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.DoubleSupplier;

/**
 * Keeps a failing key from reaching Google on every request, and its callers from waiting on a Google that is down
 * or hanging. Sits between the fetching source and {@link RefreshAheadCache}.
 *
 * <p>The schedule, per key: the first failure is forgiven — the next request tries again and waits for the answer,
 * because a lone failure is usually one dropped connection and should cost one caller, not every caller for a while.
 * From the second consecutive failure on the key is <em>failing</em>: it waits {@code initial}, then twice that, and so
 * on up to {@code max}, each delay shortened by a random jitter of up to half (so that replicas and keys that failed
 * together do not retry together). While failing, every request is answered at once with the last failure (same kind,
 * same Google status); once the delay has passed, one request starts a <em>probe</em> in the background and is itself
 * answered at once too, as is everyone while the probe runs — so a Google that hangs never holds more than the probe.
 * A probe that succeeds hands its token to the next request and forgets the failures; so does {@code 2 × max} without
 * a failure (the memory is a bounded Caffeine cache on the injected clock, so a flood of distinct failing keys cannot
 * grow it without bound).
 *
 * <p>Thread-safe; never blocks: a request of a failing key is answered with an already failed future.
 */
final class FailureBackoff implements GoogleTokenSource {
  private static final int MAX_REMEMBERED_KEYS = 10_000;

  private final GoogleTokenSource delegate;
  private final Clock clock;
  private final Duration initial;
  private final Duration max;
  private final DoubleSupplier jitter;
  private final Cache<TokenRequest.Key, Failures> failures;

  /**
   * {@code count} consecutive failures, the last at {@code at}; nothing is fetched before {@code retryAt}. {@code probe}
   * is the background fetch under way, {@code recovered} the token a successful probe left for the next request.
   */
  private record Failures(int count, Instant at, Instant retryAt, Throwable last, CompletableFuture<GoogleToken> probe,
      GoogleToken recovered) {
    Failures probing(CompletableFuture<GoogleToken> running) {
      return new Failures(count, at, retryAt, last, running, null);
    }
  }

  FailureBackoff(GoogleTokenSource delegate, Clock clock, Duration initial, Duration max) {
    this(delegate, clock, initial, max, () -> ThreadLocalRandom.current().nextDouble());
  }

  /** @param jitter a source of numbers in [0, 1): 0 waits the full delay, values near 1 about half of it */
  FailureBackoff(GoogleTokenSource delegate, Clock clock, Duration initial, Duration max, DoubleSupplier jitter) {
    this.delegate = delegate;
    this.clock = clock;
    this.initial = initial;
    this.max = max;
    this.jitter = jitter;
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
    if (known == null) {
      return fetch(request, key);
    }
    if (known.recovered != null) {
      if (failures.asMap().remove(key, known)) {
        return CompletableFuture.completedFuture(known.recovered);
      }
      return tokenFor(request);
    }
    Instant now = clock.instant();
    if (known.count < 2 && known.probe == null) {
      return fetch(request, key); // a lone failure: this caller asks again and waits
    }
    if (known.probe == null && !now.isBefore(known.retryAt)) {
      CompletableFuture<GoogleToken> probe = new CompletableFuture<>();
      if (failures.asMap().replace(key, known, known.probing(probe))) {
        delegate.tokenFor(request).whenComplete((token, error) -> settle(key, probe, token, error));
      }
    }
    Failures current = failures.getIfPresent(key);
    Duration left = current == null || current.probe != null || !now.isBefore(current.retryAt) ? Duration.ZERO
        : Duration.between(now, current.retryAt);
    return CompletableFuture.failedFuture(failFast(current == null ? known : current, left));
  }

  private CompletableFuture<GoogleToken> fetch(TokenRequest request, TokenRequest.Key key) {
    return delegate.tokenFor(request).whenComplete((token, error) -> {
      if (error == null) {
        failures.invalidate(key);
      } else {
        failures.asMap().compute(key, (k, before) -> next(before, unwrap(error)));
      }
    });
  }

  /** A probe ended: its token waits for the next request, or the key fails once more. */
  private void settle(TokenRequest.Key key, CompletableFuture<GoogleToken> probe, GoogleToken token, Throwable error) {
    failures.asMap().computeIfPresent(key, (k, state) -> {
      if (state.probe != probe) {
        return state;
      }
      return error == null ? new Failures(0, state.at, state.retryAt, state.last, null, token)
          : next(state, unwrap(error));
    });
    if (error == null) {
      probe.complete(token);
    } else {
      probe.completeExceptionally(error);
    }
  }

  /** The delay before the next fetch of a key that has failed {@code count} times in a row, without jitter. */
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
    Duration delay = delayAfter(count);
    long shortenedBy = (long) (delay.toNanos() * 0.5 * Math.min(Math.max(jitter.getAsDouble(), 0.0), 1.0));
    return new Failures(count, at, at.plus(delay.minusNanos(shortenedBy)), failure, null, null);
  }

  private static Throwable unwrap(Throwable error) {
    return error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
  }

  /** The last failure again, its kind and Google status kept, saying when Google will be asked next. */
  private static Throwable failFast(Failures known, Duration left) {
    if (known.last instanceof GoogleTokenUnavailableException last) {
      String when = known.probe != null || left.isZero() ? "asking again in the background"
          : "not asked again for " + left;
      return new GoogleTokenUnavailableException(last.serviceAccount(), last.googleHttpStatus(),
          last.getMessage() + " (failed " + known.count + " times in a row; " + when + ")", last);
    }
    return known.last;
  }
}

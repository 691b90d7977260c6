package dev.vertexproxy.proxy.credentials;

import com.github.benmanes.caffeine.cache.AsyncCacheLoader;
import com.github.benmanes.caffeine.cache.AsyncLoadingCache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import com.github.benmanes.caffeine.cache.Ticker;
import dev.vertexproxy.proxy.credentials.GoogleTokenProvider.GoogleToken;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The top layer: Google tokens cached per {@link TokenRequest.Key}, one fetch per key at a time, refreshed ahead of
 * expiry, never served once unusable. Time is the injected clock, read by Caffeine as its ticker.
 *
 * <p>Design note. A Caffeine {@link AsyncLoadingCache} gives single flight (concurrent callers on a cold key share one
 * load; a failed load is not kept) and per-entry expiry ({@link Expiry}): an entry is usable until
 * {@code min(refreshBefore / 2, 1 min)} before its token expires — the margin for clock skew and request latency —
 * and an expired entry is never returned; the next caller waits for a fresh load. A failed load is kept as a value
 * that expires at once, so its waiters get the failure and Caffeine logs no stack trace for it.
 *
 * <p>Caffeine's own refresh is a fixed interval after the last write ({@code refreshAfterWrite}), while each token
 * carries its own expiry; and a failed Caffeine refresh is logged with a stack trace and leaves the entry as it was,
 * so the very next read starts another one. So the refresh decision lives in the cached value: each entry holds the
 * instant its refresh is due ({@code refreshBefore} ahead of expiry, or half-way for a token that arrived shorter
 * than that), and {@code refreshAfterWrite} is only a cheap periodic check (at most every second). The reload never
 * fails: not yet due, it answers the same token; due, it fetches and answers the fresh token, or — when the fetch
 * fails — the still-valid token with its next attempt {@code min(refreshBefore / 10, 30 s)} away. Every answer is a
 * new value, which moves Caffeine's write time and so debounces the next check. Meanwhile readers get the current token
 * without waiting, and Caffeine runs at most one reload per key.
 *
 * <p>Fetches are the layer below's: it must not block the calling thread (the fetching source runs them on the
 * blocking executor), since a refresh is started on the thread of the read that found it due. Thread-safe.
 */
final class RefreshAheadCache implements GoogleTokenSource, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RefreshAheadCache.class);
  private static final Duration MAX_EXPIRY_MARGIN = Duration.ofMinutes(1);
  private static final Duration MAX_RETRY_PAUSE = Duration.ofSeconds(30);
  private static final Duration MAX_CHECK_INTERVAL = Duration.ofSeconds(1);
  private static final Duration MIN_PAUSE = Duration.ofMillis(1);

  private final GoogleTokenSource source;
  private final Clock clock;
  private final Duration refreshBefore;
  private final Duration expiryMargin;
  private final Duration retryPause;
  private final AsyncLoadingCache<TokenRequest.Key, Held> cache;
  private final GoogleTokenEvents events;

  /**
   * A cached token, when its refresh is due, and the request to refresh it with — or the failure of a load. A failed
   * load is a value that expires at once rather than a failed future, because Caffeine logs every failed load with
   * its stack trace, and a back-off answering "still failing" at once is routine, not news.
   */
  private record Held(GoogleToken token, Instant refreshAt, TokenRequest request, Throwable failure) {
    Held(GoogleToken token, Instant refreshAt, TokenRequest request) {
      this(token, refreshAt, request, null);
    }

    static Held failed(Throwable failure) {
      return new Held(null, null, null, failure);
    }
  }

  RefreshAheadCache(GoogleTokenSource source, Clock clock, Duration refreshBefore, long maximumSize) {
    this(source, clock, refreshBefore, maximumSize, GoogleTokenEvents.NONE);
  }

  RefreshAheadCache(GoogleTokenSource source, Clock clock, Duration refreshBefore, long maximumSize,
      GoogleTokenEvents events) {
    this.source = source;
    this.events = events;
    this.clock = clock;
    this.refreshBefore = refreshBefore;
    this.expiryMargin = min(refreshBefore.dividedBy(2), MAX_EXPIRY_MARGIN);
    this.retryPause = max(min(refreshBefore.dividedBy(10), MAX_RETRY_PAUSE), MIN_PAUSE);
    this.cache = Caffeine.newBuilder()
        .maximumSize(maximumSize)
        // Caffeine's upkeep (its read buffer drained every few reads) runs on the reading thread, as in the verified-token
        // cache: handing it to a pool woke a pool thread, and contended for the cache's lock, every few requests. The
        // reload it starts only chains on the layer below, whose fetches run on the blocking executor.
        .executor(Runnable::run)
        .ticker(ticker(clock))
        .refreshAfterWrite(min(retryPause, MAX_CHECK_INTERVAL))
        .expireAfter(new Expiry<TokenRequest.Key, Held>() {
          // Measured from Caffeine's own reading of the ticker (currentTime), not a second reading of the clock: the
          // two readings could straddle a clock step and shorten the entry's life by that step.
          @Override
          public long expireAfterCreate(TokenRequest.Key key, Held held, long currentTime) {
            return usableFor(held, currentTime);
          }

          @Override
          public long expireAfterUpdate(TokenRequest.Key key, Held held, long currentTime, long currentDuration) {
            return usableFor(held, currentTime);
          }

          @Override
          public long expireAfterRead(TokenRequest.Key key, Held held, long currentTime, long currentDuration) {
            return currentDuration;
          }
        })
        .buildAsync(new AsyncCacheLoader<TokenRequest.Key, Held>() {
          @Override
          public CompletableFuture<Held> asyncLoad(TokenRequest.Key key, Executor unused) {
            // Loads need the whole request (the caller's token, in per-caller modes), which the key does not carry.
            return CompletableFuture.failedFuture(new IllegalStateException("tokens are loaded through tokenFor"));
          }

          @Override
          public CompletableFuture<Held> asyncReload(TokenRequest.Key key, Held current, Executor unused) {
            return reload(current);
          }
        });
  }

  /**
   * The cached token, already complete when one is usable; otherwise the shared load. Inside the refresh window the
   * current token is answered at once while one refresh runs.
   */
  @Override
  public CompletableFuture<GoogleToken> tokenFor(TokenRequest request) {
    TokenRequest.Key key = request.key();
    boolean[] loading = new boolean[1];
    CompletableFuture<Held> held = cache.get(key, (k, unused) -> {
      loading[0] = true;
      return load(request);
    });
    if (!loading[0] && held.isDone() && held.join().failure != null) {
      // Caffeine applies the zero expiry of a failure in a completion callback, so a caller arriving just after a
      // failure can still be handed it; a failure answers only the callers that were waiting for it, the next
      // caller fetches anew.
      cache.asMap().remove(key, held);
      held = cache.get(key, (k, unused) -> {
        loading[0] = true;
        return load(request);
      });
    }
    if (loading[0]) {
      events.cacheMiss();
    } else {
      events.cacheHit();
    }
    // A new future, so that a caller cancelling or completing it cannot touch the shared cached one; a usable cached
    // token is answered complete on the caller's thread without a stage chained on the shared future
    if (held.isDone() && !held.isCompletedExceptionally() && held.join().failure == null) {
      return CompletableFuture.completedFuture(held.join().token);
    }
    return held.thenCompose(h -> h.failure == null
        ? CompletableFuture.completedFuture(h.token) : CompletableFuture.failedFuture(h.failure));
  }

  /** When the cached token that expires first does; {@code null} when none is cached (loads and failures skipped). */
  Instant earliestExpiry() {
    Instant earliest = null;
    for (CompletableFuture<Held> f : cache.asMap().values()) {
      Held h = f.isDone() && !f.isCompletedExceptionally() ? f.join() : null;
      if (h != null && h.token != null && (earliest == null || h.token.expiresAt().isBefore(earliest))) {
        earliest = h.token.expiresAt();
      }
    }
    return earliest;
  }

  /** Forgets every cached token. */
  @Override
  public void close() {
    cache.synchronous().invalidateAll();
  }

  private CompletableFuture<Held> load(TokenRequest request) {
    return source.tokenFor(request).handle((token, error) -> {
      if (error != null) {
        return Held.failed(unwrap(error));
      }
      try {
        return held(token, request);
      } catch (GoogleTokenUnavailableException e) {
        return Held.failed(e);
      }
    });
  }

  private CompletableFuture<Held> reload(Held current) {
    Instant now = clock.instant();
    if (current.failure != null) {
      return CompletableFuture.completedFuture(current); // expired at once; never refreshed
    }
    if (now.isBefore(current.refreshAt)) {
      return CompletableFuture.completedFuture(new Held(current.token, current.refreshAt, current.request));
    }
    return source.tokenFor(current.request).handle((fresh, error) -> {
      Throwable failure = error;
      if (failure == null) {
        try {
          return held(fresh, current.request);
        } catch (GoogleTokenUnavailableException e) {
          failure = e;
        }
      }
      Throwable cause = unwrap(failure);
      log.warn("background refresh of the Google token for {} failed; serving the current token until {} and"
          + " retrying in {}: {}", current.request.key(), current.token.expiresAt().minus(expiryMargin), retryPause,
          cause.getMessage());
      return new Held(current.token, clock.instant().plus(retryPause), current.request);
    });
  }

  /** A fetched token with its refresh instant; one that has already expired is a failure, never a cached value. */
  private Held held(GoogleToken token, TokenRequest request) {
    Instant now = clock.instant();
    if (!now.isBefore(token.expiresAt())) {
      throw new GoogleTokenUnavailableException(request.serviceAccount(), 0, "no Google access token for "
          + request.target() + ": Google answered with a token that had expired at " + token.expiresAt()
          + " (is this host's clock right, and the caller's token still valid?)", null);
    }
    if (request.callerExpiresAt() != null && !token.expiresAt().isBefore(request.callerExpiresAt())) {
      // capped at the caller's own expiry: a refresh would exchange the same, expiring token again, for nothing
      return new Held(token, Instant.MAX, request);
    }
    Instant ahead = token.expiresAt().minus(refreshBefore);
    Instant halfway = now.plus(Duration.between(now, token.expiresAt()).dividedBy(2));
    return new Held(token, ahead.isAfter(halfway) ? ahead : halfway, request);
  }

  /** Nanoseconds from {@code nowNanos} (the cache ticker's epoch nanos) until the entry stops being usable. */
  private long usableFor(Held held, long nowNanos) {
    return held.failure != null ? 0L : Math.max(0L, nanos(held.token.expiresAt().minus(expiryMargin)) - nowNanos);
  }

  private static Throwable unwrap(Throwable error) {
    return error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
  }

  static Ticker ticker(Clock clock) {
    return () -> nanos(clock.instant());
  }

  private static long nanos(Instant instant) {
    return instant.getEpochSecond() * 1_000_000_000L + instant.getNano();
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) < 0 ? a : b;
  }

  private static Duration max(Duration a, Duration b) {
    return a.compareTo(b) > 0 ? a : b;
  }
}

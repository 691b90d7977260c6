package dev.vertexproxy.proxy.identity;

import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.jwk.JWKMatcher;
import com.nimbusds.jose.jwk.JWKSelector;
import com.nimbusds.jose.jwk.JWKSet;
import dev.vertexproxy.proxy.identity.IdentityException.Reason;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One issuer's signing keys, cached with the injected clock.
 *
 * <p>Design note: nimbus' {@code JWKSourceBuilder} layers (cache, rate limit, outage tolerance) read
 * {@code System.currentTimeMillis()} and fetch on the calling thread, so this small layer does the same job with the
 * injected {@link Clock} and an executor:
 * <ul>
 *   <li>cache: a fetched set is fresh for {@code ttl}; a request for a fresh, matching key completes immediately;</li>
 *   <li>single flight: at most one fetch in flight, every waiter shares it;</li>
 *   <li>rate limit: a key id we do not know triggers a refetch, but at most one per {@code minRefetchInterval} — a
 *       flood of made-up {@code kid}s costs at most one fetch per interval; a failed fetch is not retried sooner
 *       either;</li>
 *   <li>outage tolerance: when a routine refresh fails, the last good set stays usable for one more {@code ttl}.</li>
 * </ul>
 * Fetches run on the given executor, never on the caller's thread. Thread-safe: state is guarded by {@code this};
 * the blocking fetch runs outside the lock.
 */
final class IssuerKeys {
  private static final Logger log = LoggerFactory.getLogger(IssuerKeys.class);

  private final String issuerName;
  private final Supplier<JWKSet> blockingFetch;
  private final Clock clock;
  private final Duration ttl;
  private final Duration minRefetchInterval;
  private final Executor executor;

  private Snapshot snapshot;
  private CompletableFuture<JWKSet> inFlight;
  private Instant lastFetchStarted;
  private IdentityException lastFailure;

  private record Snapshot(JWKSet keys, Instant freshUntil, Instant usableUntil) {
  }

  IssuerKeys(String issuerName, Supplier<JWKSet> blockingFetch, Clock clock, Duration ttl,
      Duration minRefetchInterval, Executor executor) {
    this.issuerName = issuerName;
    this.blockingFetch = blockingFetch;
    this.clock = clock;
    this.ttl = ttl;
    this.minRefetchInterval = minRefetchInterval;
    this.executor = executor;
  }

  /**
   * The key set to verify a token with this header against. The set may hold no matching key (the caller then
   * refuses with {@code key-unknown}); the future fails with {@link IdentityException} ({@code jwks-unavailable} /
   * {@code issuer-unavailable}) only when no usable set exists.
   */
  synchronized CompletableFuture<JWKSet> keysFor(JWSHeader header) {
    Instant now = clock.instant();
    if (snapshot != null && now.isBefore(snapshot.freshUntil)) {
      if (hasMatchingKey(snapshot.keys, header) || inFlight == null && refetchRateLimited(now)) {
        return CompletableFuture.completedFuture(snapshot.keys);
      }
    }
    return fetchRespectingLimits(now);
  }

  /** Makes sure a fresh set is present (readiness); fails when none can be had. */
  synchronized CompletableFuture<Void> refresh() {
    Instant now = clock.instant();
    if (snapshot != null && now.isBefore(snapshot.freshUntil)) {
      return CompletableFuture.completedFuture(null);
    }
    return fetchRespectingLimits(now).thenApply(keys -> null);
  }

  private CompletableFuture<JWKSet> fetchRespectingLimits(Instant now) {
    if (inFlight != null) {
      return inFlight;
    }
    if (lastFailure != null && refetchRateLimited(now)) {
      // The issuer failed a moment ago: answer from what we have instead of hammering it.
      return usable(now) ? CompletableFuture.completedFuture(snapshot.keys) : CompletableFuture.failedFuture(lastFailure);
    }
    return startFetch(now);
  }

  private boolean refetchRateLimited(Instant now) {
    return lastFetchStarted != null && now.isBefore(lastFetchStarted.plus(minRefetchInterval));
  }

  private boolean usable(Instant now) {
    return snapshot != null && now.isBefore(snapshot.usableUntil);
  }

  private CompletableFuture<JWKSet> startFetch(Instant now) {
    CompletableFuture<JWKSet> fetch = new CompletableFuture<>();
    inFlight = fetch;
    lastFetchStarted = now;
    try {
      executor.execute(() -> runFetch(fetch));
    } catch (RejectedExecutionException e) {
      finish(fetch, null, new IdentityException(Reason.JWKS_UNAVAILABLE,
          "signing keys of issuer '" + issuerName + "' are unavailable", e));
    }
    return fetch;
  }

  private void runFetch(CompletableFuture<JWKSet> fetch) {
    try {
      finish(fetch, blockingFetch.get(), null);
    } catch (IdentityException e) {
      finish(fetch, null, e);
    } catch (RuntimeException e) {
      finish(fetch, null, new IdentityException(Reason.JWKS_UNAVAILABLE,
          "signing keys of issuer '" + issuerName + "' are unavailable", e));
    }
  }

  private void finish(CompletableFuture<JWKSet> fetch, JWKSet fetched, IdentityException failure) {
    JWKSet answer;
    IdentityException error = null;
    synchronized (this) {
      if (inFlight == fetch) {
        inFlight = null;
      }
      Instant now = clock.instant();
      if (fetched != null) {
        snapshot = new Snapshot(fetched, now.plus(ttl), now.plus(ttl).plus(ttl));
        lastFailure = null;
        answer = fetched;
      } else {
        lastFailure = failure;
        log.warn("issuer '{}': {} ({})", issuerName, failure.getMessage(), describe(failure.getCause()));
        if (usable(now)) {
          answer = snapshot.keys;
        } else {
          answer = null;
          error = failure;
        }
      }
    }
    // Completed outside the lock: dependents (signature checks) run on this thread and must not hold it.
    if (error != null) {
      fetch.completeExceptionally(error);
    } else {
      fetch.complete(answer);
    }
  }

  static boolean hasMatchingKey(JWKSet keys, JWSHeader header) {
    return !new JWKSelector(JWKMatcher.forJWSHeader(header)).select(keys).isEmpty();
  }

  private static String describe(Throwable cause) {
    return cause == null ? "no detail" : cause.getClass().getSimpleName() + ": " + cause.getMessage();
  }

  static IdentityException unwrap(Throwable t) {
    Throwable cause = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
    return cause instanceof IdentityException e ? e : null;
  }
}

package dev.vertexproxy.proxy.identity;

import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.jwk.JWKMatcher;
import com.nimbusds.jose.jwk.JWKSelector;
import com.nimbusds.jose.jwk.JWKSet;
import dev.vertexproxy.proxy.identity.KeySetSource.FetchedKeys;
import dev.vertexproxy.proxy.identity.KeySetSource.Refetch;
import io.netty.util.concurrent.EventExecutorGroup;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

/**
 * One issuer's signing keys as the verifier asks for them: the cache on top of the layered key source.
 *
 * <p>Design note: nimbus' {@code JWKSourceBuilder} layers (retry, outage tolerance, rate limit, cache) read
 * {@code System.currentTimeMillis()} and fetch on the calling thread, so the same shape is built here on the injected
 * {@link Clock} and an executor, by {@link Builder}:
 * <ol>
 *   <li>{@link FetchingKeySource}: discovery and JWKS over HTTP, on the executor;</li>
 *   <li>{@link RateLimitedRefetch}: one fetch at a time; on an unknown {@code kid} or after a failure at most one per
 *       {@code jwks_refresh_min_interval};</li>
 *   <li>{@link OutageTolerantKeySource}: while the issuer is unreachable the last good set stays usable for one more
 *       TTL (by default);</li>
 *   <li>this cache: a set is fresh for {@code jwks_cache_ttl}; a request for a fresh, matching key completes
 *       immediately, anything else asks the layers below and keeps the newest set they answer.</li>
 * </ol>
 * Thread-safe: the snapshot is a volatile reference replaced under {@code this}.
 */
final class IssuerKeys {
  private final KeySetSource source;
  private final Clock clock;
  private final Duration ttl;
  private volatile FetchedKeys snapshot;

  IssuerKeys(KeySetSource source, Clock clock, Duration ttl) {
    this.source = source;
    this.clock = clock;
    this.ttl = ttl;
  }

  static Builder builder(String issuerName) {
    return new Builder(issuerName);
  }

  /**
   * The key set to verify a token with this header against. The set may hold no matching key (the caller then
   * refuses with {@code key-unknown}); the future fails with {@link IdentityException} ({@code jwks-unavailable} /
   * {@code issuer-unavailable}) only when no usable set exists.
   */
  CompletableFuture<JWKSet> keysFor(JWSHeader header) {
    FetchedKeys current = snapshot;
    boolean fresh = isFresh(current);
    if (fresh && hasMatchingKey(current.keys(), header)) {
      return CompletableFuture.completedFuture(current.keys());
    }
    return ask(fresh ? Refetch.KEY_UNKNOWN : Refetch.EXPIRED);
  }

  /** Makes sure a fresh set is present (readiness); fails when none can be had. */
  CompletableFuture<Void> refresh() {
    return isFresh(snapshot) ? CompletableFuture.completedFuture(null) : ask(Refetch.EXPIRED).thenApply(keys -> null);
  }

  private boolean isFresh(FetchedKeys keys) {
    return keys != null && clock.instant().isBefore(keys.fetchedAt().plus(ttl));
  }

  private CompletableFuture<JWKSet> ask(Refetch why) {
    return source.keys(why).thenApply(fetched -> {
      remember(fetched);
      return fetched.keys();
    });
  }

  private synchronized void remember(FetchedKeys fetched) {
    // An older set (outage tolerance answering the last good one) never replaces a newer one or refreshes its age.
    if (snapshot == null || !fetched.fetchedAt().isBefore(snapshot.fetchedAt())) {
      snapshot = fetched;
    }
  }

  static boolean hasMatchingKey(JWKSet keys, JWSHeader header) {
    return !new JWKSelector(JWKMatcher.forJWSHeader(header)).select(keys).isEmpty();
  }

  static IdentityException unwrap(Throwable t) {
    Throwable cause = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
    return cause instanceof IdentityException e ? e : null;
  }

  /** Composes the layers; every setting is checked at {@link #build()}, every problem reported at once. */
  static final class Builder {
    private final String issuerName;
    private Supplier<JWKSet> blockingFetch;
    private Executor executor;
    private Clock clock;
    private Duration cacheTtl;
    private Duration refetchMinInterval;
    private Duration outageTolerance;
    private KeyFetchEvents events = KeyFetchEvents.NONE;

    private Builder(String issuerName) {
      this.issuerName = Objects.requireNonNull(issuerName, "issuerName");
    }

    /** The blocking fetch of the issuer's public keys ({@link JwksFetcher#fetch}). */
    Builder fetch(Supplier<JWKSet> blockingFetch) {
      this.blockingFetch = blockingFetch;
      return this;
    }

    /** Where fetches run: a blocking pool, never an event loop. */
    Builder executor(Executor executor) {
      this.executor = executor;
      return this;
    }

    Builder clock(Clock clock) {
      this.clock = clock;
      return this;
    }

    /** How long fetched keys are fresh ({@code jwks_cache_ttl}). */
    Builder cacheTtl(Duration cacheTtl) {
      this.cacheTtl = cacheTtl;
      return this;
    }

    /** At most one refetch per this interval on an unknown kid or after a failure ({@code jwks_refresh_min_interval}).
     */
    Builder refetchMinInterval(Duration refetchMinInterval) {
      this.refetchMinInterval = refetchMinInterval;
      return this;
    }

    /** How long past their TTL keys stay usable while the issuer is unreachable (default: one more TTL). */
    Builder outageTolerance(Duration outageTolerance) {
      this.outageTolerance = outageTolerance;
      return this;
    }

    /** Where every fetch that went out is reported (default: nowhere). */
    Builder events(KeyFetchEvents events) {
      this.events = Objects.requireNonNull(events, "events");
      return this;
    }

    IssuerKeys build() {
      List<String> problems = new ArrayList<>();
      String at = "issuer '" + issuerName + "' keys: ";
      if (blockingFetch == null) {
        problems.add(at + "fetch: none (expected: the blocking fetch of the issuer's keys)");
      }
      if (executor == null) {
        problems.add(at + "executor: none (expected: the blocking executor fetches run on)");
      } else if (executor instanceof EventExecutorGroup) {
        problems.add(at + "executor: " + executor.getClass().getSimpleName()
            + " is an event loop (expected: a blocking executor; fetches block while the issuer answers)");
      }
      if (clock == null) {
        problems.add(at + "clock: none (expected: the clock key ages are measured on)");
      }
      if (cacheTtl == null || cacheTtl.isNegative() || cacheTtl.isZero()) {
        problems.add(at + "cache TTL: " + cacheTtl + " (expected: > 0)");
      }
      if (refetchMinInterval == null || refetchMinInterval.isNegative()) {
        problems.add(at + "refetch minimum interval: " + refetchMinInterval + " (expected: >= 0)");
      }
      if (outageTolerance != null && outageTolerance.isNegative()) {
        problems.add(at + "outage tolerance: " + outageTolerance + " (expected: >= 0)");
      }
      if (!problems.isEmpty()) {
        throw new IllegalArgumentException(String.join("\n", problems));
      }
      Duration tolerance = outageTolerance != null ? outageTolerance : cacheTtl;
      KeySetSource fetching = new FetchingKeySource(issuerName, blockingFetch, executor, clock, events);
      KeySetSource limited = new RateLimitedRefetch(fetching, clock, refetchMinInterval);
      KeySetSource tolerant = new OutageTolerantKeySource(limited, clock, cacheTtl.plus(tolerance));
      return new IssuerKeys(tolerant, clock, cacheTtl);
    }
  }
}

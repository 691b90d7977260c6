package dev.vertexproxy.proxy.identity;

import com.nimbusds.jose.jwk.JWKSet;
import dev.vertexproxy.proxy.identity.IdentityException.Reason;
import java.time.Clock;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The bottom layer: every call is one blocking fetch ({@link JwksFetcher}: discovery, then the JWKS) run on the
 * injected executor, never on the caller's thread, and stamped with the clock when it arrives. Every failure becomes
 * an {@link IdentityException} — the fetcher's own ({@code issuer-unavailable} for discovery) or
 * {@code jwks-unavailable} — and one warning line. Deciding whether to fetch at all is the job of the layers above.
 * Thread-safe.
 */
final class FetchingKeySource implements KeySetSource {
  private static final Logger log = LoggerFactory.getLogger(FetchingKeySource.class);

  private final String issuerName;
  private final Supplier<JWKSet> blockingFetch;
  private final Executor executor;
  private final Clock clock;
  private final KeyFetchEvents events;

  FetchingKeySource(String issuerName, Supplier<JWKSet> blockingFetch, Executor executor, Clock clock,
      KeyFetchEvents events) {
    this.issuerName = issuerName;
    this.events = events;
    this.blockingFetch = blockingFetch;
    this.executor = executor;
    this.clock = clock;
  }

  @Override
  public CompletableFuture<FetchedKeys> keys(Refetch why) {
    CompletableFuture<FetchedKeys> fetch = new CompletableFuture<>();
    try {
      executor.execute(() -> run(fetch));
    } catch (RejectedExecutionException e) {
      fail(fetch, unavailable(e));
    }
    return fetch;
  }

  private void run(CompletableFuture<FetchedKeys> fetch) {
    JWKSet keys;
    try {
      keys = blockingFetch.get();
    } catch (IdentityException e) {
      fail(fetch, e);
      return;
    } catch (RuntimeException e) {
      fail(fetch, unavailable(e));
      return;
    }
    events.fetched(issuerName, true);
    fetch.complete(new FetchedKeys(keys, clock.instant()));
  }

  private IdentityException unavailable(Throwable cause) {
    return new IdentityException(Reason.JWKS_UNAVAILABLE, "signing keys of issuer '" + issuerName + "' are unavailable",
        cause);
  }

  private void fail(CompletableFuture<FetchedKeys> fetch, IdentityException failure) {
    Throwable cause = failure.getCause();
    log.warn("issuer '{}': {} ({})", issuerName, failure.getMessage(),
        cause == null ? "no detail" : cause.getClass().getSimpleName() + ": " + cause.getMessage());
    events.fetched(issuerName, false);
    fetch.completeExceptionally(failure);
  }
}

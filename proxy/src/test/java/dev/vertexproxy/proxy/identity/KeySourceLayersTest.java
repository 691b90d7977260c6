package dev.vertexproxy.proxy.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import dev.vertexproxy.proxy.identity.IdentityException.Reason;
import dev.vertexproxy.proxy.identity.KeySetSource.FetchedKeys;
import dev.vertexproxy.proxy.identity.KeySetSource.Refetch;
import dev.vertexproxy.testing.MutableClock;
import io.netty.channel.DefaultEventLoop;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Each layer of the issuer key source alone, over a counting double, with time moved by hand. */
class KeySourceLayersTest {
  private static final Duration TTL = Duration.ofMinutes(5);
  private static final Duration MIN_INTERVAL = Duration.ofSeconds(30);
  private static JWKSet keys;
  private static JWKSet rotated;
  private static JWSHeader known;
  private static JWSHeader unknown;

  private final MutableClock clock = MutableClock.startingNow();
  private final CountingKeySource below = new CountingKeySource();

  @BeforeAll
  static void keys() throws Exception {
    RSAKey key = new RSAKeyGenerator(2048).keyID("one").generate();
    RSAKey next = new RSAKeyGenerator(2048).keyID("two").generate();
    keys = new JWKSet(key.toPublicJWK());
    rotated = new JWKSet(next.toPublicJWK());
    known = new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("one").build();
    unknown = new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("two").build();
  }

  // ---- fetching ----

  @Test
  void fetchingRunsOnTheExecutorAndStampsTheArrivalTime() {
    Deque<Runnable> queued = new ArrayDeque<>();
    AtomicInteger fetches = new AtomicInteger();
    FetchingKeySource fetching = new FetchingKeySource("gitlab", () -> {
      fetches.incrementAndGet();
      return keys;
    }, queued::add, clock, KeyFetchEvents.NONE);

    CompletableFuture<FetchedKeys> answer = fetching.keys(Refetch.EXPIRED);
    assertThat(fetches).as("nothing fetched on the calling thread").hasValue(0);
    clock.advance(Duration.ofSeconds(3));
    queued.poll().run();

    assertThat(answer).isCompletedWithValue(new FetchedKeys(keys, clock.instant()));
  }

  @Test
  void fetchFailuresBecomeIdentityExceptionsKeepingTheFetchersReason() {
    List<String> reported = new ArrayList<>();
    KeyFetchEvents events = (issuer, ok) -> reported.add(issuer + (ok ? ":ok" : ":failed"));
    FetchingKeySource discovery = new FetchingKeySource("gitlab", () -> {
      throw new IdentityException(Reason.ISSUER_UNAVAILABLE, "discovery down");
    }, Runnable::run, clock, events);
    FetchingKeySource broken = new FetchingKeySource("gitlab", () -> {
      throw new IllegalStateException("bug");
    }, Runnable::run, clock, events);
    Executor refusing = r -> {
      throw new RejectedExecutionException("full");
    };
    FetchingKeySource rejected = new FetchingKeySource("gitlab", () -> keys, refusing, clock, events);
    FetchingKeySource working = new FetchingKeySource("gitlab", () -> keys, Runnable::run, clock, events);

    assertThat(failureOf(discovery.keys(Refetch.EXPIRED)).kind()).isEqualTo(Reason.ISSUER_UNAVAILABLE);
    assertThat(failureOf(broken.keys(Refetch.EXPIRED)).kind()).isEqualTo(Reason.JWKS_UNAVAILABLE);
    assertThat(failureOf(rejected.keys(Refetch.EXPIRED)).kind()).isEqualTo(Reason.JWKS_UNAVAILABLE);
    assertThat(working.keys(Refetch.EXPIRED)).isCompleted();
    assertThat(reported).as("every fetch that ended is reported once, by issuer name")
        .containsExactly("gitlab:failed", "gitlab:failed", "gitlab:failed", "gitlab:ok");
  }

  // ---- rate-limited refetch ----

  @Test
  void oneFetchAtATimeEveryCallerSharesIt() {
    RateLimitedRefetch limited = new RateLimitedRefetch(below, clock, MIN_INTERVAL);
    CompletableFuture<FetchedKeys> first = limited.keys(Refetch.EXPIRED);
    CompletableFuture<FetchedKeys> second = limited.keys(Refetch.KEY_UNKNOWN);

    assertThat(below.calls()).isEqualTo(1);
    FetchedKeys fetched = below.succeed(keys, clock.instant());
    assertThat(first).isCompletedWithValue(fetched);
    assertThat(second).isCompletedWithValue(fetched);
  }

  @Test
  void unknownKidsRefetchAtMostOncePerInterval() {
    RateLimitedRefetch limited = new RateLimitedRefetch(below, clock, MIN_INTERVAL);
    limited.keys(Refetch.EXPIRED);
    FetchedKeys fetched = below.succeed(keys, clock.instant());

    clock.advance(MIN_INTERVAL.minusSeconds(1));
    for (int i = 0; i < 100; i++) {
      assertThat(limited.keys(Refetch.KEY_UNKNOWN)).isCompletedWithValue(fetched);
    }
    assertThat(below.calls()).isEqualTo(1);

    clock.advance(Duration.ofSeconds(1));
    limited.keys(Refetch.KEY_UNKNOWN);
    assertThat(below.calls()).isEqualTo(2);
  }

  @Test
  void aRoutineRefreshRightAfterASuccessSharesItAndOnePastTheIntervalFetches() {
    RateLimitedRefetch limited = new RateLimitedRefetch(below, clock, MIN_INTERVAL);
    limited.keys(Refetch.EXPIRED);
    below.succeed(keys, clock.instant());

    // a caller that found the cache empty a moment before the result was stored in it
    limited.keys(Refetch.EXPIRED);
    assertThat(below.calls()).isEqualTo(1);
    clock.advance(MIN_INTERVAL);
    limited.keys(Refetch.EXPIRED);
    assertThat(below.calls()).isEqualTo(2);
  }

  @Test
  void aFailedFetchIsNotRetriedInsideTheInterval() {
    RateLimitedRefetch limited = new RateLimitedRefetch(below, clock, MIN_INTERVAL);
    limited.keys(Refetch.EXPIRED);
    below.fail(new IdentityException(Reason.JWKS_UNAVAILABLE, "down"));

    assertThat(failureOf(limited.keys(Refetch.EXPIRED)).kind()).isEqualTo(Reason.JWKS_UNAVAILABLE);
    assertThat(failureOf(limited.keys(Refetch.KEY_UNKNOWN)).kind()).isEqualTo(Reason.JWKS_UNAVAILABLE);
    assertThat(below.calls()).isEqualTo(1);

    clock.advance(MIN_INTERVAL);
    limited.keys(Refetch.EXPIRED);
    assertThat(below.calls()).isEqualTo(2);
  }

  // ---- outage tolerance ----

  @Test
  void duringAnOutageTheLastGoodSetIsServedUntilItsMaximumAge() {
    OutageTolerantKeySource tolerant = new OutageTolerantKeySource(below, clock, TTL.multipliedBy(2));
    tolerant.keys(Refetch.EXPIRED);
    FetchedKeys good = below.succeed(keys, clock.instant());

    clock.advance(TTL.multipliedBy(2).minusSeconds(1));
    CompletableFuture<FetchedKeys> stale = tolerant.keys(Refetch.EXPIRED);
    below.fail(new IdentityException(Reason.JWKS_UNAVAILABLE, "down"));
    assertThat(stale).isCompletedWithValue(good);

    clock.advance(Duration.ofSeconds(1));
    CompletableFuture<FetchedKeys> tooOld = tolerant.keys(Refetch.EXPIRED);
    below.fail(new IdentityException(Reason.ISSUER_UNAVAILABLE, "discovery down"));
    assertThat(failureOf(tooOld).kind()).as("the reason is kept").isEqualTo(Reason.ISSUER_UNAVAILABLE);
  }

  @Test
  void withoutAGoodSetAnOutageFails() {
    OutageTolerantKeySource tolerant = new OutageTolerantKeySource(below, clock, TTL.multipliedBy(2));
    CompletableFuture<FetchedKeys> answer = tolerant.keys(Refetch.EXPIRED);
    below.fail(new IdentityException(Reason.JWKS_UNAVAILABLE, "down"));
    assertThat(failureOf(answer).kind()).isEqualTo(Reason.JWKS_UNAVAILABLE);
  }

  // ---- cache ----

  @Test
  void aFreshMatchingKeyIsAnsweredWithoutAskingBelow() {
    IssuerKeys cache = new IssuerKeys(below, clock, TTL);
    CompletableFuture<JWKSet> first = cache.keysFor(known);
    below.succeed(keys, clock.instant());
    assertThat(first).isCompletedWithValue(keys);

    clock.advance(TTL.minusSeconds(1));
    assertThat(cache.keysFor(known)).isCompletedWithValue(keys);
    assertThat(cache.refresh()).isCompleted();
    assertThat(below.reasons()).containsExactly(Refetch.EXPIRED);
  }

  @Test
  void anUnknownKidOrExpiredKeysAskBelowSayingWhy() {
    IssuerKeys cache = new IssuerKeys(below, clock, TTL);
    cache.keysFor(known);
    below.succeed(keys, clock.instant());

    CompletableFuture<JWKSet> forRotated = cache.keysFor(unknown);
    below.succeed(rotated, clock.instant());
    assertThat(forRotated).isCompletedWithValue(rotated);

    clock.advance(TTL);
    cache.keysFor(unknown);
    assertThat(below.reasons()).containsExactly(Refetch.EXPIRED, Refetch.KEY_UNKNOWN, Refetch.EXPIRED);
  }

  @Test
  void anOlderSetFromBelowIsUsedButNeverReplacesANewerOne() {
    IssuerKeys cache = new IssuerKeys(below, clock, TTL);
    Instant earlier = clock.instant();
    clock.advance(Duration.ofMinutes(1));
    cache.keysFor(known);
    below.succeed(keys, clock.instant());

    CompletableFuture<JWKSet> forUnknown = cache.keysFor(unknown);
    below.succeed(rotated, earlier); // an older set, as outage tolerance answers one
    assertThat(forUnknown).isCompletedWithValue(rotated);

    assertThat(cache.keysFor(known)).as("the newer set is still the fresh one").isCompletedWithValue(keys);
    assertThat(below.calls()).isEqualTo(2);
  }

  @Test
  void theBuilderRefusesImpossibleSettingsAllAtOnce() {
    DefaultEventLoop loop = new DefaultEventLoop();
    try {
      assertThatThrownBy(() -> IssuerKeys.builder("gitlab").executor(loop).cacheTtl(Duration.ZERO)
          .refetchMinInterval(Duration.ofSeconds(-1)).outageTolerance(Duration.ofSeconds(-1)).build())
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("issuer 'gitlab' keys: fetch: none")
          .hasMessageContaining("executor: DefaultEventLoop is an event loop")
          .hasMessageContaining("clock: none")
          .hasMessageContaining("cache TTL: PT0S (expected: > 0)")
          .hasMessageContaining("refetch minimum interval: PT-1S (expected: >= 0)")
          .hasMessageContaining("outage tolerance: PT-1S (expected: >= 0)");
    } finally {
      loop.shutdownGracefully();
    }
  }

  @Test
  void theBuiltStackToleratesAnOutageForOneMoreTtlByDefault() {
    AtomicInteger fetches = new AtomicInteger();
    boolean[] down = new boolean[1];
    IssuerKeys built = IssuerKeys.builder("gitlab").executor(Runnable::run).clock(clock).cacheTtl(TTL)
        .refetchMinInterval(MIN_INTERVAL).fetch(() -> {
          fetches.incrementAndGet();
          if (down[0]) {
            throw new IdentityException(Reason.JWKS_UNAVAILABLE, "down");
          }
          return keys;
        }).build();
    assertThat(built.keysFor(known)).isCompletedWithValue(keys);
    down[0] = true;

    clock.advance(TTL.multipliedBy(2).minusSeconds(1));
    assertThat(built.keysFor(known)).isCompletedWithValue(keys);
    assertThat(built.keysFor(known)).as("rate-limited after the failure").isCompletedWithValue(keys);
    assertThat(fetches).hasValue(2);

    clock.advance(MIN_INTERVAL);
    assertThat(failureOf(built.keysFor(known)).kind()).isEqualTo(Reason.JWKS_UNAVAILABLE);
    assertThat(fetches).hasValue(3);
  }

  private static IdentityException failureOf(CompletableFuture<?> future) {
    try {
      future.get(1, TimeUnit.SECONDS);
      throw new AssertionError("expected a failure");
    } catch (ExecutionException e) {
      assertThat(e.getCause()).isInstanceOf(IdentityException.class);
      return (IdentityException) e.getCause();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }
}

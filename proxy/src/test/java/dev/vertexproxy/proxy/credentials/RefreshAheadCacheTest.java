package dev.vertexproxy.proxy.credentials;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vertexproxy.policy.Caller;
import dev.vertexproxy.proxy.credentials.GoogleTokenProvider.GoogleToken;
import dev.vertexproxy.testing.MutableClock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;

/** The cache layer alone, over a counting source answered by hand; time moves only when the test moves it. */
class RefreshAheadCacheTest {
  private static final String TRAINER = "trainer@acme-ml-prod.iam.gserviceaccount.com";
  private static final TokenRequest REQUEST = TokenRequest.impersonating(TRAINER);
  private static final Duration LIFETIME = Duration.ofHours(1);

  private final MutableClock clock = MutableClock.startingNow();
  private final CountingTokenSource source = new CountingTokenSource();
  private final RefreshAheadCache cache =
      new RefreshAheadCache(source, clock, Duration.ofMinutes(5), 100);

  @Test
  void callersOnAColdKeyShareOneFetchAndLaterCallersAreAnsweredAtOnce() {
    CompletableFuture<GoogleToken> first = cache.tokenFor(REQUEST);
    CompletableFuture<GoogleToken> second = cache.tokenFor(REQUEST);
    assertThat(first).isNotDone();
    assertThat(source.calls()).isEqualTo(1);

    GoogleToken token = source.succeed(clock.instant().plus(LIFETIME));

    assertThat(first).isCompletedWithValue(token);
    assertThat(second).isCompletedWithValue(token);
    assertThat(cache.tokenFor(REQUEST)).isCompletedWithValue(token);
    assertThat(source.calls()).isEqualTo(1);
  }

  @Test
  void aCachedTokenIsAnsweredCompleteInAFutureOfItsOwnThatNoCallerCanSpoilForTheNext() {
    cache.tokenFor(REQUEST);
    GoogleToken token = source.succeed(clock.instant().plus(LIFETIME));
    CompletableFuture<GoogleToken> one = cache.tokenFor(REQUEST);
    assertThat(one).isCompletedWithValue(token);
    one.obtrudeException(new IllegalStateException("a caller misbehaving"));
    CompletableFuture<GoogleToken> two = cache.tokenFor(REQUEST);
    assertThat(two).isNotSameAs(one).isCompletedWithValue(token);
    clock.advance(LIFETIME);
    assertThat(cache.tokenFor(REQUEST)).as("an expired token is never answered from the cache").isNotDone();
    assertThat(source.calls()).isEqualTo(2);
  }

  @Test
  void hitsMissesAndTheEarliestExpiryAreWhatTheCacheHolds() {
    int[] hits = new int[1];
    int[] misses = new int[1];
    RefreshAheadCache counted = new RefreshAheadCache(source, clock, Duration.ofMinutes(5), 100,
        new GoogleTokenEvents() {
          @Override
          public void cacheHit() {
            hits[0]++;
          }

          @Override
          public void cacheMiss() {
            misses[0]++;
          }
        });
    assertThat(counted.earliestExpiry()).as("nothing cached").isNull();
    counted.tokenFor(REQUEST);
    counted.tokenFor(REQUEST); // joins the fetch under way
    assertThat(counted.earliestExpiry()).as("a load under way holds no token yet").isNull();
    source.fail(new GoogleTokenUnavailableException(TRAINER, 503, "injected", null));
    counted.tokenFor(REQUEST); // a failure is not kept: a miss
    GoogleToken token = source.succeed(clock.instant().plus(LIFETIME));
    counted.tokenFor(REQUEST);
    counted.tokenFor(REQUEST);
    counted.tokenFor(TokenRequest.impersonating("other@acme-ml-prod.iam.gserviceaccount.com"));
    source.succeed(clock.instant().plus(LIFETIME.multipliedBy(2)));

    assertThat(misses[0]).isEqualTo(3);
    assertThat(hits[0]).isEqualTo(3);
    assertThat(counted.earliestExpiry()).isEqualTo(token.expiresAt());
  }

  @Test
  void keysAreSeparate() {
    cache.tokenFor(REQUEST);
    cache.tokenFor(TokenRequest.impersonating("other@acme-ml-prod.iam.gserviceaccount.com"));
    assertThat(source.calls()).isEqualTo(2);
  }

  @Test
  void insideTheRefreshWindowTheHeldTokenIsServedWhileExactlyOneRefreshRuns() {
    GoogleToken first = load();

    clock.advance(Duration.ofMinutes(54));
    assertThat(cache.tokenFor(REQUEST)).isCompletedWithValue(first);
    assertThat(source.calls()).as("before refresh_before nothing is fetched").isEqualTo(1);

    clock.advance(Duration.ofMinutes(2)); // 4 minutes left, refresh_before is 5
    for (int i = 0; i < 10; i++) {
      assertThat(cache.tokenFor(REQUEST)).isCompletedWithValue(first);
      clock.advance(Duration.ofSeconds(2));
    }
    assertThat(source.calls()).as("one refresh in flight, however many reads and checks").isEqualTo(2);

    GoogleToken second = source.succeed(clock.instant().plus(LIFETIME));
    assertThat(cache.tokenFor(REQUEST)).isCompletedWithValue(second);
    assertThat(source.calls()).isEqualTo(2);
  }

  @Test
  void aFailedRefreshKeepsTheHeldTokenAndIsRetriedOnlyAfterThePause() {
    GoogleToken first = load();
    clock.advance(Duration.ofMinutes(56));
    cache.tokenFor(REQUEST);
    source.fail(new GoogleTokenUnavailableException(TRAINER, 503, "injected", null));

    for (int i = 0; i < 29; i++) {
      clock.advance(Duration.ofSeconds(1));
      assertThat(cache.tokenFor(REQUEST)).isCompletedWithValue(first);
    }
    assertThat(source.calls()).as("not retried inside the 30 s pause").isEqualTo(2);

    clock.advance(Duration.ofSeconds(1));
    assertThat(cache.tokenFor(REQUEST)).isCompletedWithValue(first);
    assertThat(source.calls()).isEqualTo(3);
  }

  @Test
  void anUnusableTokenIsNeverServedTheNextCallerWaitsForAFreshOne() {
    GoogleToken first = load();
    clock.advance(Duration.ofMinutes(56));
    cache.tokenFor(REQUEST); // starts a refresh that never answers

    clock.advance(Duration.ofMinutes(3)); // one minute before expiry: the safety margin
    CompletableFuture<GoogleToken> late = cache.tokenFor(REQUEST);

    assertThat(late).as("not the held token").isNotDone();
    assertThat(source.calls()).isEqualTo(3);
    source.fail(new GoogleTokenUnavailableException(TRAINER, 503, "the stuck refresh", null));
    GoogleToken fresh = source.succeed(clock.instant().plus(LIFETIME));
    assertThat(late).isCompletedWithValue(fresh);
    assertThat(fresh).isNotEqualTo(first);
  }

  @Test
  void aFailureAnswersItsWaitersAndIsNotCached() {
    CompletableFuture<GoogleToken> waiting = cache.tokenFor(REQUEST);
    source.fail(new GoogleTokenUnavailableException(TRAINER, 403, "refused", null));
    assertThat(failureOf(waiting)).isInstanceOf(GoogleTokenUnavailableException.class);

    CompletableFuture<GoogleToken> next = cache.tokenFor(REQUEST);
    assertThat(source.calls()).isEqualTo(2);
    GoogleToken token = source.succeed(clock.instant().plus(LIFETIME));
    assertThat(next).isCompletedWithValue(token);
  }

  @Test
  void failedLoadsLeaveNoStackTraceInCaffeinesLog() {
    Logger caffeine = Logger.getLogger("com.github.benmanes.caffeine");
    List<LogRecord> logged = new CopyOnWriteArrayList<>();
    Handler recorder = new Handler() {
      @Override
      public void publish(LogRecord record) {
        logged.add(record);
      }

      @Override
      public void flush() {
      }

      @Override
      public void close() {
      }
    };
    caffeine.addHandler(recorder);
    try {
      for (int i = 0; i < 3; i++) {
        CompletableFuture<GoogleToken> waiting = cache.tokenFor(REQUEST);
        source.fail(new GoogleTokenUnavailableException(TRAINER, 503, "down", null));
        assertThat(failureOf(waiting)).isInstanceOf(GoogleTokenUnavailableException.class);
      }
    } finally {
      caffeine.removeHandler(recorder);
    }
    assertThat(logged).extracting(LogRecord::getMessage).isEmpty();
    assertThat(source.calls()).isEqualTo(3);
  }

  @Test
  void aTokenThatArrivesExpiredIsAFailureNotAValue() {
    CompletableFuture<GoogleToken> waiting = cache.tokenFor(REQUEST);
    source.succeed(clock.instant());

    assertThat(failureOf(waiting)).isInstanceOf(GoogleTokenUnavailableException.class)
        .hasMessageContaining("had expired");
    cache.tokenFor(REQUEST);
    assertThat(source.calls()).isEqualTo(2);
  }

  @Test
  void aTokenShorterThanRefreshBeforeIsRefreshedHalfWayNotOnEveryCheck() {
    cache.tokenFor(REQUEST);
    GoogleToken shortLived = source.succeed(clock.instant().plus(Duration.ofMinutes(4)));

    for (int i = 0; i < 59; i++) {
      clock.advance(Duration.ofSeconds(2));
      assertThat(cache.tokenFor(REQUEST)).isCompletedWithValue(shortLived);
    }
    assertThat(source.calls()).as("nothing before half its life").isEqualTo(1);
    clock.advance(Duration.ofSeconds(2));
    cache.tokenFor(REQUEST);
    assertThat(source.calls()).isEqualTo(2);
  }

  @Test
  void aRefreshUsesTheRequestThatFilledTheEntry() {
    Caller caller = new Caller("gitlab", "project_path:acme/ml", Map.of());
    TokenRequest request = TokenRequest.forCaller(TRAINER, caller, "caller-token");
    cache.tokenFor(request);
    source.succeed(clock.instant().plus(LIFETIME));
    clock.advance(Duration.ofMinutes(56));
    cache.tokenFor(request);

    assertThat(source.requests()).hasSize(2).allSatisfy(r -> assertThat(r.callerToken()).isEqualTo("caller-token"));
  }

  @Test
  void closeForgetsEveryToken() {
    load();
    cache.close();
    cache.tokenFor(REQUEST);
    assertThat(source.calls()).isEqualTo(2);
  }

  private GoogleToken load() {
    CompletableFuture<GoogleToken> first = cache.tokenFor(REQUEST);
    GoogleToken token = source.succeed(clock.instant().plus(LIFETIME));
    assertThat(first).isCompletedWithValue(token);
    return token;
  }

  static Throwable failureOf(CompletableFuture<?> future) {
    try {
      future.get(1, TimeUnit.SECONDS);
      throw new AssertionError("expected a failure");
    } catch (ExecutionException e) {
      return e.getCause();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }
}

package dev.vertexproxy.proxy.credentials;

import static dev.vertexproxy.proxy.credentials.RefreshAheadCacheTest.failureOf;
import static org.assertj.core.api.Assertions.assertThat;

import dev.vertexproxy.proxy.credentials.GoogleTokenProvider.GoogleToken;
import dev.vertexproxy.testing.MutableClock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** The back-off layer alone, over a counting source answered by hand. */
class FailureBackoffTest {
  private static final String TRAINER = "trainer@acme-ml-prod.iam.gserviceaccount.com";
  private static final TokenRequest REQUEST = TokenRequest.impersonating(TRAINER);

  private final MutableClock clock = MutableClock.startingNow();
  private final CountingTokenSource source = new CountingTokenSource();
  private final FailureBackoff backOff =
      new FailureBackoff(source, clock, Duration.ofSeconds(1), Duration.ofSeconds(8), () -> 0.0);

  @Test
  void theFirstFailureIsRetriedAtOnceLaterOnesWaitLongerEachTimeUpToTheMaximum() {
    fail(403);
    fail(403); // forgiven: asked again at once, failed again
    assertThat(source.calls()).isEqualTo(2);

    for (Duration expected : List.of(Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(4),
        Duration.ofSeconds(8), Duration.ofSeconds(8))) {
      int before = source.calls();
      clock.advance(expected.minusMillis(1));
      assertThat(failureOf(backOff.tokenFor(REQUEST))).isInstanceOf(GoogleTokenUnavailableException.class);
      assertThat(source.calls()).as("inside the %s back-off Google is not asked", expected).isEqualTo(before);
      clock.advance(Duration.ofMillis(1));
      fail(403);
      assertThat(source.calls()).isEqualTo(before + 1);
    }
  }

  @Test
  void failingFastKeepsTheLastFailuresKindAndGoogleStatus() {
    fail(503);
    fail(503);
    Throwable fast = failureOf(backOff.tokenFor(REQUEST));

    assertThat(fast).isInstanceOf(GoogleTokenUnavailableException.class)
        .hasMessageContaining(TRAINER)
        .hasMessageContaining("failed 2 times in a row; not asked again for PT1S");
    assertThat(((GoogleTokenUnavailableException) fast).googleHttpStatus()).isEqualTo(503);
    assertThat(((GoogleTokenUnavailableException) fast).serviceAccount()).isEqualTo(TRAINER);
  }

  @Test
  void otherFailuresAreRepeatedAsTheyWere() {
    IllegalStateException odd = new IllegalStateException("odd");
    backOff.tokenFor(REQUEST);
    source.fail(odd);
    backOff.tokenFor(REQUEST);
    source.fail(odd);
    assertThat(failureOf(backOff.tokenFor(REQUEST))).isSameAs(odd);
  }

  @Test
  void aFailingKeyIsProbedInTheBackgroundWhileEveryCallerIsAnsweredAtOnce() {
    fail(503);
    fail(503);
    clock.advance(Duration.ofSeconds(1));
    CompletableFuture<GoogleToken> first = backOff.tokenFor(REQUEST);
    assertThat(source.calls()).as("the probe went out").isEqualTo(3);
    assertThat(failureOf(first)).as("the caller that started it does not wait for it")
        .hasMessageContaining("asking again in the background");
    for (int i = 0; i < 100; i++) {
      assertThat(failureOf(backOff.tokenFor(REQUEST))).isInstanceOf(GoogleTokenUnavailableException.class);
    }
    assertThat(source.calls()).as("one probe at a time, however many callers").isEqualTo(3);

    GoogleToken token = source.succeed(clock.instant().plusSeconds(3600));
    assertThat(backOff.tokenFor(REQUEST)).as("the next caller gets the probe's token").isCompletedWithValue(token);
    assertThat(source.calls()).isEqualTo(3);
  }

  @Test
  void aProbeThatFailsWaitsLonger() {
    fail(503);
    fail(503);
    clock.advance(Duration.ofSeconds(1));
    backOff.tokenFor(REQUEST);
    source.fail(new GoogleTokenUnavailableException(TRAINER, 503, "still down", null));
    clock.advance(Duration.ofMillis(1999));
    assertThat(failureOf(backOff.tokenFor(REQUEST))).hasMessageContaining("failed 3 times in a row; not asked again for");
    assertThat(source.calls()).isEqualTo(3);
    clock.advance(Duration.ofMillis(1));
    backOff.tokenFor(REQUEST);
    assertThat(source.calls()).isEqualTo(4);
  }

  @Test
  void jitterShortensTheDelayByUpToHalfNeverLengthensIt() {
    FailureBackoff jittered = new FailureBackoff(source, clock, Duration.ofSeconds(8), Duration.ofSeconds(8), () -> 0.999);
    for (int i = 0; i < 2; i++) {
      jittered.tokenFor(REQUEST);
      source.fail(new GoogleTokenUnavailableException(TRAINER, 503, "down", null));
    }
    clock.advance(Duration.ofMillis(3990));
    jittered.tokenFor(REQUEST);
    assertThat(source.calls()).as("still inside the shortened delay").isEqualTo(2);
    clock.advance(Duration.ofMillis(20));
    jittered.tokenFor(REQUEST);
    assertThat(source.calls()).as("a little over half of 8 s has passed: probed").isEqualTo(3);
  }

  @Test
  void aSuccessForgetsTheFailures() {
    fail(503);
    fail(503);
    clock.advance(Duration.ofSeconds(1));
    backOff.tokenFor(REQUEST);
    GoogleToken token = source.succeed(clock.instant().plusSeconds(3600));
    assertThat(backOff.tokenFor(REQUEST)).isCompletedWithValue(token);

    fail(503);
    fail(503); // the first failure after a success is forgiven again
    assertThat(source.calls()).isEqualTo(5);
  }

  @Test
  void keysBackOffSeparately() {
    fail(403);
    fail(403);
    backOff.tokenFor(TokenRequest.impersonating("other@acme-ml-prod.iam.gserviceaccount.com"));
    assertThat(source.calls()).isEqualTo(3);
  }

  @Test
  void aKeyQuietForTwiceTheMaximumStartsOver() {
    for (int i = 0; i < 5; i++) {
      fail(503);
      clock.advance(Duration.ofSeconds(8));
    }
    clock.advance(Duration.ofSeconds(16));
    fail(503);
    fail(503);
    assertThat(source.calls()).isEqualTo(7);
  }

  @Test
  void theDelayScheduleIsBounded() {
    assertThat(backOff.delayAfter(1)).isZero();
    assertThat(backOff.delayAfter(2)).isEqualTo(Duration.ofSeconds(1));
    assertThat(backOff.delayAfter(3)).isEqualTo(Duration.ofSeconds(2));
    assertThat(backOff.delayAfter(Integer.MAX_VALUE)).isEqualTo(Duration.ofSeconds(8));
  }

  private void fail(int googleStatus) {
    int before = source.calls();
    CompletableFuture<GoogleToken> call = backOff.tokenFor(REQUEST);
    assertThat(source.calls()).as("this call reached the source").isEqualTo(before + 1);
    source.fail(
        new GoogleTokenUnavailableException(TRAINER, googleStatus, "no Google access token for " + TRAINER, null));
    assertThat(failureOf(call)).isInstanceOf(GoogleTokenUnavailableException.class);
  }
}

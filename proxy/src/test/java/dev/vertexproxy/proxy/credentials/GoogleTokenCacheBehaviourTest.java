package dev.vertexproxy.proxy.credentials;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.api.client.http.javanet.NetHttpTransport;
import com.google.auth.http.HttpTransportFactory;
import dev.vertexproxy.emulators.GoogleEmulator;
import dev.vertexproxy.emulators.GoogleEmulator.Endpoint;
import dev.vertexproxy.proxy.config.CredentialsConfig;
import dev.vertexproxy.proxy.credentials.GoogleTokenProvider.GoogleToken;
import dev.vertexproxy.testing.MutableClock;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole token stack over google-auth-library against the Google emulator on real HTTPS, time moved by hand and
 * faults switched on the emulator: one fetch per key under a burst, one background refresh over a token's life,
 * serving through an outage while the cached token lasts, failing fast after, and recovering by itself.
 */
class GoogleTokenCacheBehaviourTest {
  private static final String TRAINER = "trainer@acme-ml-prod.iam.gserviceaccount.com";
  private static final String AUDIENCE = "//iam.googleapis.com/projects/123456789012/locations/global/"
      + "workloadIdentityPools/vertex-proxy-dev/providers/dev-issuer";
  private static final Duration WAIT = Duration.ofSeconds(20);

  @TempDir
  Path dir;

  private final MutableClock clock = MutableClock.startingNow();
  private final AtomicInteger fetches = new AtomicInteger();
  private final AtomicInteger failedFetches = new AtomicInteger();
  private GoogleEmulator google;
  private HttpTransportFactory transport;
  private ExecutorService executor;
  private GoogleTokenProvider provider;

  @BeforeEach
  void start() throws Exception {
    google = GoogleEmulator.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), clock);
    NetHttpTransport http = new NetHttpTransport.Builder().trustCertificates(google.trustStore()).build();
    transport = () -> http;
    executor = Executors.newFixedThreadPool(8);
    provider = GoogleTokenProvider.builder().config(config(Duration.ofSeconds(10))).impersonation(transport)
        .clock(clock).executor(executor).events(new GoogleTokenEvents() {
          @Override
          public void fetched(boolean ok) {
            (ok ? fetches : failedFetches).incrementAndGet();
          }
        }).build();
  }

  @AfterEach
  void stop() throws InterruptedException {
    provider.close();
    google.close();
    executor.shutdownNow();
    assertThat(executor.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void aThousandConcurrentFirstRequestsCauseOneTokenRequest() throws Exception {
    google.hold(Endpoint.IAM);
    List<CompletableFuture<GoogleToken>> burst = new ArrayList<>();
    ExecutorService callers = Executors.newFixedThreadPool(16);
    try {
      List<CompletableFuture<CompletableFuture<GoogleToken>>> asked = new ArrayList<>();
      for (int i = 0; i < 1000; i++) {
        asked.add(CompletableFuture.supplyAsync(() -> provider.tokenFor(TokenRequest.impersonating(TRAINER)), callers));
      }
      for (CompletableFuture<CompletableFuture<GoogleToken>> a : asked) {
        burst.add(a.get(WAIT.toSeconds(), TimeUnit.SECONDS));
      }
    } finally {
      callers.shutdown();
    }
    await(() -> google.held() == 1);
    assertThat(burst).as("all 1,000 wait on the one fetch").noneMatch(CompletableFuture::isDone);
    google.release();
    Set<String> values = new HashSet<>();
    for (CompletableFuture<GoogleToken> f : burst) {
      values.add(f.get(WAIT.toSeconds(), TimeUnit.SECONDS).value());
    }
    assertThat(values).hasSize(1);
    assertThat(google.iamCalls(TRAINER)).as("token requests at the emulator").isEqualTo(1);
    assertThat(fetches.get()).as("fetches counted by the metric's events").isEqualTo(1);
  }

  @Test
  void tenThousandRequestsOverATokensLifetimeCauseOneFetchAndOneBackgroundRefresh() throws Exception {
    Instant start = clock.instant();
    Duration step = Duration.ofHours(1).dividedBy(10_000);
    Set<String> values = new HashSet<>();
    for (int i = 0; i < 10_000; i++) {
      values.add(provider.tokenFor(TokenRequest.impersonating(TRAINER)).get(WAIT.toSeconds(), TimeUnit.SECONDS).value());
      clock.advance(step);
      if (Duration.between(start, clock.instant()).compareTo(Duration.ofMinutes(56)) > 0 && values.size() == 1) {
        // the refresh started at 55 min runs in the background; let it land before the old token's margin
        await(() -> google.iamCalls(TRAINER) == 2 && fetches.get() == 2);
      }
    }
    assertThat(google.iamCalls(TRAINER)).isEqualTo(2);
    assertThat(fetches.get()).isEqualTo(2);
    assertThat(values).as("the refreshed token took over without a gap").hasSize(2);
  }

  @Test
  void anOutageIsServedFromTheCacheThenRefusedFastThenRecoveredFromByItself() throws Exception {
    GoogleToken first = token();
    google.failAll(Endpoint.ANY, 503);

    for (int minute = 1; minute <= 54; minute++) {
      clock.advance(Duration.ofMinutes(1));
      assertThat(token()).as("minute %d: the cached token still serves", minute).isEqualTo(first);
    }
    // from 55 min on the refresh is due: reads every few seconds keep starting background refreshes, which fail
    for (int second = 5; second <= 4 * 60; second += 5) {
      clock.advance(Duration.ofSeconds(5));
      int failedSoFar = failedFetches.get();
      assertThat(token()).as("the cached token still serves %d s into the refresh window", second).isEqualTo(first);
      if (second == 60) { // 55:00: the refresh is due
        await(() -> failedFetches.get() > failedSoFar); // let the refresh this read started land
      }
    }
    assertThat(failedFetches.get()).as("background refreshes were tried and failed").isPositive();
    clock.advance(Duration.ofMinutes(1)); // inside the expiry margin: no longer served
    for (int i = 0; i < 2; i++) {
      // Google's own answer: whatever the background refreshes left, two failures in a row make the key failing
      assertThat(failure(provider.tokenFor(TokenRequest.impersonating(TRAINER))))
          .isInstanceOf(GoogleTokenUnavailableException.class);
    }
    List<Long> refusalMicros = new ArrayList<>();
    int before = google.iamCalls(TRAINER) + google.stsCalls();
    for (int i = 0; i < 200; i++) {
      long t0 = System.nanoTime();
      CompletableFuture<GoogleToken> refused = provider.tokenFor(TokenRequest.impersonating(TRAINER));
      assertThat(refused).as("answered at once, not after a round trip to Google").isCompletedExceptionally();
      refusalMicros.add((System.nanoTime() - t0) / 1000);
    }
    assertThat(failure(provider.tokenFor(TokenRequest.impersonating(TRAINER))))
        .isInstanceOf(GoogleTokenUnavailableException.class).hasMessageContaining("503");
    assertThat(google.iamCalls(TRAINER) + google.stsCalls() - before).as("a failing Google is not hammered")
        .isLessThanOrEqualTo(2);
    refusalMicros.sort(null);
    System.out.printf("GoogleTokenCacheBehaviourTest: refusal p50 %d µs, p99 %d µs%n", refusalMicros.get(100),
        refusalMicros.get(197));

    google.recover();
    clock.advance(Duration.ofSeconds(10)); // the longest back-off
    provider.tokenFor(TokenRequest.impersonating(TRAINER)); // starts the probe, answered at once
    await(() -> {
      CompletableFuture<GoogleToken> f = provider.tokenFor(TokenRequest.impersonating(TRAINER));
      return f.isDone() && !f.isCompletedExceptionally();
    });
    assertThat(token()).isNotEqualTo(first);
  }

  @Test
  void aHangingGoogleHoldsOnlyTheProbeWhileCallersAreRefusedAtOnce() throws Exception {
    token();
    google.failAll(Endpoint.ANY, 503);
    clock.advance(Duration.ofMinutes(59)); // expired, nothing refreshed it
    for (int i = 0; i < 2; i++) {
      assertThat(failure(provider.tokenFor(TokenRequest.impersonating(TRAINER))))
          .isInstanceOf(GoogleTokenUnavailableException.class); // the first two callers wait for Google's answer
    }
    google.recover();
    google.hold(Endpoint.ANY);
    clock.advance(Duration.ofSeconds(10));
    for (int i = 0; i < 100; i++) {
      assertThat(provider.tokenFor(TokenRequest.impersonating(TRAINER))).isCompletedExceptionally();
    }
    await(() -> google.held() >= 1);
    assertThat(google.held()).as("one probe waits at Google, not one request per caller").isEqualTo(1);
    google.release();
    await(() -> {
      CompletableFuture<GoogleToken> f = provider.tokenFor(TokenRequest.impersonating(TRAINER));
      return f.isDone() && !f.isCompletedExceptionally();
    });
  }

  @Test
  void aFetchThatHangsBeyondFetchTimeoutFailsItsWaiters() throws Exception {
    provider.close();
    provider = GoogleTokenProvider.builder().config(config(Duration.ofMillis(300))).impersonation(transport)
        .clock(clock).executor(executor).build();
    google.hold(Endpoint.IAM);
    CompletableFuture<GoogleToken> waiting = provider.tokenFor(TokenRequest.impersonating(TRAINER));
    assertThat(failure(waiting)).isInstanceOf(GoogleTokenUnavailableException.class)
        .hasMessageContaining("did not answer within PT0.3S (credentials.fetch_timeout)");
    google.release();
  }

  // ---- fixtures ----

  private GoogleToken token() throws Exception {
    return provider.tokenFor(TokenRequest.impersonating(TRAINER)).get(WAIT.toSeconds(), TimeUnit.SECONDS);
  }

  private CredentialsConfig config(Duration fetchTimeout) throws Exception {
    Path subject = dir.resolve("subject.jwt");
    Files.writeString(subject, GoogleTokenProviderTest.unsignedLookingJwt(clock.instant().plus(Duration.ofDays(1))));
    Path file = dir.resolve("external-account.json");
    Files.writeString(file, "{\"type\": \"external_account\", \"audience\": \"" + AUDIENCE + "\","
        + " \"subject_token_type\": \"urn:ietf:params:oauth:token-type:jwt\", \"token_url\": \"" + google.stsTokenUri()
        + "\", \"credential_source\": {\"file\": \"" + subject.toAbsolutePath() + "\"}}");
    return new CredentialsConfig(CredentialsConfig.Mode.IMPERSONATE, file, google.iamBaseUri(), CredentialsConfig.Sts.DEFAULT,
        null, null, null, null, null, fetchTimeout);
  }

  private static Throwable failure(CompletableFuture<GoogleToken> future) throws Exception {
    try {
      future.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      return e.getCause();
    }
    throw new AssertionError("expected a failure, got a token");
  }

  /** Bounded polling for something another thread does; never a fixed sleep standing in for a result. */
  private static void await(BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime()).as("condition not met within %s", WAIT).isLessThan(deadline);
      Thread.sleep(2);
    }
  }
}

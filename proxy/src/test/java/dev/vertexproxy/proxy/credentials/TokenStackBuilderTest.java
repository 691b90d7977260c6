package dev.vertexproxy.proxy.credentials;

import static dev.vertexproxy.proxy.credentials.RefreshAheadCacheTest.failureOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.vertexproxy.policy.Caller;
import dev.vertexproxy.proxy.credentials.GoogleTokenProvider.GoogleToken;
import dev.vertexproxy.testing.MutableClock;
import io.netty.channel.DefaultEventLoop;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** What the builder refuses, what the composed stack does, and what a token request shows. */
class TokenStackBuilderTest {
  private static final String PROVIDER =
      "//iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/gitlab/providers/gitlab";
  private static final String TRAINER = "trainer@acme-ml-prod.iam.gserviceaccount.com";
  private static final Caller CALLER = new Caller("gitlab", "project_path:acme/ml:ref_type:branch:ref:main",
      Map.of("project_path", "acme/ml"));
  private static final String CALLER_TOKEN = "eyJhbGciOiJSUzI1NiJ9.secret-caller-token.signature";

  private final MutableClock clock = MutableClock.startingNow();

  @Test
  void aCompleteBuilderBuildsAndTheLayersWorkTogether() throws Exception {
    CountingTokenSource source = new CountingTokenSource();
    GoogleTokenProvider provider = valid(source).build();

    CompletableFuture<GoogleToken> first = provider.tokenFor(TokenRequest.impersonating(TRAINER));
    provider.tokenFor(TokenRequest.impersonating(TRAINER));
    source.fail(new GoogleTokenUnavailableException(TRAINER, 503, "down", null));
    assertThat(failureOf(first)).isInstanceOf(GoogleTokenUnavailableException.class);
    provider.tokenFor(TokenRequest.impersonating(TRAINER)); // forgiven once
    source.fail(new GoogleTokenUnavailableException(TRAINER, 503, "down", null));
    assertThat(failureOf(provider.tokenFor(TokenRequest.impersonating(TRAINER))))
        .hasMessageContaining("not asked again");
    assertThat(source.calls()).as("cache single flight, then back-off").isEqualTo(2);
  }

  @Test
  void nothingIsMissingSilently() {
    assertThatThrownBy(() -> GoogleTokenProvider.builder().build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("fetching source: none")
        .hasMessageContaining("clock: none")
        .hasMessageContaining("executor: none");
  }

  @Test
  void anEventLoopIsRefusedAsTheExecutor() {
    DefaultEventLoop loop = new DefaultEventLoop();
    try {
      assertThatThrownBy(() -> valid(new CountingTokenSource()).executor(loop).build())
          .hasMessageContaining("executor: DefaultEventLoop is an event loop");
    } finally {
      loop.shutdownGracefully();
    }
  }

  @Test
  void refreshBeforeMustBePositiveAndShorterThanTheLifetime() {
    for (Duration bad : List.of(Duration.ZERO, Duration.ofSeconds(-1), Duration.ofHours(1), Duration.ofHours(2))) {
      assertThatThrownBy(() -> valid(new CountingTokenSource()).lifetime(Duration.ofHours(1)).refreshBefore(bad)
          .build())
          .hasMessage("credentials.refresh_before: " + bad + " (expected: positive and shorter than lifetime PT1H)");
    }
  }

  @Test
  void theBackOffMustStartPositiveAndNotExceedItsMaximum() {
    assertThatThrownBy(() -> valid(new CountingTokenSource()).backOff(Duration.ZERO, Duration.ofSeconds(1)).build())
        .hasMessageContaining("back-off: PT0S doubling up to PT1S");
    assertThatThrownBy(() -> valid(new CountingTokenSource()).backOff(Duration.ofSeconds(2), Duration.ofSeconds(1))
        .build())
        .hasMessageContaining("back-off: PT2S doubling up to PT1S");
  }

  @Test
  void theCacheMustHoldSomething() {
    assertThatThrownBy(() -> valid(new CountingTokenSource()).maximumSize(0).build())
        .hasMessage("maximum size: 0 (expected: at least 1)");
  }

  @Test
  void oneFetchingSourceOnlyAndImpersonationNeedsItsConfig() {
    assertThatThrownBy(() -> valid(new CountingTokenSource()).impersonation(() -> null).build())
        .hasMessageContaining("fetching source: two given")
        .hasMessageContaining("impersonation: no config");
  }

  @Test
  void stsRequestsKeepTheCallerAndAreCachedPerCallerTokenAndProvider() throws Exception {
    CountingTokenSource source = new CountingTokenSource(false);
    GoogleTokenProvider provider = valid(source).build();
    Instant callerExpiry = clock.instant().plusSeconds(600);

    provider.tokenFor(TokenRequest.federating(PROVIDER, null, CALLER, CALLER_TOKEN, callerExpiry));
    provider.tokenFor(TokenRequest.federating(PROVIDER, null, CALLER, CALLER_TOKEN, callerExpiry));
    provider.tokenFor(TokenRequest.federating(PROVIDER, TRAINER, CALLER, CALLER_TOKEN, callerExpiry));
    provider.tokenFor(TokenRequest.federating(PROVIDER + "-2", null, CALLER, CALLER_TOKEN, callerExpiry));
    provider.tokenFor(TokenRequest.federating(PROVIDER, null, CALLER, "another-callers-token", callerExpiry));

    assertThat(source.calls()).as("one fetch per (caller token, provider, service account)").isEqualTo(4);
    assertThat(source.requests().get(0).callerToken()).isEqualTo(CALLER_TOKEN);
    assertThat(source.requests().get(0).mode()).isEqualTo(TokenRequest.Mode.STS);
    assertThat(failureOf(provider.tokenFor(TokenRequest.federating(PROVIDER, "not an email", CALLER, CALLER_TOKEN,
        callerExpiry)))).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aSourceThatDoesNotActAsTheCallerNeverSeesTheCallersToken() throws Exception {
    CountingTokenSource source = new CountingTokenSource(false);
    GoogleTokenProvider provider = valid(source).build();

    provider.tokenFor(TokenRequest.forCaller(TRAINER, CALLER, CALLER_TOKEN));
    provider.tokenFor(TokenRequest.forCaller(TRAINER, CALLER, "another-callers-token"));
    provider.tokenFor(TokenRequest.impersonating(TRAINER));

    assertThat(source.calls()).as("one token per service account, shared by every caller").isEqualTo(1);
    assertThat(source.requests().get(0).caller()).isEmpty();
    assertThat(source.requests().get(0).callerToken()).isNull();
  }

  @Test
  void aSourceThatActsAsTheCallerNeedsOneAndCachesPerCallerToken() throws Exception {
    CountingTokenSource source = new CountingTokenSource(true);
    GoogleTokenProvider provider = valid(source).build();

    assertThat(failureOf(provider.tokenFor(TokenRequest.impersonating(TRAINER))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("carries no caller");
    provider.tokenFor(TokenRequest.forCaller(TRAINER, CALLER, CALLER_TOKEN));
    provider.tokenFor(TokenRequest.forCaller(TRAINER, CALLER, CALLER_TOKEN));
    provider.tokenFor(TokenRequest.forCaller(TRAINER, CALLER, "another-callers-token"));

    assertThat(source.calls()).isEqualTo(2);
    assertThat(source.requests().get(0).callerToken()).isEqualTo(CALLER_TOKEN);
  }

  @Test
  void theCallersTokenIsNeverInToString() {
    TokenRequest request = TokenRequest.forCaller(TRAINER, CALLER, CALLER_TOKEN);

    assertThat(request.toString()).contains(TRAINER).contains("gitlab/" + CALLER.subject())
        .doesNotContain(CALLER_TOKEN).doesNotContain("secret-caller-token");
    assertThat(request.key().toString()).contains(TRAINER).doesNotContain(CALLER_TOKEN)
        .doesNotContain(request.key().callerTokenSha256());
    assertThat(request.caller()).contains(CALLER);
    assertThat(TokenRequest.impersonating(TRAINER)).hasToString("TokenRequest[impersonate, serviceAccount=" + TRAINER + "]");
    TokenRequest federated = TokenRequest.federating(PROVIDER, null, CALLER, CALLER_TOKEN, clock.instant());
    assertThat(federated.toString()).contains(PROVIDER).doesNotContain(CALLER_TOKEN);
    assertThat(federated.key().toString()).contains("the federated caller").doesNotContain(CALLER_TOKEN);
  }

  @Test
  void aClosedProviderRefuses() throws Exception {
    GoogleTokenProvider provider = valid(new CountingTokenSource()).build();
    provider.close();
    assertThat(failureOf(provider.tokenFor(TokenRequest.impersonating(TRAINER))))
        .isInstanceOf(IllegalStateException.class);
  }

  private GoogleTokenProvider.Builder valid(CountingTokenSource source) {
    return GoogleTokenProvider.builder().source(source).clock(clock).executor(Runnable::run);
  }
}

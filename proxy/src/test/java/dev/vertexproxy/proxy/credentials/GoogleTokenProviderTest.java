package dev.vertexproxy.proxy.credentials;

import dev.vertexproxy.testing.MutableClock;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.api.client.http.javanet.NetHttpTransport;
import com.google.auth.http.HttpTransportFactory;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.vertexproxy.policy.Caller;
import dev.vertexproxy.proxy.config.CredentialsConfig;
import dev.vertexproxy.proxy.credentials.GoogleTokenProvider.GoogleToken;
import dev.vertexproxy.emulators.GoogleEmulator;
import dev.vertexproxy.emulators.IssuedTokens.Issued;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real google-auth-library code paths (IdentityPoolCredentials → STS, ImpersonatedCredentials → IAM
 * Credentials) against the Google emulator over real HTTPS on 127.0.0.1, with time moved by hand.
 */
class GoogleTokenProviderTest {
  private static final String TRAINER = "trainer@acme-ml-prod.iam.gserviceaccount.com";
  private static final String AUDIENCE =
      "//iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/vertex-proxy-dev"
          + "/providers/dev-issuer";
  private static final Duration WAIT = Duration.ofSeconds(20);

  @TempDir
  Path dir;

  private final MutableClock clock = MutableClock.startingNow();
  private GoogleEmulator google;
  private HttpTransportFactory transport;
  private ExecutorService executor;
  private GoogleTokenProvider provider;

  @BeforeEach
  void start() throws Exception {
    google = GoogleEmulator.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), clock);
    NetHttpTransport http = new NetHttpTransport.Builder().trustCertificates(google.trustStore()).build();
    transport = () -> http;
    executor = Executors.newFixedThreadPool(4);
  }

  @AfterEach
  void stop() throws InterruptedException {
    if (provider != null) {
      provider.close();
    }
    executor.shutdownNow();
    assertThat(executor.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    google.close();
  }

  @Test
  void firstTokenIsFederatedAtStsThenImpersonatedAtIam() throws Exception {
    provider = GoogleTokenProvider.create(config(), transport, clock, executor);
    assertThat(google.stsCalls()).as("creating the provider fetches nothing").isZero();

    GoogleToken token = provider.tokenFor(TokenRequest.impersonating(TRAINER)).get(WAIT.toSeconds(), TimeUnit.SECONDS);

    assertThat(google.stsCalls()).isEqualTo(1);
    assertThat(google.iamCalls(TRAINER)).isEqualTo(1);
    assertThat(token.principal()).isEqualTo(TRAINER);
    assertThat(token.expiresAt()).isEqualTo(clock.instant().plus(Duration.ofHours(1)));
    assertThat(google.lookup(token.value()))
        .contains(new Issued(TRAINER, "iam", token.expiresAt()));
    assertThat(token.toString()).contains(TRAINER).doesNotContain(token.value());
  }

  @Test
  void concurrentCallersOnAColdKeyShareOneFetchAndLaterCallsHitTheCache() throws Exception {
    provider = GoogleTokenProvider.create(config(), transport, clock, executor);
    google.delayNext(Duration.ofMillis(300)); // the STS exchange: keeps the first fetch in flight while others ask
    CountDownLatch go = new CountDownLatch(1);
    List<CompletableFuture<CompletableFuture<GoogleToken>>> callers = new ArrayList<>();
    ExecutorService callerThreads = Executors.newFixedThreadPool(20);
    try {
      for (int i = 0; i < 20; i++) {
        callers.add(CompletableFuture.supplyAsync(() -> {
          awaitQuietly(go);
          return provider.tokenFor(TokenRequest.impersonating(TRAINER));
        }, callerThreads));
      }
      go.countDown();
      List<String> values = new ArrayList<>();
      for (CompletableFuture<CompletableFuture<GoogleToken>> caller : callers) {
        values.add(caller.get(WAIT.toSeconds(), TimeUnit.SECONDS).get(WAIT.toSeconds(), TimeUnit.SECONDS).value());
      }
      assertThat(values).hasSize(20).containsOnly(values.get(0));
    } finally {
      callerThreads.shutdownNow();
    }
    assertThat(google.iamCalls(TRAINER)).isEqualTo(1);
    assertThat(google.stsCalls()).isEqualTo(1);

    CompletableFuture<GoogleToken> cached = provider.tokenFor(TokenRequest.impersonating(TRAINER));
    assertThat(cached).isDone();
    assertThat(google.iamCalls(TRAINER)).isEqualTo(1);
  }

  @Test
  void insideTheRefreshWindowTheOldTokenIsServedWhileOneBackgroundRefreshRuns() throws Exception {
    provider = GoogleTokenProvider.create(config(), transport, clock, executor);
    GoogleToken first = provider.tokenFor(TokenRequest.impersonating(TRAINER)).get(WAIT.toSeconds(), TimeUnit.SECONDS);

    clock.advance(Duration.ofMinutes(50));
    assertThat(provider.tokenFor(TokenRequest.impersonating(TRAINER)).getNow(null)).isEqualTo(first);
    assertThat(google.iamCalls(TRAINER)).as("outside the refresh window nothing is fetched").isEqualTo(1);

    clock.advance(Duration.ofMinutes(6)); // 4 minutes left, refresh_before is 5
    CompletableFuture<GoogleToken> duringRefresh = provider.tokenFor(TokenRequest.impersonating(TRAINER));
    assertThat(duringRefresh.getNow(null)).as("served at once, without waiting for the refresh").isEqualTo(first);
    for (int i = 0; i < 10; i++) {
      provider.tokenFor(TokenRequest.impersonating(TRAINER));
    }
    await(() -> !provider.tokenFor(TokenRequest.impersonating(TRAINER)).getNow(first).equals(first));

    GoogleToken second = provider.tokenFor(TokenRequest.impersonating(TRAINER)).getNow(null);
    assertThat(second.value()).isNotEqualTo(first.value());
    assertThat(second.expiresAt()).isEqualTo(clock.instant().plus(Duration.ofHours(1)));
    assertThat(google.iamCalls(TRAINER)).as("exactly one refresh").isEqualTo(2);
  }

  @Test
  void aFailedRefreshKeepsServingTheValidTokenAndIsRetriedAfterAPause() throws Exception {
    provider = GoogleTokenProvider.create(config(), transport, clock, executor);
    GoogleToken first = provider.tokenFor(TokenRequest.impersonating(TRAINER)).get(WAIT.toSeconds(), TimeUnit.SECONDS);

    google.failNext(1, 503);
    clock.advance(Duration.ofMinutes(56));
    assertThat(provider.tokenFor(TokenRequest.impersonating(TRAINER)).getNow(null)).isEqualTo(first);
    await(() -> google.iamCalls(TRAINER) == 2);
    // Let the failed attempt settle; the token keeps being served and nothing is retried before the pause is over.
    for (int i = 0; i < 20; i++) {
      assertThat(provider.tokenFor(TokenRequest.impersonating(TRAINER)).getNow(null)).isEqualTo(first);
      Thread.sleep(10);
    }
    assertThat(google.iamCalls(TRAINER)).isEqualTo(2);

    clock.advance(Duration.ofSeconds(30));
    assertThat(provider.tokenFor(TokenRequest.impersonating(TRAINER)).getNow(null)).isEqualTo(first);
    await(() -> !provider.tokenFor(TokenRequest.impersonating(TRAINER)).getNow(first).equals(first));
    assertThat(google.iamCalls(TRAINER)).isEqualTo(3);
  }

  @Test
  void aTokenPastItsUsableLifetimeIsFetchedAgainBeforeUse() throws Exception {
    provider = GoogleTokenProvider.create(config(), transport, clock, executor);
    GoogleToken first = provider.tokenFor(TokenRequest.impersonating(TRAINER)).get(WAIT.toSeconds(), TimeUnit.SECONDS);

    google.failNext(1, 503); // so the background refresh triggered below cannot replace the token in time
    clock.advance(Duration.ofMinutes(56));
    provider.tokenFor(TokenRequest.impersonating(TRAINER));
    await(() -> google.iamCalls(TRAINER) == 2);
    clock.advance(Duration.ofSeconds(3 * 60 + 1)); // one minute before expiry: the safety margin
    GoogleToken second = provider.tokenFor(TokenRequest.impersonating(TRAINER)).get(WAIT.toSeconds(), TimeUnit.SECONDS);

    assertThat(second.value()).isNotEqualTo(first.value());
    assertThat(second.expiresAt()).isAfter(first.expiresAt());
  }

  @Test
  void aRefusedServiceAccountFailsWithGooglesAnswerAndIsNotCached() throws Exception {
    google.refuse(TRAINER);
    provider = GoogleTokenProvider.create(config(), transport, clock, executor);

    assertThatThrownBy(() -> provider.tokenFor(TokenRequest.impersonating(TRAINER)).get(WAIT.toSeconds(), TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class)
        .cause()
        .isInstanceOf(GoogleTokenUnavailableException.class)
        .hasMessageContaining(TRAINER)
        .hasMessageContaining("403 PERMISSION_DENIED")
        .hasMessageContaining("iam.serviceAccounts.getAccessToken")
        .satisfies(e -> assertThat(((GoogleTokenUnavailableException) e).googleHttpStatus()).isEqualTo(403));

    assertThatThrownBy(() -> provider.tokenFor(TokenRequest.impersonating(TRAINER)).get(WAIT.toSeconds(), TimeUnit.SECONDS))
        .hasCauseInstanceOf(GoogleTokenUnavailableException.class);
    assertThat(google.iamCalls(TRAINER)).as("a failure is not cached").isEqualTo(2);
  }

  @Test
  void anUnreachableStsFailsTheFirstFetchAsUnavailable() throws Exception {
    google.failNext(1, 503);
    provider = GoogleTokenProvider.create(config(), transport, clock, executor);

    assertThatThrownBy(() -> provider.tokenFor(TokenRequest.impersonating(TRAINER)).get(WAIT.toSeconds(), TimeUnit.SECONDS))
        .cause()
        .isInstanceOf(GoogleTokenUnavailableException.class)
        .hasMessageContaining(TRAINER);
    assertThat(google.iamCalls(TRAINER)).isZero();

    assertThat(provider.tokenFor(TokenRequest.impersonating(TRAINER)).get(WAIT.toSeconds(), TimeUnit.SECONDS).principal())
        .isEqualTo(TRAINER);
  }

  @Test
  void malformedServiceAccountNamesAreRefusedBeforeAnyCall() throws Exception {
    provider = GoogleTokenProvider.create(config(), transport, clock, executor);
    for (String bad : List.of("", "a/b@x.com", "x@y.com:generateAccessToken?", "../../x@y.com", "x@y.com#z")) {
      assertThatThrownBy(() -> provider.tokenFor(TokenRequest.impersonating(bad)).join())
          .hasCauseInstanceOf(IllegalArgumentException.class);
    }
    assertThat(google.stsCalls()).isZero();
  }

  @Test
  void aServiceAccountKeyFileIsRefused() throws Exception {
    Path key = dir.resolve("key.json");
    Files.writeString(key, "{\"type\":\"service_account\",\"client_email\":\"k@p.iam.gserviceaccount.com\","
        + "\"private_key_id\":\"1\",\"private_key\":\"-----BEGIN PRIVATE KEY-----\\nAAAA\\n-----END PRIVATE KEY-----\\n\"}");

    assertThatThrownBy(() -> GoogleTokenProvider.create(CredentialsConfig.impersonate(key), transport, clock, executor))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("service-account key")
        .hasMessageContaining("external_account")
        .hasMessageNotContaining("PRIVATE KEY");
  }

  @Test
  void stsModeExchangesTheCallersOwnTokenAndGooglesPrincipalNamesTheCaller() throws Exception {
    CredentialsConfig sts = new CredentialsConfig(CredentialsConfig.Mode.STS, null, google.iamBaseUri(),
        new CredentialsConfig.Sts(AUDIENCE, google.stsTokenUri()), null, null, null, null, null, null);
    provider = GoogleTokenProvider.create(sts, transport, clock, executor);
    String subject = "project_path:acme/ml/forecasting:ref_type:branch:ref:main";
    Instant callerExpiry = clock.instant().plus(Duration.ofMinutes(20));
    String callerToken = callerJwt(subject, callerExpiry);
    Caller caller = new Caller("gitlab", subject, Map.of());

    GoogleToken direct = provider.tokenFor(TokenRequest.federating(AUDIENCE, null, caller, callerToken, callerExpiry))
        .get(WAIT.toSeconds(), TimeUnit.SECONDS);
    String principal = "principal://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools"
        + "/vertex-proxy-dev/subject/" + subject;
    assertThat(direct.principal()).isEqualTo(principal);
    assertThat(google.lookup(direct.value())).map(Issued::principal).get().asString().endsWith("/subject/" + subject);
    assertThat(direct.expiresAt()).as("never beyond the caller's own token").isEqualTo(callerExpiry);
    assertThat(google.stsCalls()).isEqualTo(1);
    assertThat(google.iamCalls(TRAINER)).isZero();

    GoogleToken impersonated = provider.tokenFor(TokenRequest.federating(AUDIENCE, TRAINER, caller, callerToken,
        callerExpiry)).get(WAIT.toSeconds(), TimeUnit.SECONDS);
    assertThat(impersonated.principal()).isEqualTo(TRAINER);
    assertThat(google.lookup(impersonated.value())).map(Issued::principal).contains(TRAINER);
    assertThat(google.stsCalls()).as("a second exchange: the first token is cached under another key").isEqualTo(2);
    assertThat(google.iamCalls(TRAINER)).isEqualTo(1);
    assertThat(impersonated.expiresAt()).isEqualTo(callerExpiry);
  }

  @Test
  void googlesRefusalsBecomeMessagesThatSayWhatToFix() throws Exception {
    CredentialsConfig sts = new CredentialsConfig(CredentialsConfig.Mode.STS, null, google.iamBaseUri(),
        new CredentialsConfig.Sts(AUDIENCE, google.stsTokenUri()), null, null, null, null, null, null);
    provider = GoogleTokenProvider.create(sts, transport, clock, executor);
    String subject = "project_path:acme/ml/forecasting:ref_type:branch:ref:main";
    Instant callerExpiry = clock.instant().plus(Duration.ofMinutes(20));
    String callerToken = callerJwt(subject, callerExpiry);
    Caller caller = new Caller("gitlab", subject, Map.of());
    google.refuse(TRAINER);

    Throwable denied = failure(provider.tokenFor(TokenRequest.federating(AUDIENCE, TRAINER, caller, callerToken,
        callerExpiry)));
    assertThat(denied).isInstanceOf(GoogleTokenUnavailableException.class)
        .hasMessageStartingWith("service account " + TRAINER + ": the federated caller principal://")
        .hasMessageContaining("lacks roles/iam.workloadIdentityUser")
        .hasMessageContaining("PERMISSION_DENIED")
        .hasMessageNotContaining(callerToken);

    Throwable expired = failure(provider.tokenFor(TokenRequest.federating(AUDIENCE, null, caller,
        callerJwt(subject, clock.instant().minusSeconds(1)), callerExpiry)));
    assertThat(expired).hasMessageStartingWith("workload identity provider " + AUDIENCE + " rejected the caller's token")
        .hasMessageContaining("invalid_grant");
  }

  @Test
  void impersonationDeniedNamesTheMissingRole() throws Exception {
    provider = GoogleTokenProvider.create(config(), transport, clock, executor);
    google.refuse(TRAINER);
    assertThat(failure(provider.tokenFor(TokenRequest.impersonating(TRAINER))))
        .hasMessageStartingWith("service account " + TRAINER + ": the proxy's identity lacks"
            + " roles/iam.serviceAccountTokenCreator on it");
  }

  private Throwable failure(CompletableFuture<GoogleToken> future) throws Exception {
    try {
      future.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      return e.getCause();
    }
    throw new AssertionError("expected a failure, got a token");
  }

  private String callerJwt(String subject, Instant expiresAt) throws Exception {
    ECKey key = new ECKeyGenerator(Curve.P_256).keyID("gitlab").generate();
    SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID("gitlab").build(),
        new JWTClaimsSet.Builder()
            .issuer("https://gitlab.example.com")
            .subject(subject)
            .audience("https://vertex-proxy.example.com")
            .issueTime(Date.from(clock.instant().minusSeconds(60)))
            .expirationTime(Date.from(expiresAt))
            .build());
    jwt.sign(new ECDSASigner(key));
    return jwt.serialize();
  }

  @Test
  void theIamOverrideIsTheFullGenerateAccessTokenUrl() {
    assertThat(ImpersonatingTokenSource.generateAccessTokenUrl("https://iam.example:8443/", TRAINER))
        .isEqualTo("https://iam.example:8443/v1/projects/-/serviceAccounts/" + TRAINER + ":generateAccessToken");
  }

  // ---- fixtures ----

  private CredentialsConfig config() throws Exception {
    return CredentialsConfig.impersonate(externalAccountFile()).withIamEndpoint(google.iamBaseUri());
  }

  /** Workload identity federation: a file-sourced JWT exchanged at the emulator's STS. */
  private Path externalAccountFile() throws Exception {
    ECKey key = new ECKeyGenerator(Curve.P_256).keyID("ci").generate();
    SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID("ci").build(),
        new JWTClaimsSet.Builder()
            .issuer("https://gitlab.example.com")
            .subject("project_path:acme/ml/proxy:ref_type:branch:ref:main")
            .audience("https://vertex-proxy.example.com")
            .issueTime(Date.from(clock.instant()))
            .expirationTime(Date.from(clock.instant().plus(Duration.ofHours(3))))
            .build());
    jwt.sign(new ECDSASigner(key));
    Path subjectToken = dir.resolve("subject.jwt");
    Files.writeString(subjectToken, jwt.serialize());
    Path file = dir.resolve("external-account.json");
    Files.writeString(file, "{\n"
        + "  \"type\": \"external_account\",\n"
        + "  \"audience\": \"" + AUDIENCE + "\",\n"
        + "  \"subject_token_type\": \"urn:ietf:params:oauth:token-type:jwt\",\n"
        + "  \"token_url\": \"" + google.stsTokenUri() + "\",\n"
        + "  \"credential_source\": {\"file\": \"" + subjectToken.toAbsolutePath() + "\"}\n"
        + "}\n");
    return file;
  }

  /** A subject token for the proxy's own external_account file: signed, but by a key no issuer publishes. */
  static String unsignedLookingJwt(Instant expiresAt) throws Exception {
    ECKey key = new ECKeyGenerator(Curve.P_256).keyID("ci").generate();
    SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID("ci").build(),
        new JWTClaimsSet.Builder().issuer("https://gitlab.example.com").subject("system:serviceaccount:vp:vertex-proxy")
            .audience("https://vertex-proxy.example.com").issueTime(Date.from(expiresAt.minus(Duration.ofDays(2))))
            .expirationTime(Date.from(expiresAt)).build());
    jwt.sign(new ECDSASigner(key));
    return jwt.serialize();
  }

  private static void await(BooleanSupplier condition) throws InterruptedException {
    Instant deadline = Instant.now().plus(WAIT);
    while (!condition.getAsBoolean()) {
      assertThat(Instant.now()).as("condition not met in time").isBefore(deadline);
      Thread.sleep(5);
    }
  }

  private static void awaitQuietly(CountDownLatch latch) {
    try {
      latch.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}

package dev.vertexproxy.emulators;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.api.client.http.HttpResponseException;
import com.google.api.client.http.javanet.NetHttpTransport;
import com.google.auth.Retryable;
import com.google.auth.oauth2.AccessToken;
import com.google.auth.oauth2.IdentityPoolCredentials;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.vertexproxy.emulators.GoogleEmulator.Endpoint;
import dev.vertexproxy.emulators.IssuedTokens.Issued;
import dev.vertexproxy.testing.MutableClock;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * STS against registered workload identity providers, IAM's refusal body and the fault switches, over real HTTPS:
 * each of Google's refusals with its own error code and description, in Google's order of checks, and one run of
 * google-auth's own {@code IdentityPoolCredentials} to show what a client of the library sees.
 */
class GoogleEmulatorStsFidelityTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String PROVIDER =
      "//iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/vertex-proxy/providers/gitlab";
  private static final String OTHER_PROVIDER =
      "//iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/vertex-proxy/providers/github";
  private static final String PRINCIPAL_PREFIX =
      "principal://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/vertex-proxy/subject/";
  private static final String VERTEX_PROXY_AUDIENCE = "https://vertex-proxy.example.com";
  private static final String TRAINER = "trainer@acme-ml-prod.iam.gserviceaccount.com";
  private static final String JWT_TYPE = "urn:ietf:params:oauth:token-type:jwt";
  private static final Duration WAIT = Duration.ofSeconds(10);

  private final MutableClock clock = new MutableClock(Instant.now().truncatedTo(ChronoUnit.SECONDS));
  private GoogleEmulator google;
  private ECKey issuerKey;

  /** A new client, so a new connection, per request: see {@code GoogleEmulatorTest#http()} for why. */
  private HttpClient http() {
    return HttpClient.newBuilder().sslContext(google.clientSslContext()).build();
  }

  @BeforeEach
  void start() throws Exception {
    google = GoogleEmulator.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), clock);
    issuerKey = new ECKeyGenerator(Curve.P_256).keyID("gitlab-1").generate();
  }

  @AfterEach
  void stop() {
    google.close();
  }

  // ---- STS against workload identity providers ----

  @Test
  void anAudienceNotShapedLikeAProviderNameIsAnInvalidRequest() throws Exception {
    String token = jwt(Map.of("aud", "https:" + PROVIDER));
    for (String audience : List.of("projects/123456789012/locations/global/workloadIdentityPools/vertex-proxy",
        "https:" + PROVIDER, PROVIDER + "/", "//iam.googleapis.com/projects/acme-ml-prod/locations/global/"
            + "workloadIdentityPools/vertex-proxy/providers/gitlab", "")) {
      assertOAuthError(exchange(audience, token), 400, "invalid_request", "Invalid value for \"audience\". This value "
          + "should be the full resource name of the Identity Provider. See "
          + "https://cloud.google.com/iam/docs/reference/sts/rest/v1/TopLevel/token for the list of possible formats.");
    }

    google.registerProvider(PROVIDER, Set.of(), Map.of());
    assertOAuthError(exchange("https:" + PROVIDER, token), 400, "invalid_request", null);
    assertThatThrownBy(() -> google.registerProvider("https:" + PROVIDER, Set.of(), Map.of()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("providerName: https:" + PROVIDER);
  }

  @Test
  void anAudienceNamingNoRegisteredProviderIsAnInvalidTarget() throws Exception {
    google.registerProvider(PROVIDER, Set.of(), Map.of());

    assertOAuthError(exchange(OTHER_PROVIDER, jwt(Map.of("aud", "https:" + OTHER_PROVIDER))), 400, "invalid_target",
        "The target service indicated by the \"audience\" parameters is invalid. This might either be because the "
            + "pool or provider is disabled or deleted or because it doesn't exist.");
    assertThat(exchange(PROVIDER, jwt(Map.of("aud", "https:" + PROVIDER))).statusCode()).isEqualTo(200);
  }

  @Test
  void withoutAllowedAudiencesTheTokenMustNameTheProviderWithOrWithoutHttps() throws Exception {
    google.registerProvider(PROVIDER, Set.of(), Map.of());

    assertThat(exchange(PROVIDER, jwt(Map.of("aud", "https:" + PROVIDER))).statusCode()).isEqualTo(200);
    assertThat(exchange(PROVIDER, jwt(Map.of("aud", PROVIDER))).statusCode()).isEqualTo(200);
    assertOAuthError(exchange(PROVIDER, jwt(Map.of("aud", "https:" + OTHER_PROVIDER))), 400, "invalid_grant",
        "The audience in ID Token [https:" + OTHER_PROVIDER + "] does not match the expected audience.");
    assertOAuthError(exchange(PROVIDER, jwt(Map.of("aud", VERTEX_PROXY_AUDIENCE))), 400, "invalid_grant",
        "The audience in ID Token [" + VERTEX_PROXY_AUDIENCE + "] does not match the expected audience.");
  }

  @Test
  void withAllowedAudiencesOneOfTheTokensAudiencesMustBeAllowed() throws Exception {
    google.registerProvider(PROVIDER, Set.of(VERTEX_PROXY_AUDIENCE), Map.of());

    assertThat(exchange(PROVIDER, jwt(Map.of("aud", VERTEX_PROXY_AUDIENCE))).statusCode()).isEqualTo(200);
    assertThat(exchange(PROVIDER, jwt(Map.of("aud", List.of("other", VERTEX_PROXY_AUDIENCE)))).statusCode())
        .isEqualTo(200);
    assertOAuthError(exchange(PROVIDER, jwt(Map.of("aud", List.of("other", "another")))), 400, "invalid_grant",
        "The audience in ID Token [other, another] does not match the expected audience.");
    assertOAuthError(exchange(PROVIDER, jwt(Map.of("aud", "https:" + PROVIDER))), 400, "invalid_grant",
        "The audience in ID Token [https:" + PROVIDER + "] does not match the expected audience.");
    assertOAuthError(exchange(PROVIDER, jwt(Map.of())), 400, "invalid_grant",
        "The audience in ID Token [] does not match the expected audience.");
  }

  @Test
  void theAttributeConditionMustHoldForEveryClaimItNames() throws Exception {
    google.registerProvider(PROVIDER, Set.of(VERTEX_PROXY_AUDIENCE),
        Map.of("namespace_path", "acme/ml", "ref_protected", "true"));

    assertThat(exchange(PROVIDER, jwt(Map.of("aud", VERTEX_PROXY_AUDIENCE, "namespace_path", "acme/ml",
        "ref_protected", "true"))).statusCode()).isEqualTo(200);
    String conditionRejected = "The given credential is rejected by the attribute condition.";
    assertOAuthError(exchange(PROVIDER, jwt(Map.of("aud", VERTEX_PROXY_AUDIENCE, "namespace_path", "acme/ml",
        "ref_protected", "false"))), 400, "unauthorized_client", conditionRejected);
    assertOAuthError(exchange(PROVIDER, jwt(Map.of("aud", VERTEX_PROXY_AUDIENCE, "namespace_path", "acme/ml"))), 400,
        "unauthorized_client", conditionRejected);
    assertThat(exchange(PROVIDER, jwt(Map.of("aud", VERTEX_PROXY_AUDIENCE, "namespace_path", "acme/ml",
        "ref_protected", true))).statusCode()).as("a boolean claim compares by its string form").isEqualTo(200);
  }

  @Test
  void checksRunInGoogleOrder() throws Exception {
    google.registerProvider(PROVIDER, Set.of(VERTEX_PROXY_AUDIENCE), Map.of("namespace_path", "acme/ml"));
    String expiredWrongEverything = jwt(Map.of("aud", "other", "namespace_path", "evil"));
    String wrongAudienceAndCondition = jwt(Map.of("aud", "other", "namespace_path", "evil", "exp", later(3)));
    clock.advance(Duration.ofHours(1));

    Map<String, String> badGrant = form("not-an-audience", expiredWrongEverything);
    badGrant.put("grant_type", "client_credentials");
    assertOAuthError(exchangeForm(badGrant), 400, "unsupported_grant_type", null);
    assertOAuthError(exchange("not-an-audience", expiredWrongEverything), 400, "invalid_request", null);
    assertOAuthError(exchange(OTHER_PROVIDER, expiredWrongEverything), 400, "invalid_target", null);
    assertOAuthError(exchange(PROVIDER, expiredWrongEverything), 400, "invalid_grant",
        "ID Token issued at " + clock.instant().minus(Duration.ofHours(1)).getEpochSecond() + " is stale to sign-in.");
    assertOAuthError(exchange(PROVIDER, wrongAudienceAndCondition), 400, "invalid_grant",
        "The audience in ID Token [other] does not match the expected audience.");
  }

  @Test
  void theFederatedPrincipalNamesTheAudiencesPoolAndTheLifetimeIsTheEmulators() throws Exception {
    google.registerProvider(PROVIDER, Set.of(), Map.of());
    google.tokenLifetime(Duration.ofMinutes(45));
    String shortLived = jwt(Map.of("aud", "https:" + PROVIDER, "sub", "project_path:acme/ml/forecasting",
        "exp", Date.from(clock.instant().plus(Duration.ofMinutes(5)))));

    HttpResponse<String> response = exchange(PROVIDER, shortLived);

    assertThat(response.statusCode()).isEqualTo(200);
    JsonNode body = JSON.readTree(response.body());
    assertThat(body.path("expires_in").asLong()).as("not capped at the subject token's exp").isEqualTo(45 * 60);
    assertThat(google.lookup(body.path("access_token").asText())).contains(new Issued(
        PRINCIPAL_PREFIX + "project_path:acme/ml/forecasting", "sts", clock.instant().plus(Duration.ofMinutes(45))));
  }

  @Test
  void withoutProvidersAnyWellFormedAudienceIsAcceptedAndNamesThePrincipal() throws Exception {
    HttpResponse<String> response = exchange(OTHER_PROVIDER, jwt(Map.of("aud", "anything", "sub", "ci")));

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(google.lookup(JSON.readTree(response.body()).path("access_token").asText()).map(Issued::principal))
        .contains(PRINCIPAL_PREFIX + "ci");
  }

  @Test
  void stsCallsAreCountedPerAudienceFailuresIncluded() throws Exception {
    google.registerProvider(PROVIDER, Set.of(), Map.of());
    exchange(PROVIDER, jwt(Map.of("aud", "https:" + PROVIDER)));
    exchange(PROVIDER, jwt(Map.of("aud", "wrong")));
    google.failNext(1, 503);
    exchange(PROVIDER, jwt(Map.of("aud", "https:" + PROVIDER)));
    exchange(OTHER_PROVIDER, jwt(Map.of("aud", "https:" + PROVIDER)));

    assertThat(google.stsCalls(PROVIDER)).isEqualTo(3);
    assertThat(google.stsCalls(OTHER_PROVIDER)).isEqualTo(1);
    assertThat(google.stsCalls("//iam.googleapis.com/never-asked")).isZero();
    assertThat(google.stsCalls()).isEqualTo(4);
  }

  // ---- IAM ----

  @Test
  void permissionDeniedIsGooglesBodyWithErrorInfoForRefusedAndUnknownAccountsAlike() throws Exception {
    String federated = federatedToken("ci");
    google.permitOnly(Set.of(TRAINER));

    for (String refused : List.of("admin@acme-ml-prod.iam.gserviceaccount.com", "no-such@nowhere.iam.gserviceaccount.com")) {
      HttpResponse<String> response = generate(federated, refused);
      assertThat(response.statusCode()).isEqualTo(403);
      assertThat(JSON.readTree(response.body())).isEqualTo(JSON.readTree("{\"error\":{\"code\":403,"
          + "\"message\":\"Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).\","
          + "\"status\":\"PERMISSION_DENIED\",\"details\":[{\"@type\":\"type.googleapis.com/google.rpc.ErrorInfo\","
          + "\"reason\":\"IAM_PERMISSION_DENIED\",\"domain\":\"iam.googleapis.com\","
          + "\"metadata\":{\"permission\":\"iam.serviceAccounts.getAccessToken\"}}]}}"));
    }
  }

  @Test
  void iamCallersNameThePrincipalThatImpersonated() throws Exception {
    google.refuse("reader@acme-ml-prod.iam.gserviceaccount.com");
    String forecasting = federatedToken("project_path:acme/ml/forecasting");
    String other = federatedToken("project_path:acme/other");

    assertThat(generate(forecasting, TRAINER).statusCode()).isEqualTo(200);
    assertThat(generate(other, TRAINER).statusCode()).isEqualTo(200);
    assertThat(generate("ya29.made-up", TRAINER).statusCode()).isEqualTo(401);
    assertThat(generate(forecasting, "reader@acme-ml-prod.iam.gserviceaccount.com").statusCode()).isEqualTo(403);

    assertThat(google.iamCallers(TRAINER)).containsExactly(
        PRINCIPAL_PREFIX + "project_path:acme/ml/forecasting", PRINCIPAL_PREFIX + "project_path:acme/other");
    assertThat(google.iamCallers("reader@acme-ml-prod.iam.gserviceaccount.com")).as("only tokens issued count").isEmpty();
    assertThat(google.iamCalls(TRAINER)).isEqualTo(3);
  }

  // ---- fault switches ----

  @Test
  void failAllFailsEveryRequestInTheEndpointsShapeUntilRecover() throws Exception {
    String federated = federatedToken("ci");
    google.failNext(1, 500);
    google.failAll(Endpoint.STS, 503);

    for (int i = 0; i < 3; i++) {
      assertOAuthError(exchange(PROVIDER, jwt(Map.of())), 503, "temporarily_unavailable", null);
    }
    google.failAll(Endpoint.IAM, 429);
    JsonNode error = JSON.readTree(generate(federated, TRAINER).body()).path("error");
    assertThat(error.path("code").asInt()).isEqualTo(429);
    assertThat(error.path("status").asText()).isEqualTo("RESOURCE_EXHAUSTED");
    assertThat(error.path("message").asText()).isNotBlank();

    google.recover();
    assertThat(generate(federated, TRAINER).statusCode()).as("failNext was kept for after the outage").isEqualTo(500);
    assertThat(generate(federated, TRAINER).statusCode()).isEqualTo(200);
    assertThat(exchange(PROVIDER, jwt(Map.of())).statusCode()).isEqualTo(200);

    google.failAll(Endpoint.ANY, 502);
    assertThat(exchange(PROVIDER, jwt(Map.of())).statusCode()).isEqualTo(502);
    assertThat(generate(federated, TRAINER).statusCode()).isEqualTo(502);
    google.recover();
    assertThat(generate(federated, TRAINER).statusCode()).isEqualTo(200);
  }

  @Test
  void holdParksRequestsUntilRelease() throws Exception {
    String federated = federatedToken("ci");
    google.hold(Endpoint.STS);

    CompletableFuture<HttpResponse<String>> first = exchangeAsync(PROVIDER, jwt(Map.of()));
    CompletableFuture<HttpResponse<String>> second = exchangeAsync(PROVIDER, jwt(Map.of()));
    awaitCount(google::held, 2);
    assertThat(google.stsCalls()).as("held requests are counted").isEqualTo(3);
    assertThat(generate(federated, TRAINER).statusCode()).as("IAM is not held").isEqualTo(200);
    assertThat(first).isNotDone();

    google.release();
    assertThat(first.get(WAIT.toSeconds(), TimeUnit.SECONDS).statusCode()).isEqualTo(200);
    assertThat(second.get(WAIT.toSeconds(), TimeUnit.SECONDS).statusCode()).isEqualTo(200);
    assertThat(google.held()).isZero();
    assertThat(exchange(PROVIDER, jwt(Map.of())).statusCode()).as("release stops holding").isEqualTo(200);
  }

  @Test
  void closeReleasesHeldRequests() throws Exception {
    google.hold(Endpoint.ANY);
    CompletableFuture<HttpResponse<String>> held = exchangeAsync(PROVIDER, jwt(Map.of()));
    awaitCount(google::held, 1);

    google.close();

    // The request is let go; whether its 503 makes it out before the connection closes is a race, and either ends it.
    assertThat(held.handle((response, failure) -> failure == null ? response.statusCode() : -1)
        .get(WAIT.toSeconds(), TimeUnit.SECONDS)).isIn(503, -1);
    assertThat(google.held()).isZero();
  }

  // ---- google-auth's own client ----

  /**
   * What google-auth 1.57 shows a caller: a refused exchange surfaces from {@code refreshAccessToken()} as an
   * {@code IOException} whose message is {@code "Error code <error>: <error_description>"}; its class is the
   * package-private {@code com.google.auth.oauth2.OAuthException} (a {@code GoogleAuthException}, which implements the
   * public {@code com.google.auth.Retryable}), and its cause is the transport's {@code HttpResponseException}, which
   * carries the status code and the raw OAuth JSON body. An STS 503 comes out the same way, not retried, and with
   * {@code isRetryable()} false.
   */
  @Test
  void googleAuthsIdentityPoolCredentialsExchangeAndSeeTheRefusal() throws Exception {
    google.registerProvider(PROVIDER, Set.of(VERTEX_PROXY_AUDIENCE), Map.of());
    String good = jwt(Map.of("aud", VERTEX_PROXY_AUDIENCE, "sub", "project_path:acme/ml"));
    String wrongAudience = jwt(Map.of("aud", "https://elsewhere.example.com"));

    AccessToken token = identityPool(good).refreshAccessToken();
    assertThat(google.lookup(token.getTokenValue()).map(Issued::principal)).contains(PRINCIPAL_PREFIX + "project_path:acme/ml");

    IdentityPoolCredentials refused = identityPool(wrongAudience);
    String description = "The audience in ID Token [https://elsewhere.example.com] does not match the expected audience.";
    assertThatThrownBy(refused::refreshAccessToken)
        .isInstanceOf(IOException.class)
        .hasMessage("Error code invalid_grant: " + description)
        .satisfies(e -> assertThat(e.getClass().getName()).isEqualTo("com.google.auth.oauth2.OAuthException"))
        .satisfies(e -> assertThat(e).isInstanceOf(Retryable.class))
        .cause().isInstanceOfSatisfying(HttpResponseException.class, cause -> {
          assertThat(cause.getStatusCode()).isEqualTo(400);
          assertThat(cause.getContent()).contains("\"error\":\"invalid_grant\"").contains(description);
        });

    google.failAll(Endpoint.STS, 503);
    int before = google.stsCalls();
    assertThatThrownBy(identityPool(good)::refreshAccessToken)
        .hasMessage("Error code temporarily_unavailable: injected failure")
        .satisfies(e -> assertThat(((Retryable) e).isRetryable()).as("google-auth does not call STS's 503 retryable").isFalse())
        .cause().isInstanceOfSatisfying(HttpResponseException.class, cause -> assertThat(cause.getStatusCode()).isEqualTo(503));
    assertThat(google.stsCalls() - before).as("and does not retry it").isEqualTo(1);
  }

  // ---- helpers ----

  private IdentityPoolCredentials identityPool(String subjectToken) throws GeneralSecurityException {
    NetHttpTransport transport = new NetHttpTransport.Builder().trustCertificates(google.trustStore()).build();
    return IdentityPoolCredentials.newBuilder()
        .setSubjectTokenSupplier(context -> subjectToken)
        .setAudience(PROVIDER)
        .setSubjectTokenType(JWT_TYPE)
        .setTokenUrl(google.stsTokenUri().toString())
        .setScopes(List.of("https://www.googleapis.com/auth/cloud-platform"))
        .setHttpTransportFactory(() -> transport)
        .build();
  }

  /** Polls {@code counter} until it reaches {@code expected}: a bounded loop, no timer, since nothing signals it. */
  private static void awaitCount(IntSupplier counter, int expected) {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (counter.getAsInt() < expected) {
      assertThat(System.nanoTime()).as("waiting for %s held requests", expected).isLessThan(deadline);
      Thread.onSpinWait();
    }
  }

  private String federatedToken(String subject) throws Exception {
    HttpResponse<String> response = exchange(PROVIDER, jwt(Map.of("sub", subject)));
    assertThat(response.statusCode()).isEqualTo(200);
    return JSON.readTree(response.body()).path("access_token").asText();
  }

  private Date later(int hours) {
    return Date.from(clock.instant().plus(Duration.ofHours(hours)));
  }

  /** A subject token: {@code sub} "ci", an {@code exp} half an hour ahead, no {@code aud}, then {@code claims}. */
  private String jwt(Map<String, Object> claims) throws Exception {
    JWTClaimsSet.Builder builder = new JWTClaimsSet.Builder()
        .issuer("https://gitlab.example.com")
        .subject("ci")
        .issueTime(Date.from(clock.instant()))
        .expirationTime(Date.from(clock.instant().plus(Duration.ofMinutes(30))));
    claims.forEach(builder::claim);
    SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(issuerKey.getKeyID()).build(),
        builder.build());
    jwt.sign(new ECDSASigner(issuerKey));
    return jwt.serialize();
  }

  private static Map<String, String> form(String audience, String subjectToken) {
    Map<String, String> form = new LinkedHashMap<>();
    form.put("grant_type", "urn:ietf:params:oauth:grant-type:token-exchange");
    form.put("audience", audience);
    form.put("scope", "https://www.googleapis.com/auth/cloud-platform");
    form.put("requested_token_type", "urn:ietf:params:oauth:token-type:access_token");
    form.put("subject_token", subjectToken);
    form.put("subject_token_type", JWT_TYPE);
    return form;
  }

  private HttpResponse<String> exchange(String audience, String subjectToken) throws Exception {
    return exchangeForm(form(audience, subjectToken));
  }

  private HttpResponse<String> exchangeForm(Map<String, String> form) throws Exception {
    return http().send(stsRequest(form), HttpResponse.BodyHandlers.ofString());
  }

  private CompletableFuture<HttpResponse<String>> exchangeAsync(String audience, String subjectToken) {
    return http().sendAsync(stsRequest(form(audience, subjectToken)), HttpResponse.BodyHandlers.ofString());
  }

  private HttpRequest stsRequest(Map<String, String> form) {
    String body = form.entrySet().stream()
        .map(e -> URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8) + "="
            + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
        .collect(Collectors.joining("&"));
    return HttpRequest.newBuilder(google.stsTokenUri())
        .header("Content-Type", "application/x-www-form-urlencoded")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build();
  }

  private HttpResponse<String> generate(String bearer, String serviceAccount) throws Exception {
    return http().send(HttpRequest.newBuilder(google.iamBaseUri()
            .resolve("/v1/projects/-/serviceAccounts/" + serviceAccount + ":generateAccessToken"))
        .header("Content-Type", "application/json")
        .header("Authorization", "Bearer " + bearer)
        .POST(HttpRequest.BodyPublishers.ofString("{\"scope\":[\"https://www.googleapis.com/auth/cloud-platform\"]}"))
        .build(), HttpResponse.BodyHandlers.ofString());
  }

  /** The status, the OAuth error code and, unless {@code description} is null, the exact description. */
  private static void assertOAuthError(HttpResponse<String> response, int code, String error, String description)
      throws Exception {
    assertThat(response.statusCode()).isEqualTo(code);
    JsonNode body = JSON.readTree(response.body());
    assertThat(body.path("error").asText()).isEqualTo(error);
    if (description == null) {
      assertThat(body.path("error_description").asText()).isNotBlank();
    } else {
      assertThat(body.path("error_description").asText()).isEqualTo(description);
    }
  }
}

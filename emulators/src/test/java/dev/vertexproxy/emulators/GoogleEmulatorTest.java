package dev.vertexproxy.emulators;

import dev.vertexproxy.testing.MutableClock;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import dev.vertexproxy.emulators.IssuedTokens.Issued;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The emulator's wire formats, spoken to over real HTTPS on 127.0.0.1 with a plain JDK client. */
class GoogleEmulatorTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String TRAINER = "trainer@acme-ml-prod.iam.gserviceaccount.com";
  private static final String AUDIENCE =
      "//iam.googleapis.com/projects/0/locations/global/workloadIdentityPools/dev/providers/dev";
  private static final URI ISSUER = URI.create("https://gitlab.example.com");

  private final MutableClock clock = new MutableClock(Instant.now().truncatedTo(ChronoUnit.SECONDS));
  private GoogleEmulator google;
  private ECKey issuerKey;

  /**
   * A new client, so a new connection, per request: the JDK's HTTPS server can leave a request that arrives on a kept-alive
   * TLS connection unread until its idle timeout (seen about once in twenty runs, as a 40 s hang and "header parser
   * received no bytes"), in this class only; the end-to-end tests, whose Google calls go through google-auth, have not
   * shown it. Not understood to the bottom: this sidesteps it for the emulator's own tests.
   */
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

  @Test
  void stsExchangesAJwtForAFederatedAccessToken() throws Exception {
    HttpResponse<String> response = exchange(jwt(issuerKey, ISSUER, "project_path:acme/ml"));

    assertThat(response.statusCode()).isEqualTo(200);
    JsonNode body = JSON.readTree(response.body());
    assertThat(body.path("issued_token_type").asText()).isEqualTo("urn:ietf:params:oauth:token-type:access_token");
    assertThat(body.path("token_type").asText()).isEqualTo("Bearer");
    assertThat(body.path("expires_in").asLong()).isEqualTo(3600);
    assertThat(google.lookup(body.path("access_token").asText())).contains(new Issued(
        "principal://iam.googleapis.com/projects/0/locations/global/workloadIdentityPools/dev/subject/project_path:acme/ml",
        "sts", clock.instant().plus(Duration.ofHours(1))));
    assertThat(google.stsCalls()).isEqualTo(1);
  }

  @Test
  void stsRefusesWhatIsNotAValidJwtExchange() throws Exception {
    assertOAuthError(exchange("not-a-jwt"), 400, "invalid_grant");
    assertOAuthError(exchangeForm(Map.of("grant_type", "client_credentials")), 400, "unsupported_grant_type");

    String expiresInHalfAnHour = jwt(issuerKey, ISSUER, "late");
    clock.advance(Duration.ofHours(2));
    assertOAuthError(exchange(expiresInHalfAnHour), 400, "invalid_grant");
  }

  @Test
  void aTrustedIssuerMustSignTheSubjectToken() throws Exception {
    HttpServer jwks = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    byte[] keys = new JWKSet(issuerKey.toPublicJWK()).toString().getBytes(StandardCharsets.UTF_8);
    jwks.createContext("/jwks", exchange -> {
      exchange.getResponseHeaders().set("Content-Type", "application/json");
      exchange.sendResponseHeaders(200, keys.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(keys);
      }
    });
    jwks.start();
    try {
      google.trustIssuer(ISSUER, URI.create("http://127.0.0.1:" + jwks.getAddress().getPort() + "/jwks"));
      ECKey impostor = new ECKeyGenerator(Curve.P_256).keyID("gitlab-1").generate();

      assertThat(exchange(jwt(issuerKey, ISSUER, "ci")).statusCode()).isEqualTo(200);
      assertOAuthError(exchange(jwt(impostor, ISSUER, "ci")), 400, "invalid_grant");
      assertOAuthError(exchange(jwt(issuerKey, URI.create("https://evil.example.com"), "ci")), 400, "invalid_grant");
    } finally {
      jwks.stop(0);
    }
  }

  @Test
  void generateAccessTokenNeedsABearerThisEmulatorIssued() throws Exception {
    String federated = federatedToken();

    assertGoogleError(generate(null, TRAINER, "3600s"), 401, "UNAUTHENTICATED");
    assertGoogleError(generate("ya29.made-up", TRAINER, "3600s"), 401, "UNAUTHENTICATED");

    HttpResponse<String> response = generate(federated, TRAINER, "1800s");
    assertThat(response.statusCode()).isEqualTo(200);
    JsonNode body = JSON.readTree(response.body());
    Instant expireTime = Instant.parse(body.path("expireTime").asText());
    assertThat(body.path("expireTime").asText()).endsWith("Z");
    assertThat(expireTime).isEqualTo(clock.instant().plus(Duration.ofMinutes(30)));
    assertThat(google.lookup(body.path("accessToken").asText())).contains(new Issued(TRAINER, "iam", expireTime));
    assertThat(google.iamCalls(TRAINER)).isEqualTo(3);

    clock.advance(Duration.ofHours(1));
    assertThat(google.lookup(body.path("accessToken").asText())).as("expired tokens resolve to nothing").isEmpty();
    assertGoogleError(generate(federated, TRAINER, "3600s"), 401, "UNAUTHENTICATED");
  }

  @Test
  void onlyPermittedServiceAccountsCanBeImpersonated() throws Exception {
    String federated = federatedToken();
    google.permitOnly(Set.of(TRAINER, "reader@acme-ml-prod.iam.gserviceaccount.com"));
    google.refuse("reader@acme-ml-prod.iam.gserviceaccount.com");

    assertThat(generate(federated, TRAINER, "3600s").statusCode()).isEqualTo(200);
    assertGoogleError(generate(federated, "reader@acme-ml-prod.iam.gserviceaccount.com", "3600s"), 403,
        "PERMISSION_DENIED");
    assertGoogleError(generate(federated, "admin@acme-ml-prod.iam.gserviceaccount.com", "3600s"), 403,
        "PERMISSION_DENIED");
    assertGoogleError(generate(federated, TRAINER, "99999s"), 400, "INVALID_ARGUMENT");
  }

  @Test
  void injectedFailuresAndLifetimeHooks() throws Exception {
    String federated = federatedToken();
    google.failNext(2, 503);
    assertGoogleError(generate(federated, TRAINER, "3600s"), 503, "UNAVAILABLE");
    assertOAuthError(exchange(jwt(issuerKey, ISSUER, "ci")), 503, "temporarily_unavailable");

    google.tokenLifetime(Duration.ofMinutes(10));
    HttpResponse<String> shortLived = generate(federated, TRAINER, "3600s");
    assertThat(shortLived.statusCode()).isEqualTo(200);
    assertThat(Instant.parse(JSON.readTree(shortLived.body()).path("expireTime").asText()))
        .isEqualTo(clock.instant().plus(Duration.ofMinutes(10)));

    google.delayNext(Duration.ofMillis(200));
    long started = System.nanoTime();
    assertThat(generate(federated, TRAINER, "3600s").statusCode()).isEqualTo(200);
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThanOrEqualTo(Duration.ofMillis(200));
    assertThat(google.iamCalls(TRAINER)).isEqualTo(3);
    assertThat(google.stsCalls()).isEqualTo(2);
  }

  @Test
  void unknownPathsAreNotFound() throws Exception {
    HttpResponse<String> response = http().send(HttpRequest.newBuilder(google.baseUri().resolve("/v1/other"))
        .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    assertGoogleError(response, 404, "NOT_FOUND");
  }

  // ---- helpers ----

  private String federatedToken() throws Exception {
    HttpResponse<String> response = exchange(jwt(issuerKey, ISSUER, "ci"));
    assertThat(response.statusCode()).isEqualTo(200);
    return JSON.readTree(response.body()).path("access_token").asText();
  }

  private String jwt(ECKey key, URI issuer, String subject) throws Exception {
    SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(key.getKeyID()).build(),
        new JWTClaimsSet.Builder()
            .issuer(issuer.toString())
            .subject(subject)
            .audience(AUDIENCE)
            .expirationTime(Date.from(clock.instant().plus(Duration.ofMinutes(30))))
            .build());
    jwt.sign(new ECDSASigner(key));
    return jwt.serialize();
  }

  private HttpResponse<String> exchange(String subjectToken) throws Exception {
    Map<String, String> form = new LinkedHashMap<>();
    form.put("grant_type", "urn:ietf:params:oauth:grant-type:token-exchange");
    form.put("audience", AUDIENCE);
    form.put("scope", "https://www.googleapis.com/auth/cloud-platform");
    form.put("requested_token_type", "urn:ietf:params:oauth:token-type:access_token");
    form.put("subject_token", subjectToken);
    form.put("subject_token_type", "urn:ietf:params:oauth:token-type:jwt");
    return exchangeForm(form);
  }

  private HttpResponse<String> exchangeForm(Map<String, String> form) throws Exception {
    String body = form.entrySet().stream()
        .map(e -> URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8) + "="
            + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
        .collect(Collectors.joining("&"));
    return http().send(HttpRequest.newBuilder(google.stsTokenUri())
        .header("Content-Type", "application/x-www-form-urlencoded")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> generate(String bearer, String serviceAccount, String lifetime) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(google.iamBaseUri()
            .resolve("/v1/projects/-/serviceAccounts/" + serviceAccount + ":generateAccessToken"))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"delegates\":[],\"scope\":"
            + "[\"https://www.googleapis.com/auth/cloud-platform\"],\"lifetime\":\"" + lifetime + "\"}"));
    if (bearer != null) {
      request.header("Authorization", "Bearer " + bearer);
    }
    return http().send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static void assertGoogleError(HttpResponse<String> response, int code, String status) throws Exception {
    assertThat(response.statusCode()).isEqualTo(code);
    JsonNode error = JSON.readTree(response.body()).path("error");
    assertThat(error.path("code").asInt()).isEqualTo(code);
    assertThat(error.path("status").asText()).isEqualTo(status);
    assertThat(error.path("message").asText()).isNotBlank();
  }

  private static void assertOAuthError(HttpResponse<String> response, int code, String error) throws Exception {
    assertThat(response.statusCode()).isEqualTo(code);
    JsonNode body = JSON.readTree(response.body());
    assertThat(body.path("error").asText()).isEqualTo(error);
    assertThat(body.path("error_description").asText()).isNotBlank();
  }
}

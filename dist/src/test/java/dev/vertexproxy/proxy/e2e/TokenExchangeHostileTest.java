package dev.vertexproxy.proxy.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vertexproxy.dev.DevMode;
import dev.vertexproxy.policy.Caller;
import dev.vertexproxy.proxy.config.ConfigLoader;
import dev.vertexproxy.proxy.config.ProxyConfig;
import dev.vertexproxy.proxy.login.SessionIssuer;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code POST /_proxy/sts/v1/token} on raw sockets, the way google-auth and anything hostile would call it: Google STS's
 * wire shape when it answers, an RFC 6749 §5.2 error object for every refusal, never a token for a request that is not
 * exactly right, and one audit record per exchange naming why.
 */
class TokenExchangeHostileTest {
  static DevStack stack;
  static String audience;

  @BeforeAll
  static void start() throws Exception {
    stack = DevStack.start(Files.createTempDirectory("token-exchange"), null);
    stack.awaitReady();
    audience = DevStack.JSON.readTree(stack.get("/.well-known/openid-configuration", null).body()).path("issuer").asText();
  }

  @AfterAll
  static void stop() {
    if (stack != null) {
      stack.dev.close();
    }
  }

  private static Map<String, String> form(String subjectToken) {
    Map<String, String> f = new LinkedHashMap<>();
    f.put("grant_type", "urn:ietf:params:oauth:grant-type:token-exchange");
    f.put("subject_token_type", "urn:ietf:params:oauth:token-type:jwt");
    f.put("subject_token", subjectToken);
    f.put("scope", "https://www.googleapis.com/auth/cloud-platform");
    f.put("requested_token_type", "urn:ietf:params:oauth:token-type:access_token");
    f.put("audience", audience);
    return f;
  }

  private static String encode(Map<String, String> form) {
    return form.entrySet().stream().map(e -> URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8) + "="
        + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8)).collect(Collectors.joining("&"));
  }

  private static RawCaller.Response post(String contentType, String body) throws Exception {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    try (RawCaller c = new RawCaller(stack.proxyUrl())) {
      return c.send("POST /_proxy/sts/v1/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: " + contentType
          + "\r\nContent-Length: " + bytes.length + "\r\nConnection: close\r\n\r\n"
          + new String(bytes, StandardCharsets.ISO_8859_1)).read(Duration.ofSeconds(20));
    }
  }

  private static RawCaller.Response exchange(Map<String, String> form) throws Exception {
    return post("application/x-www-form-urlencoded", encode(form));
  }

  /** A refusal in the OAuth shape, with nothing of the subject token in it; the error code. */
  private static String oauthError(RawCaller.Response r, int status, String subject) throws Exception {
    assertThat(r.status()).as(r.body()).isEqualTo(status);
    assertThat(r.header("content-type")).startsWith("application/json");
    assertThat(r.header("cache-control")).isEqualTo("no-store");
    JsonNode json = DevStack.JSON.readTree(r.body());
    assertThat(json.has("access_token")).isFalse();
    assertThat(json.path("error_description").asText()).isNotBlank();
    if (subject != null) {
      assertThat(r.body()).doesNotContain(subject);
    }
    return json.path("error").asText();
  }

  private static JsonNode auditRecord(RawCaller.Response r) throws Exception {
    List<JsonNode> records = stack.awaitAudit(List.of(r.requestId()));
    assertThat(records).hasSize(1);
    assertThat(records.get(0).toString()).doesNotContain("eyJ"); // no token of any kind in the record
    return records.get(0);
  }

  @Test
  void aJobTokenBuysAnAccessTokenInGoogleStsShapeThatThePolicyTreatsAsTheJob() throws Exception {
    String jobId = UUID.randomUUID().toString();
    long exp = Instant.now().plus(Duration.ofMinutes(20)).getEpochSecond();
    String jwt = stack.mint(Map.of("job_id", jobId, "exp", exp));
    RawCaller.Response r = exchange(form(jwt + "\n")); // a token file written with echo ends in a newline
    assertThat(r.status()).as(r.body()).isEqualTo(200);
    assertThat(r.header("cache-control")).isEqualTo("no-store");
    JsonNode json = DevStack.JSON.readTree(r.body());
    assertThat(json.path("issued_token_type").asText()).isEqualTo("urn:ietf:params:oauth:token-type:access_token");
    assertThat(json.path("token_type").asText()).isEqualTo("Bearer");
    assertThat(json.path("expires_in").asLong()).isPositive().isLessThanOrEqualTo(20 * 60);
    String access = json.path("access_token").asText();
    assertThat(access).isNotEqualTo(jwt);

    JsonNode record = auditRecord(r);
    assertThat(record.path("method").asText()).isEqualTo("proxy.tokenExchange");
    assertThat(record.path("reason").asText()).isEqualTo("served");
    assertThat(record.at("/caller/issuer").asText()).isEqualTo(DevMode.ISSUER_NAME);
    assertThat(record.at("/caller/claims/job_id").asText()).isEqualTo(jobId);

    HttpResponse<String> call = stack.post(stack.examplePath(), "Bearer " + access, DevStack.BODY);
    assertThat(call.statusCode()).as(call.body()).isEqualTo(200);
    JsonNode vertexRecord = stack.awaitAudit(List.of(call.headers().firstValue("x-vertex-proxy-request-id").orElseThrow()))
        .get(0);
    assertThat(vertexRecord.path("method").asText()).isEqualTo("publishers.models.generateContent");
    assertThat(vertexRecord.at("/caller/claims/job_id").asText()).isEqualTo(jobId);
    assertThat(vertexRecord.path("decision").asText()).isEqualTo("allow");
    assertThat(vertexRecord.at("/caller/issuer").asText()).isEqualTo(DevMode.ISSUER_NAME);
    assertThat(vertexRecord.at("/caller/claims/proxy_session/via").asText()).isEqualTo("exchange");

    // an access token is no subject: only the original credential is exchanged
    RawCaller.Response again = exchange(form(access));
    assertThat(oauthError(again, 400, access)).isEqualTo("invalid_grant");
  }

  @Test
  void aPersonsSessionBuysAnAccessTokenUntilTheSubjectIsRevoked() throws Exception {
    // a second replica's issuer: the same keys directory and revocation list as the running proxy
    ProxyConfig config = new ConfigLoader().load(Path.of((String) stack.dev.info().get("config_file")));
    SessionIssuer replica = SessionIssuer.load(config.sessions(), Clock.systemUTC(), config.identity().maxTokenBytes());
    String subject = "person-" + UUID.randomUUID();
    Map<String, Object> claims = new LinkedHashMap<>(Map.of("project_path", "acme/ml/forecasting",
        "namespace_path", "acme/ml", "ref_protected", "true", "sub", subject));
    String session = replica.mint(new Caller(DevMode.ISSUER_NAME, subject, claims), SessionIssuer.TokenUse.SESSION,
        "login", null).token();

    RawCaller.Response r = exchange(form(session));
    assertThat(r.status()).as(r.body()).isEqualTo(200);
    String access = DevStack.JSON.readTree(r.body()).path("access_token").asText();
    JsonNode record = auditRecord(r);
    assertThat(record.at("/caller/subject").asText()).isEqualTo(subject);
    assertThat(record.at("/caller/claims/proxy_session/via").asText()).isEqualTo("login");
    assertThat(stack.post(stack.examplePath(), "Bearer " + access, DevStack.BODY).statusCode()).isEqualTo(200);

    replica.revocations().revokeSubject(DevMode.ISSUER_NAME, subject);
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos(); // other replicas: within 2 s
    RawCaller.Response after = exchange(form(session));
    while (after.status() == 200 && System.nanoTime() < deadline) {
      Thread.sleep(50);
      after = exchange(form(session));
    }
    assertThat(oauthError(after, 400, session)).isEqualTo("invalid_grant");
    assertThat(auditRecord(after).path("reason").asText()).isEqualTo("session-revoked");
    HttpResponse<String> call = stack.post(stack.examplePath(), "Bearer " + access, DevStack.BODY);
    assertThat(call.statusCode()).as("the access token went with the subject").isEqualTo(401);
    assertThat(call.body()).contains("session-revoked");
  }

  @Test
  void onlyTheTokenExchangeGrantIsServed() throws Exception {
    String jwt = stack.mint(Map.of());
    Map<String, String> f = form(jwt);
    f.put("grant_type", "authorization_code");
    RawCaller.Response r = exchange(f);
    assertThat(oauthError(r, 400, jwt)).isEqualTo("unsupported_grant_type");
    assertThat(auditRecord(r).path("reason").asText()).isEqualTo("grant-invalid");
    f.put("grant_type", "");
    assertThat(oauthError(exchange(f), 400, jwt)).isEqualTo("invalid_request");
  }

  @Test
  void everyRequiredFieldIsRequired() throws Exception {
    String jwt = stack.mint(Map.of());
    for (String field : List.of("grant_type", "subject_token", "subject_token_type", "audience")) {
      Map<String, String> f = form(jwt);
      f.remove(field);
      RawCaller.Response r = exchange(f);
      assertThat(oauthError(r, 400, jwt)).as(field).isEqualTo("invalid_request");
      assertThat(DevStack.JSON.readTree(r.body()).path("error_description").asText()).contains(field);
    }
    Map<String, String> saml = form(jwt);
    saml.put("subject_token_type", "urn:ietf:params:oauth:token-type:saml2");
    assertThat(oauthError(exchange(saml), 400, jwt)).isEqualTo("invalid_request");
    Map<String, String> refresh = form(jwt);
    refresh.put("requested_token_type", "urn:ietf:params:oauth:token-type:refresh_token");
    assertThat(oauthError(exchange(refresh), 400, jwt)).isEqualTo("invalid_request");
    Map<String, String> actor = form(jwt);
    actor.put("actor_token", jwt);
    assertThat(oauthError(exchange(actor), 400, jwt)).isEqualTo("invalid_request");
    Map<String, String> extra = form(jwt);
    extra.put("options", "{\"userProject\":\"x\"}"); // unknown parameters are ignored (RFC 6749 §3.2)
    assertThat(exchange(extra).status()).isEqualTo(200);
  }

  @Test
  void aRepeatedFieldIsRefusedNotGuessedAt() throws Exception {
    String jwt = stack.mint(Map.of());
    String other = stack.mint(Map.of("project_path", "acme/other"));
    for (String repeated : List.of("subject_token=" + other, "audience=https%3A%2F%2Fevil.example", "scope=x",
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange")) {
      RawCaller.Response r = post("application/x-www-form-urlencoded", encode(form(jwt)) + "&" + repeated);
      assertThat(oauthError(r, 400, jwt)).as(repeated).isEqualTo("invalid_request");
      assertThat(r.body()).contains("repeated");
    }
  }

  @Test
  void aJsonBodyIsNotAForm() throws Exception {
    String jwt = stack.mint(Map.of());
    RawCaller.Response r = post("application/json", DevStack.JSON.writeValueAsString(form(jwt)));
    assertThat(oauthError(r, 400, jwt)).isEqualTo("invalid_request");
    assertThat(r.body()).contains("application/x-www-form-urlencoded");
    RawCaller.Response mislabelled = post("application/x-www-form-urlencoded", "subject_token=%zz&audience=" + audience);
    assertThat(oauthError(mislabelled, 400, null)).isEqualTo("invalid_request");
  }

  @Test
  void anOversizedBodyIsRefusedBeforeItIsRead() throws Exception {
    Map<String, String> f = form(stack.mint(Map.of()));
    f.put("padding", "x".repeat(70 * 1024));
    RawCaller.Response r = exchange(f);
    assertThat(r.status()).isEqualTo(413);
    assertThat(r.body()).doesNotContain("access_token");
  }

  @Test
  void aTokenForAnotherAudienceOrPastItsExpiryBuysNothing() throws Exception {
    String otherAudience = stack.mint(Map.of("aud", "https://another-service.example"));
    RawCaller.Response r = exchange(form(otherAudience));
    assertThat(oauthError(r, 400, otherAudience)).isEqualTo("invalid_grant");
    assertThat(r.body()).contains("audience-mismatch");
    assertThat(auditRecord(r).path("reason").asText()).isEqualTo("audience-mismatch");

    long past = Instant.now().minus(Duration.ofHours(1)).getEpochSecond();
    String expired = stack.mint(Map.of("exp", past, "iat", past - 600, "nbf", past - 600));
    RawCaller.Response e = exchange(form(expired));
    assertThat(oauthError(e, 400, expired)).isEqualTo("invalid_grant");
    assertThat(auditRecord(e).path("reason").asText()).isEqualTo("token-expired");

    RawCaller.Response garbage = exchange(form("not-a-jwt"));
    assertThat(oauthError(garbage, 400, null)).isEqualTo("invalid_grant");
  }

  @Test
  void aCredentialsFileForAnotherProxyIsRefused() throws Exception {
    String jwt = stack.mint(Map.of());
    Map<String, String> f = form(jwt);
    f.put("audience", "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/q");
    RawCaller.Response r = exchange(f);
    assertThat(oauthError(r, 400, jwt)).isEqualTo("invalid_target");
    assertThat(r.body()).contains(audience);
  }

  @Test
  void onlyPostIsServed() throws Exception {
    try (RawCaller c = new RawCaller(stack.proxyUrl())) {
      RawCaller.Response r = c.send("GET /_proxy/sts/v1/token HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
          .read(Duration.ofSeconds(20));
      assertThat(r.status()).isEqualTo(405);
      assertThat(r.header("allow")).isEqualTo("POST");
    }
  }
}

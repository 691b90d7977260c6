package dev.vertexproxy.proxy.admission;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.api.client.http.javanet.NetHttpTransport;
import dev.vertexproxy.policy.Caller;
import dev.vertexproxy.policy.Decision;
import dev.vertexproxy.policy.Policy;
import dev.vertexproxy.policy.catalog.MethodCatalog;
import dev.vertexproxy.policy.route.Router;
import dev.vertexproxy.proxy.admin.ProxyMetrics;
import dev.vertexproxy.proxy.config.CredentialsConfig;
import dev.vertexproxy.proxy.config.IdentityConfig;
import dev.vertexproxy.proxy.config.IssuerConfig;
import dev.vertexproxy.proxy.credentials.GoogleTokenProvider;
import dev.vertexproxy.proxy.identity.TokenVerifier;
import dev.vertexproxy.proxy.reason.Reason;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each admission step alone, as a plain object: what it refuses, with which reason, and what it adds. */
class StepsTest {
  private static final String GEMINI =
      "/v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.0-flash:generateContent";

  @TempDir
  Path tmp;

  private static Admission post(String uri, HttpHeaders headers, long bodyBytes) {
    return new Admission(new RequestHead("POST", uri, headers, null, false, bodyBytes, false));
  }

  private static Verdict now(AdmissionStep step, Admission a) {
    return step.decide(a).toCompletableFuture().getNow(null);
  }

  private static Verdict await(AdmissionStep step, Admission a) throws Exception {
    return step.decide(a).toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void theGuardRefusesWhatTheDecoderCouldNotReadAndWhatWouldStealTheFramingOrTheMethod() {
    AtomicBoolean auditDown = new AtomicBoolean();
    GuardStep guard = new GuardStep(100, auditDown::get);
    HttpHeaders none = new DefaultHttpHeaders();
    assertThat(guard.check(new RequestHead("POST", "/x", none, new TooLongHttpLineException("x"), false, -1, false)).reason())
        .isEqualTo(Reason.URI_TOO_LONG);
    assertThat(guard.check(new RequestHead("POST", "/x", none, new TooLongHttpHeaderException("x"), false, -1, false)).reason())
        .isEqualTo(Reason.HEADERS_TOO_LARGE);
    assertThat(guard.check(new RequestHead("POST", "/x", none, new DecoderException("x"), false, -1, false)).reason())
        .isEqualTo(Reason.REQUEST_MALFORMED);
    assertThat(guard.check(new RequestHead("POST", "/x", new DefaultHttpHeaders().add("Expect", "nothing"),
        null, false, 0, false)).reason()).isEqualTo(Reason.EXPECTATION_UNSUPPORTED);
    assertThat(guard.check(new RequestHead("POST", "/x", new DefaultHttpHeaders().add("Connection", "close, Content-Length"),
        null, false, 2, false)).reason()).isEqualTo(Reason.CONNECTION_HEADER_INVALID);
    assertThat(guard.check(new RequestHead("POST", "/x", new DefaultHttpHeaders().add("X-HTTP-Method-Override", "DELETE"),
        null, false, 2, false)).reason()).isEqualTo(Reason.METHOD_OVERRIDE_NOT_ALLOWED);
    assertThat(guard.check(new RequestHead("POST", "/x", none, null, false, 101, false)).reason())
        .isEqualTo(Reason.BODY_TOO_LARGE);
    assertThat(now(guard, post("/x", none, 100)).proceeds()).isTrue();
    auditDown.set(true);
    assertThat(now(guard, post("/x", none, 100)).reason()).isEqualTo(Reason.AUDIT_UNAVAILABLE);
  }

  @Test
  void theRouteStepNamesTheMethodOrRefusesAndThenKeepsOnlyQueryNames() {
    RouteStep route = new RouteStep(new Router(MethodCatalog.bundled()));
    Admission ok = post(GEMINI + "?alt=sse", new DefaultHttpHeaders(), 2);
    assertThat(now(route, ok).proceeds()).isTrue();
    assertThat(ok.route().method().name()).isEqualTo("publishers.models.generateContent");
    assertThat(ok.queryRefused()).isFalse();

    Admission secret = post(GEMINI + "?key=AIzaSECRET", new DefaultHttpHeaders(), 2);
    Verdict v = now(route, secret);
    assertThat(v.reason()).isEqualTo(Reason.QUERY_NOT_ALLOWED);
    assertThat(v.message()).doesNotContain("AIzaSECRET");
    assertThat(secret.queryRefused()).isTrue();
    assertThat(now(route, post("/v1/projects/p/locations/l/nothing", new DefaultHttpHeaders(), 0)).reason())
        .isEqualTo(Reason.ROUTE_NOT_FOUND);
    assertThat(now(route, post(GEMINI.replace("us-central1", "US_CENTRAL1"), new DefaultHttpHeaders(), 0)).reason())
        .isIn(Reason.LOCATION_INVALID, Reason.PATH_NOT_CANONICAL);
  }

  @Test
  void theIdentityStepTakesProxyAuthorizationFirstAndRefusesWhatIsNotABearerToken() throws Exception {
    TokenVerifier verifier = TokenVerifier.create(IdentityConfig.of(List.of(new IssuerConfig("gitlab",
        URI.create("https://127.0.0.1:1"), List.of("aud"), List.of("RS256"), null))), Clock.systemUTC(), Runnable::run);
    try {
      IdentityStep identity = new IdentityStep(verifier);
      assertThat(now(identity, post(GEMINI, new DefaultHttpHeaders(), 0)).reason()).isEqualTo(Reason.TOKEN_MISSING);
      assertThat(now(identity, post(GEMINI, new DefaultHttpHeaders().add("Authorization", "Basic YTpi"), 0)).reason())
          .isEqualTo(Reason.TOKEN_MALFORMED);
      // Proxy-Authorization wins: its bad scheme is what is judged, not the Authorization beside it
      assertThat(now(identity, post(GEMINI, new DefaultHttpHeaders().add("Proxy-Authorization", "Basic YTpi")
          .add("Authorization", "Bearer x.y.z"), 0)).reason()).isEqualTo(Reason.TOKEN_MALFORMED);
      Admission garbage = post(GEMINI, new DefaultHttpHeaders().add("Authorization", "Bearer not-a-jwt"), 0);
      assertThat(await(identity, garbage).reason()).isEqualTo(Reason.TOKEN_MALFORMED);
      assertThat(garbage.caller()).isNull();
    } finally {
      verifier.close();
    }
  }

  @Test
  void thePolicyStepRecordsTheDecisionEitherWayAndRefusesWithThePolicysReason() throws Exception {
    Policy policy = Policy.parse("""
        version: 1
        rules:
          - name: gemini
            effect: allow
            identity: { issuer: gitlab, claims: { project_path: acme/ml } }
            methods: [publishers.models.generateContent]
            service_account: sa@p.iam.gserviceaccount.com
        """, "policy.yaml", MethodCatalog.bundled(), Set.of("gitlab"));
    PolicyStep step = new PolicyStep(() -> policy);
    RouteStep route = new RouteStep(new Router(MethodCatalog.bundled()));

    Admission allowed = post(GEMINI, new DefaultHttpHeaders(), 0);
    now(route, allowed);
    allowed.caller(new Caller("gitlab", "s", Map.of("project_path", "acme/ml")), "jwt");
    assertThat(now(step, allowed).proceeds()).isTrue();
    assertThat(allowed.decision()).extracting(Decision::allowed, Decision::rule, Decision::serviceAccount)
        .containsExactly(true, "gemini", "sa@p.iam.gserviceaccount.com");
    assertThat(allowed.policyVersion()).isEqualTo(policy.version());

    Admission denied = post(GEMINI, new DefaultHttpHeaders(), 0);
    now(route, denied);
    denied.caller(new Caller("gitlab", "s", Map.of("project_path", "acme/web")), "jwt");
    Verdict v = now(step, denied);
    assertThat(v.reason()).isEqualTo(Reason.IDENTITY_NOT_MATCHED);
    assertThat(denied.decision().allowed()).isFalse();
    assertThat(denied.toString()).doesNotContain("jwt");
  }

  @Test
  void theCredentialsStepTurnsAFailedFetchIntoOurUnavailabilityNeverADenial() throws Exception {
    Path source = tmp.resolve("external-account.json");
    Files.writeString(source, "{\"type\":\"external_account\",\"audience\":\"//iam.googleapis.com/projects/0/locations/global/"
        + "workloadIdentityPools/p/providers/q\",\"subject_token_type\":\"urn:ietf:params:oauth:token-type:jwt\","
        + "\"token_url\":\"https://127.0.0.1:1/v1/token\",\"credential_source\":{\"file\":\"/nonexistent\"}}");
    ProxyMetrics metrics = new ProxyMetrics();
    try (metrics; GoogleTokenProvider tokens = GoogleTokenProvider.builder().config(CredentialsConfig.impersonate(source))
        .impersonation(NetHttpTransport::new).clock(Clock.systemUTC()).executor(Runnable::run)
        .events(metrics.googleTokens()).build()) {
      Admission a = post(GEMINI, new DefaultHttpHeaders(), 0);
      a.decision(new Decision(true, "gemini", "allowed", "sa@p.iam.gserviceaccount.com", "allowed"), "v1");
      Verdict v = await(new CredentialsStep(tokens), a);
      assertThat(v.reason()).isEqualTo(Reason.CREDENTIALS_UNAVAILABLE);
      assertThat(v.reason().kind()).isEqualTo(Reason.Kind.UNAVAILABLE);
      assertThat(a.googleToken()).isNull();
      assertThat(metrics.scrape()).contains("vertex_proxy_google_token_fetches_total{outcome=\"failure\"} 1.0")
          .contains("vertex_proxy_google_token_fetches_total{outcome=\"success\"} 0.0")
          .contains("vertex_proxy_google_token_cache_misses_total 1.0")
          .contains("vertex_proxy_google_token_cache_hits_total 0.0");
    }
  }
}

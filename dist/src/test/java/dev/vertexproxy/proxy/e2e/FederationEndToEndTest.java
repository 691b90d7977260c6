package dev.vertexproxy.proxy.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.AppenderBase;
import com.fasterxml.jackson.databind.JsonNode;
import dev.vertexproxy.dev.DevMode;
import dev.vertexproxy.emulators.VertexEmulator;
import dev.vertexproxy.proxy.audit.AuditVerifier;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Per-caller federation on a running dev stack with {@code credentials.mode: sts}: the CI job's own token goes to the
 * Google emulator's STS (which checks it against the dev workload identity provider as Google does), Vertex sees the
 * federated caller, and the audit trail's {@code google_principal} names the identity the call ran as at Google.
 */
class FederationEndToEndTest {
  private static final String SUBJECT = "project_path:acme/ml/forecasting:ref_type:branch:ref:main";
  private static final String FEDERATED = "principal://iam.googleapis.com/projects/123456789012/locations/global/"
      + "workloadIdentityPools/vertex-proxy-dev/subject/" + SUBJECT;
  private static final String CALLER_SA = "vertex-caller@dev-project.iam.gserviceaccount.com";
  private static final String TRAINER_SA = "vertex-trainer@dev-project.iam.gserviceaccount.com";
  private static final String COUNT_TOKENS =
      "/v1/projects/dev-project/locations/us-central1/publishers/google/models/gemini-2.5-flash:countTokens";
  private static final String PREDICT = "/v1/projects/dev-project/locations/us-central1/endpoints/42:predict";
  private static final String POLICY = """
      version: 1
      rules:
        - name: forecasting-federated
          effect: allow
          identity: { issuer: gitlab, claims: { project_path: acme/ml/forecasting } }
          methods: [publishers.models.generateContent]
          credentials: { mode: sts }
        - name: forecasting-federated-as-sa
          effect: allow
          identity: { issuer: gitlab, claims: { project_path: acme/ml/forecasting } }
          methods: [publishers.models.countTokens]
          service_account: %s
        - name: forecasting-impersonated
          effect: allow
          identity: { issuer: gitlab, claims: { project_path: acme/ml/forecasting } }
          methods: [endpoints.predict]
          credentials: { mode: impersonate }
          service_account: %s
      """.formatted(CALLER_SA, TRAINER_SA);

  @TempDir
  Path tmp;

  @Test
  void googleSeesTheCallerAndTheAuditTrailSaysAsWhomEachCallRan() throws Exception {
    DevStack stack = DevStack.start(tmp, "credentials: { mode: sts }\n", POLICY, null);
    try {
      stack.awaitReady();
      String jwt = stack.mint(Map.of("sub", SUBJECT));
      String auth = "Bearer " + jwt;
      String direct = id(stack.post(stack.examplePath(), auth, DevStack.BODY), 200);
      String viaAccount = id(stack.post(COUNT_TOKENS, auth, DevStack.BODY), 200);
      String impersonated = id(stack.post(PREDICT, auth, "{\"instances\":[{}]}"), 200);

      List<VertexEmulator.SeenRequest> seen = stack.dev.vertex().seen();
      assertThat(seen).extracting(VertexEmulator.SeenRequest::principal)
          .containsExactly(FEDERATED, CALLER_SA, TRAINER_SA);
      assertThat(seen).as("the job's own token went to STS, never to Vertex")
          .allSatisfy(r -> assertThat(r.headers().toString()).doesNotContain(jwt));
      assertThat(stack.dev.google().iamCallers(CALLER_SA)).as("the federated job impersonated the account")
          .containsExactly(FEDERATED);
      assertThat(stack.dev.google().iamCallers(TRAINER_SA)).singleElement().asString()
          .as("the proxy's own identity impersonated this one").doesNotContain(SUBJECT);
      assertThat(stack.dev.google().stsCalls(DevMode.WIF_AUDIENCE)).as("two exchanges of the job's token (one per"
          + " cache key), one of the proxy's own").isEqualTo(3);

      Map<String, JsonNode> records = byId(stack.awaitAudit(List.of(direct, viaAccount, impersonated)));
      assertThat(records.get(direct).path("google_principal").asText()).isEqualTo(FEDERATED);
      assertThat(records.get(viaAccount).path("google_principal").asText()).isEqualTo(CALLER_SA);
      assertThat(records.get(impersonated).path("google_principal").asText()).isEqualTo(TRAINER_SA);
      assertThat(records.get(direct).path("rule").asText()).isEqualTo("forecasting-federated");

      // the same job again: the federated token is cached under its own token, no new exchange
      id(stack.post(stack.examplePath(), auth, DevStack.BODY), 200);
      assertThat(stack.dev.google().stsCalls(DevMode.WIF_AUDIENCE)).isEqualTo(3);
    } finally {
      stack.dev.close();
    }
    assertThat(AuditVerifier.verify(stack.auditDir()).ok()).isTrue();
  }

  @Test
  void aProviderThatRefusesTheAudienceIsOurUnavailabilityNamedInTheLogNotAGoogleError() throws Exception {
    DevStack stack = DevStack.start(tmp, "credentials: { mode: sts }\n", POLICY, null);
    try {
      stack.awaitReady();
      // the provider now allows only its own name as audience: the CI token's audience (the proxy's) is refused
      stack.dev.google().registerProvider(DevMode.WIF_AUDIENCE, Set.of(DevMode.WIF_AUDIENCE), Map.of());
      HttpResponse<String> refused = stack.post(stack.examplePath(), "Bearer " + stack.mint(Map.of()), DevStack.BODY);
      assertThat(refused.statusCode()).isEqualTo(503);
      JsonNode error = DevStack.JSON.readTree(refused.body()).path("error");
      assertThat(error.path("status").asText()).isEqualTo("UNAVAILABLE");
      assertThat(refused.body()).contains("credentials-unavailable").doesNotContain("invalid_grant")
          .doesNotContain("ID Token");
      JsonNode record = stack.awaitAudit(List.of(id(refused, 503))).get(0);
      assertThat(record.path("outcome").asText()).isEqualTo("unavailable");
      assertThat(record.path("decision").asText()).isEqualTo("allow");
      assertThat(record.has("google_principal")).isFalse();
      assertThat(stack.dev.vertex().seen()).isEmpty();
    } finally {
      stack.dev.close();
    }
  }

  @Test
  void noGoogleTokenReachesALogLineARecordAMetricOrTheCaller() throws Exception {
    List<String> logged = new CopyOnWriteArrayList<>();
    Logger root = ((LoggerContext) LoggerFactory.getILoggerFactory()).getLogger(Logger.ROOT_LOGGER_NAME);
    AppenderBase<ILoggingEvent> capture = new AppenderBase<>() {
      @Override
      protected void append(ILoggingEvent e) {
        logged.add(e.getFormattedMessage() + (e.getThrowableProxy() == null ? ""
            : " " + ThrowableProxyUtil.asString(e.getThrowableProxy())));
      }
    };
    capture.setContext(root.getLoggerContext());
    capture.start();
    root.addAppender(capture);
    DevStack stack = DevStack.start(tmp, "credentials: { mode: sts }\n", POLICY, null);
    List<String> answers = new ArrayList<>();
    try {
      stack.awaitReady();
      String auth = "Bearer " + stack.mint(Map.of("sub", SUBJECT));
      for (HttpResponse<String> r : List.of(stack.post(stack.examplePath(), auth, DevStack.BODY),
          stack.post(COUNT_TOKENS, auth, DevStack.BODY), stack.post(PREDICT, auth, "{\"instances\":[{}]}"),
          stack.post(stack.examplePath() + "?alt=sse", auth, DevStack.BODY))) {
        answers.add(r.headers().map() + "\n" + r.body());
      }
      stack.dev.google().failNext(2, 403); // refusals too: Google's answer goes to the log, never a token
      answers.add(stack.post(stack.examplePath(), "Bearer " + stack.mint(Map.of("sub", "other")), DevStack.BODY).body());
      answers.add(stack.post(PREDICT, "Bearer " + stack.mint(Map.of("sub", "third")), "{}").body());
      String admin = (String) stack.dev.info().get("admin_url");
      answers.add(stack.http.send(HttpRequest.newBuilder(URI.create(admin + "/metrics")).build(),
          HttpResponse.BodyHandlers.ofString()).body());
    } finally {
      stack.dev.close();
      root.detachAppender(capture);
      capture.stop();
    }
    Set<String> tokens = stack.dev.google().issuedAccessTokens();
    assertThat(tokens).as("Google tokens were issued: the check below has something to find").hasSizeGreaterThanOrEqualTo(4);
    StringBuilder trail = new StringBuilder();
    try (Stream<Path> files = Files.walk(stack.auditDir())) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        trail.append(Files.readString(f));
      }
    }
    assertThat(trail).as("audit records").contains("google_principal");
    assertThat(logged).as("log lines").isNotEmpty();
    for (String token : tokens) {
      assertThat(trail.toString()).as("audit trail").doesNotContain(token);
      assertThat(logged).as("log lines").noneMatch(line -> line.contains(token));
      assertThat(answers).as("responses and the metrics scrape").noneMatch(a -> a.contains(token));
    }
  }

  private static String id(HttpResponse<String> r, int status) {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
    return r.headers().firstValue("x-vertex-proxy-request-id").orElseThrow();
  }

  private static Map<String, JsonNode> byId(List<JsonNode> records) {
    return records.stream().collect(Collectors.toMap(r -> r.path("request_id").asText(), r -> r));
  }
}

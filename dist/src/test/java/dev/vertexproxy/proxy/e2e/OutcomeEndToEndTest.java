package dev.vertexproxy.proxy.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vertexproxy.proxy.audit.AuditVerifier;
import dev.vertexproxy.dev.DevMode;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The record's {@code outcome} beside its {@code decision}, through the real proxy: what happened is never mistaken for
 * what the policy decided. An STS or IAM outage, or an unreachable Vertex, after the policy allowed the call is
 * {@code decision: allow, outcome: unavailable} — never a denial.
 */
class OutcomeEndToEndTest {
  @TempDir
  Path tmp;

  private DevStack start(String extraConfig) throws Exception {
    return DevStack.start(tmp, extraConfig);
  }

  private static JsonNode recordOf(DevStack stack, HttpResponse<?> r) throws Exception {
    String id = r.headers().firstValue("x-vertex-proxy-request-id").orElseThrow();
    return stack.awaitAudit(List.of(id)).get(0);
  }

  @Test
  void aGoogleTokenThatCannotBeHadKeepsTheAllowAndIsUnavailable() throws Exception {
    DevStack stack = start(null);
    try {
      stack.dev.google().refuse(DevMode.SERVICE_ACCOUNT);
      HttpResponse<String> r = stack.post(stack.examplePath(), "Bearer " + stack.mint(Map.of()), DevStack.BODY);
      assertThat(r.statusCode()).isEqualTo(503);
      JsonNode record = recordOf(stack, r);
      assertThat(record.get("decision").asText()).isEqualTo("allow");
      assertThat(record.get("outcome").asText()).isEqualTo("unavailable");
      assertThat(record.get("reason").asText()).isEqualTo("credentials-unavailable");
      assertThat(record.get("rule").asText()).isEqualTo("forecasting-ci-gemini");
      assertThat(stack.dev.vertex().seen()).isEmpty();
    } finally {
      stack.dev.close();
    }
  }

  @Test
  void anUnreachableVertexKeepsTheAllowAndIsUnavailable() throws Exception {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }
    DevStack stack = start("upstream: { url_template: 'http://127.0.0.1:" + closedPort + "' }\n");
    try {
      HttpResponse<String> r = stack.post(stack.examplePath(), "Bearer " + stack.mint(Map.of()), DevStack.BODY);
      assertThat(r.statusCode()).isEqualTo(502);
      JsonNode record = recordOf(stack, r);
      assertThat(record.get("decision").asText()).isEqualTo("allow");
      assertThat(record.get("outcome").asText()).isEqualTo("unavailable");
      assertThat(record.get("reason").asText()).isEqualTo("upstream-unreachable");
    } finally {
      stack.dev.close();
    }
  }

  @Test
  void allowedRefusedAndCutExchangesSayWhatHappened() throws Exception {
    DevStack stack = start("upstream: { response_timeout: 500ms }\n");
    try {
      HttpResponse<String> allowed = stack.post(stack.examplePath(), "Bearer " + stack.mint(Map.of()), DevStack.BODY);
      HttpResponse<String> denied = stack.post(stack.examplePath(), "Bearer " + stack.mint(Map.of("project_path", "acme/other")),
          DevStack.BODY);
      HttpResponse<String> noToken = stack.post(stack.examplePath(), null, DevStack.BODY);
      HttpResponse<String> notFound = stack.get("/v1/projects/dev-project/locations/us-central1/nothing", null);
      assertThat(List.of(allowed.statusCode(), denied.statusCode(), noToken.statusCode(), notFound.statusCode()))
          .containsExactly(200, 403, 401, 404);

      // Vertex goes silent mid-stream: the 200 has started, so the exchange can only be cut
      stack.dev.vertex().streamPacing(Duration.ofSeconds(2), 3);
      String stream = stack.examplePath().replace(":generateContent", ":streamGenerateContent?alt=sse");
      HttpResponse<Stream<String>> cut = stack.http.send(HttpRequest.newBuilder(URI.create(stack.proxyUrl() + stream))
          .header("Authorization", "Bearer " + stack.mint(Map.of())).POST(HttpRequest.BodyPublishers.ofString(DevStack.BODY))
          .build(), HttpResponse.BodyHandlers.ofLines());
      try {
        cut.body().forEach(line -> { });
      } catch (RuntimeException expected) {
        // the proxy cut the connection mid-stream
      }

      assertDecisionAndOutcome(recordOf(stack, allowed), "allow", "allowed", "allowed");
      assertDecisionAndOutcome(recordOf(stack, denied), "deny", "refused", "identity-not-matched");
      assertDecisionAndOutcome(recordOf(stack, noToken), "deny", "refused", "token-missing");
      assertDecisionAndOutcome(recordOf(stack, notFound), "deny", "refused", "route-not-found");
      assertDecisionAndOutcome(recordOf(stack, cut), "allow", "failed", "upstream-timeout");
    } finally {
      stack.dev.close();
    }
    assertThat(AuditVerifier.verify(stack.auditDir()).ok()).isTrue();
  }

  private static void assertDecisionAndOutcome(JsonNode record, String decision, String outcome, String reason) {
    assertThat(record.get("decision").asText()).as("decision").isEqualTo(decision);
    assertThat(record.get("outcome").asText()).as("outcome").isEqualTo(outcome);
    assertThat(record.get("reason").asText()).as("reason").isEqualTo(reason);
  }
}

package dev.vertexproxy.proxy.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code policy.explain_denials} over real HTTP calls: what the 403 of a claim mismatch and of a deny rule tells the
 * caller in each mode, and that the audit record keeps the policy's full explanation in every mode. The sample policy's
 * closest rule for a foreign project is {@code forecasting-ci-gemini}; {@code user_login: mallory} meets the deny rule
 * {@code no-blocked-users}.
 */
class ExplainDenialsEndToEndTest {
  /** What the policy holds and {@code reason} and {@code none} must never tell: rule names, claims, values, projects. */
  private static final List<String> POLICY_STRUCTURE = List.of("forecasting-ci-gemini", "no-blocked-users", "project_path",
      "user_login", "acme", "mallory", "dev-project", "ref_protected", "gitlab", "service_account");

  @TempDir
  Path tmp;

  private record Denials(HttpResponse<String> claimMismatch, HttpResponse<String> denyRule, List<JsonNode> records) {
  }

  private Denials deny(String mode) throws Exception {
    DevStack stack = DevStack.start(tmp, mode == null ? null : "policy: { explain_denials: " + mode + " }\n");
    try {
      HttpResponse<String> mismatch = stack.post(stack.examplePath(),
          "Bearer " + stack.mint(Map.of("project_path", "acme/other")), DevStack.BODY);
      HttpResponse<String> rule = stack.post(stack.examplePath(),
          "Bearer " + stack.mint(Map.of("user_login", "mallory")), DevStack.BODY);
      List<JsonNode> records = stack.awaitAudit(List.of(id(mismatch), id(rule)));
      return new Denials(mismatch, rule, records);
    } finally {
      stack.dev.close();
    }
  }

  @Test
  void fullNamesTheClosestRuleAndTheDenyRule() throws Exception {
    Denials d = deny("full");
    assertDenied(d.claimMismatch(), "identity-not-matched");
    assertDenied(d.denyRule(), "denied-by-rule");
    assertThat(message(d.claimMismatch())).contains("forecasting-ci-gemini").contains("project_path");
    assertThat(message(d.denyRule())).contains("no-blocked-users");
    assertFullExplanationAudited(d);
  }

  @ParameterizedTest
  @ValueSource(strings = {"reason", "default"})
  void reasonGivesAFixedSentenceAndTheCodeAndIsTheDefault(String mode) throws Exception {
    Denials d = deny(mode.equals("default") ? null : mode);
    assertDenied(d.claimMismatch(), "identity-not-matched");
    assertDenied(d.denyRule(), "denied-by-rule");
    assertThat(message(d.claimMismatch()))
        .isEqualTo("the policy grants nothing to this caller (reason: identity-not-matched)");
    assertThat(message(d.denyRule()))
        .isEqualTo("the policy denies publishers.models.generateContent to this caller (reason: denied-by-rule)");
    for (HttpResponse<String> r : List.of(d.claimMismatch(), d.denyRule())) {
      assertThat(message(r)).doesNotContain(POLICY_STRUCTURE.toArray(String[]::new));
    }
    assertFullExplanationAudited(d);
  }

  @Test
  void noneSaysOnlyThatThePolicyDeniedItAndTheRequestId() throws Exception {
    Denials d = deny("none");
    for (HttpResponse<String> r : List.of(d.claimMismatch(), d.denyRule())) {
      assertThat(r.statusCode()).isEqualTo(403);
      assertThat(message(r)).isEqualTo("Permission denied by the proxy's policy.");
      JsonNode error = DevStack.JSON.readTree(r.body()).get("error");
      assertThat(error.get("status").asText()).isEqualTo("PERMISSION_DENIED");
      assertThat(error.at("/details/0/metadata/request_id").asText()).isEqualTo(id(r));
      assertThat(r.body()).doesNotContain(POLICY_STRUCTURE.toArray(String[]::new));
    }
    assertFullExplanationAudited(d);
  }

  private static void assertDenied(HttpResponse<String> r, String reason) throws Exception {
    assertThat(r.statusCode()).isEqualTo(403);
    JsonNode error = DevStack.JSON.readTree(r.body()).get("error");
    assertThat(error.get("status").asText()).isEqualTo("PERMISSION_DENIED");
    assertThat(error.at("/details/0/reason").asText()).isEqualTo(reason);
  }

  /** Whatever the caller saw, the trail has the policy's own explanation: the closest rule, the deny rule. */
  private static void assertFullExplanationAudited(Denials d) throws Exception {
    JsonNode mismatch = record(d, id(d.claimMismatch()));
    JsonNode rule = record(d, id(d.denyRule()));
    assertThat(mismatch.get("explanation").asText()).contains("forecasting-ci-gemini").contains("project_path");
    assertThat(rule.get("explanation").asText()).contains("no-blocked-users");
    assertThat(rule.get("rule").asText()).isEqualTo("no-blocked-users");
  }

  private static JsonNode record(Denials d, String requestId) {
    return d.records().stream().filter(r -> r.get("request_id").asText().equals(requestId)).findFirst().orElseThrow();
  }

  private static String message(HttpResponse<String> r) throws Exception {
    return DevStack.JSON.readTree(r.body()).at("/error/message").asText();
  }

  private static String id(HttpResponse<String> r) {
    return r.headers().firstValue("x-vertex-proxy-request-id").orElseThrow();
  }
}

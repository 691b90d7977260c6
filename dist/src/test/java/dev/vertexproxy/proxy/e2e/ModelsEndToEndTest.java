package dev.vertexproxy.proxy.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vertexproxy.proxy.audit.AuditVerifier;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A {@code models:} rule over real HTTP through the proxy to the Vertex emulator: the listed model is forwarded, another
 * model of the same method is refused before Vertex sees it, in Google's error shape, and the audit record names the
 * refused model and why.
 */
class ModelsEndToEndTest {
  private static final String POLICY = """
      version: 1
      rules:
        - name: ci-flash-only
          effect: allow
          identity:
            issuer: gitlab
            claims: { project_path: acme/ml/forecasting, ref_protected: "true" }
          methods: [publishers.models.generateContent]
          resources: { projects: [dev-project], locations: [us-central1] }
          models: [gemini-2.5-flash]
          service_account: vertex-caller@dev-project.iam.gserviceaccount.com
      """;
  private static final String MODELS = "/v1/projects/dev-project/locations/us-central1/publishers/google/models/";

  @TempDir
  Path tmp;

  @Test
  void theListedModelIsForwardedAndAnotherIsRefusedNamingTheModel() throws Exception {
    DevStack stack = DevStack.start(tmp, null, POLICY, null);
    try {
      String token = "Bearer " + stack.mint(Map.of());
      HttpResponse<String> flash = stack.post(MODELS + "gemini-2.5-flash:generateContent", token, DevStack.BODY);
      HttpResponse<String> pro = stack.post(MODELS + "gemini-2.5-pro:generateContent", token, DevStack.BODY);

      assertThat(flash.statusCode()).as(flash.body()).isEqualTo(200);
      assertThat(pro.statusCode()).as(pro.body()).isEqualTo(403);
      JsonNode error = DevStack.JSON.readTree(pro.body()).get("error");
      assertThat(error.get("status").asText()).isEqualTo("PERMISSION_DENIED");
      // explain_denials: reason (the default) names the model the caller asked for, and no rule
      assertThat(error.get("message").asText()).isEqualTo("the policy does not grant model gemini-2.5-pro to this caller"
          + " for publishers.models.generateContent (reason: model-not-granted)");
      assertThat(stack.dev.vertex().seen()).hasSize(1);

      JsonNode allowed = record(stack, flash);
      assertThat(allowed.get("reason").asText()).isEqualTo("allowed");
      assertThat(allowed.get("rule").asText()).isEqualTo("ci-flash-only");
      assertThat(allowed.get("model").asText()).isEqualTo("gemini-2.5-flash");
      JsonNode refused = record(stack, pro);
      assertThat(refused.get("decision").asText()).isEqualTo("deny");
      assertThat(refused.get("reason").asText()).isEqualTo("model-not-granted");
      assertThat(refused.get("model").asText()).isEqualTo("gemini-2.5-pro");
      assertThat(refused.get("explanation").asText()).contains("model gemini-2.5-pro is not granted")
          .contains("closest rule: ci-flash-only");
    } finally {
      stack.dev.close();
    }
    assertThat(AuditVerifier.verify(stack.auditDir()).ok()).isTrue();
  }

  private static JsonNode record(DevStack stack, HttpResponse<?> r) throws Exception {
    String id = r.headers().firstValue("x-vertex-proxy-request-id").orElseThrow();
    return stack.awaitAudit(List.of(id)).get(0);
  }
}

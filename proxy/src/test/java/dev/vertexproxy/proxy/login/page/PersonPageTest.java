package dev.vertexproxy.proxy.login.page;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vertexproxy.policy.Caller;
import dev.vertexproxy.policy.Policy;
import dev.vertexproxy.policy.catalog.MethodCatalog;
import dev.vertexproxy.proxy.audit.AuditEvent;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PersonPageTest {
  private static final Instant NOW = Instant.parse("2026-03-01T10:00:00Z");
  private static final String POLICY = """
      version: 1
      rules:
        - name: ml-team-gemini
          description: "notebooks <b>only</b>"
          effect: allow
          identity:
            issuer: humans
            claims:
              groups: ml-team
          methods: [publishers.models.generateContent]
          resources:
            projects: [acme-ml]
          service_account: gemini@acme-ml.iam.gserviceaccount.com
        - name: ci-only
          effect: allow
          identity:
            issuer: gitlab
            claims:
              project_path: acme/ml/ci
          methods: [endpoints.predict]
          service_account: ci@acme-ml.iam.gserviceaccount.com
        - name: no-tuning-for-interns
          effect: deny
          identity:
            issuer: humans
            claims:
              groups: interns
      """;

  private static String render(Caller caller, List<AuditEvent> recent) throws Exception {
    Policy policy = Policy.parse(POLICY, "policy.yaml", MethodCatalog.bundled(), Set.of("humans", "gitlab"));
    return PersonPage.render(new PersonPage.View(caller, "https://vertex-proxy.example.com", NOW.plusSeconds(3600),
        "header.payload.signature", "csrf-token-value", policy, recent, NOW));
  }

  @Test
  void listsTheRulesWhoseIdentityPartMatchesAllowAndDenyWithTheirMethodsResourcesAndAccount() throws Exception {
    String html = render(new Caller("humans", "alice", Map.of("groups", List.of("ml-team", "interns"))), List.of());
    assertThat(html).contains("data-rule=\"ml-team-gemini\"", "publishers.models.generateContent", "acme-ml",
        "gemini@acme-ml.iam.gserviceaccount.com", "data-rule=\"no-tuning-for-interns\"", "every method")
        .doesNotContain("ci-only").doesNotContain("project_path");
    assertThat(html).contains("notebooks &lt;b&gt;only&lt;/b&gt;").doesNotContain("<b>only");
    assertThat(html).contains("name=\"csrf\" value=\"csrf-token-value\"").contains(">header.payload.signature</textarea>");
  }

  @Test
  void everythingFromTheTokenThePolicyAndTheTrailIsEscapedAndThePageHasNoInlineScriptOrStyle() throws Exception {
    AuditEvent evil = new AuditEvent(NOW, "<req>", "humans", "<img src=x onerror=alert(1)>", Map.of(), "127.0.0.1", "POST",
        "/v1/x", null, "publishers.models.generateContent", "v1", "projects/<p>", "p", "l", "allow", "r", "allowed",
        null, 200, 1, 2, 3, "v", null);
    String html = render(new Caller("humans", "<img src=x onerror=alert(1)>",
        Map.of("groups", List.of("<script>alert(1)</script>"))), List.of(evil));
    assertThat(html).doesNotContain("<img").doesNotContain("<script>alert").doesNotContain("<b>only")
        .doesNotContain("<req>").doesNotContain("projects/<p>")
        .contains("&lt;img src=x onerror=alert(1)&gt;", "&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;req&gt;");
    assertThat(html).doesNotContain("style=").doesNotContain(" onclick").doesNotContain("<script>")
        .contains("<script src=\"/_proxy/static/page.js\" defer></script>");
    assertThat(html).contains("id=\"no-access\"");
  }
}

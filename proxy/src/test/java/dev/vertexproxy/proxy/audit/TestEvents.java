package dev.vertexproxy.proxy.audit;

import dev.vertexproxy.proxy.config.AuditConfig;
import dev.vertexproxy.proxy.config.AuditConfig.Durability;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;

/** Realistic audit events and configs for the audit tests. */
public final class TestEvents {
  static final Instant T0 = Instant.parse("2026-05-01T12:00:00.123Z");
  static final Clock CLOCK = Clock.fixed(T0, ZoneOffset.UTC);

  private TestEvents() {
  }

  static AuditConfig config(Path dir, Durability durability) {
    return new AuditConfig(dir, durability, AuditConfig.OnFailure.REJECT);
  }

  public static AuditEvent allowed(int n) {
    return event(n, "project_path:acme/ml/forecasting:ref_type:branch:ref:main",
        Map.of("project_path", "acme/ml/forecasting", "ref_protected", "true", "namespace_path", "acme/ml"),
        "endpoints.predict", "allow", "forecasting-ci-predicts", "allowed", 200);
  }

  static AuditEvent event(int n, String subject, Map<String, Object> claims, String method, String decision,
      String rule, String reason, int status) {
    return new AuditEvent(T0.plusSeconds(n), "req-" + n, subject == null ? null : "gitlab", subject, claims,
        "127.0.0.1", "POST", "/v1/projects/acme-ml-prod/locations/us-central1/endpoints/42:predict", null,
        method, "v1", "projects/acme-ml-prod/locations/us-central1/endpoints/42", "acme-ml-prod", "us-central1",
        decision, rule, reason, "allow".equals(decision) ? "predictor@acme-ml-prod.iam.gserviceaccount.com" : null,
        status, 12 + n, 345, 6789, "sha256:policy-1", "google-genai-sdk/1.0 gl-python/3.12");
  }
}

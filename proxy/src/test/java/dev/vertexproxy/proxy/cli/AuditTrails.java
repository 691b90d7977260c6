package dev.vertexproxy.proxy.cli;

import dev.vertexproxy.proxy.audit.AuditEvent;
import dev.vertexproxy.proxy.audit.AuditLog;
import dev.vertexproxy.proxy.config.AuditConfig;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;

/** Audit trails written by the real {@link AuditLog}, and the audit command run in process, for the CLI tests. */
final class AuditTrails {
  static final Instant T0 = Instant.parse("2026-05-01T12:00:00Z");

  private AuditTrails() {
  }

  /** What one run printed and returned. */
  record Run(int exit, String out, String err) {
    List<String> lines() {
      return out.isEmpty() ? List.of() : List.of(out.split("\r?\n"));
    }
  }

  static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine commandLine = new CommandLine(new AuditCommand());
    commandLine.setOut(new PrintWriter(out, true));
    commandLine.setErr(new PrintWriter(err, true));
    int exit = commandLine.execute(args);
    return new Run(exit, out.toString(), err.toString());
  }

  /** Writes the events, in order, as one chain in {@code dir}. */
  static void write(Path dir, List<AuditEvent> events) throws Exception {
    AuditConfig config = new AuditConfig(dir, AuditConfig.Durability.NONE, AuditConfig.OnFailure.REJECT);
    try (AuditLog log = AuditLog.open(config, Clock.fixed(T0, ZoneOffset.UTC))) {
      List<CompletableFuture<?>> futures = new ArrayList<>();
      for (AuditEvent event : events) {
        futures.add(log.append(event));
      }
      for (CompletableFuture<?> future : futures) {
        future.get(10, TimeUnit.SECONDS);
      }
    }
  }

  /** A builder-ish event: the fields a query or a report looks at; the rest realistic and fixed. */
  static final class Ev {
    Instant time = T0;
    String requestId = "req-1";
    String issuer = "gitlab";
    String subject = "project_path:acme/ml/forecasting:ref_type:branch:ref:main";
    Map<String, Object> claims = Map.of("project_path", "acme/ml/forecasting", "ref_protected", "true");
    String method = "publishers.models.generateContent";
    String model = "gemini-2.5-flash";
    String resource = "projects/acme-ml-prod/locations/us-central1/publishers/google/models/gemini-2.5-flash";
    String decision = "allow";
    String outcome = "allowed";
    String rule = "forecasting-ci-gemini";
    String reason = "allowed";
    String principal = "gemini@acme-ml-prod.iam.gserviceaccount.com";
    int status = 200;
    String type;

    static Ev at(int minute, String requestId) {
      Ev e = new Ev();
      e.time = T0.plusSeconds(60L * minute);
      e.requestId = requestId;
      return e;
    }

    Ev who(String issuer, String subject) {
      this.issuer = issuer;
      this.subject = subject;
      return this;
    }

    Ev claims(Map<String, Object> claims) {
      this.claims = claims;
      return this;
    }

    Ev denied(String reason) {
      decision = "deny";
      outcome = "refused";
      this.reason = reason;
      rule = null;
      principal = null;
      status = 403;
      return this;
    }

    Ev unavailable(String reason, int status) {
      outcome = "unavailable";
      this.reason = reason;
      this.status = status;
      return this;
    }

    Ev call(String method, String model) {
      this.method = method;
      this.model = model;
      resource = model != null ? "projects/acme-ml-prod/locations/us-central1/publishers/google/models/" + model
          : "projects/acme-ml-prod/locations/us-central1/endpoints/42";
      return this;
    }

    Ev rule(String rule, String principal) {
      this.rule = rule;
      this.principal = principal;
      return this;
    }

    AuditEvent event() {
      AuditEvent e = new AuditEvent(time, requestId, subject == null ? null : issuer, subject, subject == null ? null : claims,
          "10.0.0.7", "POST", "/v1/" + resource + ":generateContent", null, method, "v1", resource, "acme-ml-prod",
          "us-central1", decision, rule, reason, principal, status, 42, 120, 900, "sha256:policy-1", "python",
          outcome, null, null, model, null, null, false);
      return "decision".equals(type) ? e.asDecision() : e;
    }
  }
}

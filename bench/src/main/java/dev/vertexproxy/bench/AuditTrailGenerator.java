package dev.vertexproxy.bench;

import dev.vertexproxy.proxy.audit.AuditEvent;
import dev.vertexproxy.proxy.audit.AuditLog;
import dev.vertexproxy.proxy.config.AuditConfig;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Writes a realistic audit trail of N records through the real {@link AuditLog} (so the files, hashes and rotation are
 * the product's), for measuring {@code audit query} and {@code audit report} on a large trail (docs/benchmarks.md):
 * 200 CI projects and 50 people over 30 days, 5% denials, 1% unavailable, publisher-model and endpoint calls. Seeded:
 * the same arguments write the same records. Prints the request id of record N/2, which a query can look for.
 *
 * <p>{@code java -cp bench/target/benchmarks.jar dev.vertexproxy.bench.AuditTrailGenerator DIR [N]}
 */
public final class AuditTrailGenerator {
  private static final Instant START = Instant.parse("2026-04-01T00:00:00Z");
  private static final List<String> MODELS = List.of("gemini-2.5-flash", "gemini-2.5-pro", "gemini-2.0-flash-001");

  private AuditTrailGenerator() {
  }

  public static void main(String[] args) throws Exception {
    if (args.length < 1) {
      System.err.println("usage: AuditTrailGenerator DIR [RECORDS]");
      System.exit(2);
    }
    Path dir = Path.of(args[0]);
    long count = args.length > 1 ? Long.parseLong(args[1]) : 1_000_000;
    SplittableRandom random = new SplittableRandom(42);
    long spacingMillis = Duration.ofDays(30).toMillis() / count;
    AuditConfig config = new AuditConfig(dir, AuditConfig.Durability.NONE, AuditConfig.OnFailure.REJECT);
    long started = System.nanoTime();
    String middleId = null;
    try (AuditLog log = AuditLog.open(config, Clock.fixed(START, ZoneOffset.UTC))) {
      CompletableFuture<?> last = null;
      for (long n = 0; n < count; n++) {
        String id = requestId(random);
        if (n == count / 2) {
          middleId = id;
        }
        last = log.append(event(random, START.plusMillis(n * spacingMillis), id));
        if (n % 20_000 == 19_999) {
          last.get(60, TimeUnit.SECONDS); // the queue is bounded: let the writer catch up
        }
      }
      if (last != null) {
        last.get(60, TimeUnit.SECONDS);
      }
    }
    System.out.printf("wrote %d records to %s in %.1f s; request id of record %d: %s%n", count, dir,
        (System.nanoTime() - started) / 1e9, count / 2 + 1, middleId);
  }

  private static String requestId(SplittableRandom random) {
    byte[] b = new byte[12];
    random.nextBytes(b);
    return HexFormat.of().formatHex(b);
  }

  private static AuditEvent event(SplittableRandom random, Instant time, String requestId) {
    boolean person = random.nextInt(5) == 0;
    String issuer;
    String subject;
    Map<String, Object> claims;
    if (person) {
      int who = random.nextInt(50);
      issuer = "corp";
      subject = "user" + who + "@acme.example";
      claims = Map.of("email", subject, "groups", List.of("ml-team", "staff"), "amr", List.of("pwd", "mfa"));
    } else {
      int project = random.nextInt(200);
      issuer = "gitlab";
      subject = "project_path:acme/ml/project-" + project + ":ref_type:branch:ref:main";
      claims = Map.of("project_path", "acme/ml/project-" + project, "namespace_path", "acme/ml", "ref", "main",
          "ref_protected", "true", "pipeline_id", Long.toString(1_000_000 + random.nextInt(100_000)),
          "user_login", "dev" + random.nextInt(80));
    }
    boolean endpoint = random.nextInt(4) == 0;
    String model = endpoint ? null : MODELS.get(random.nextInt(MODELS.size()));
    String resource = endpoint ? "projects/acme-ml-prod/locations/us-central1/endpoints/" + (40 + random.nextInt(5))
        : "projects/acme-ml-prod/locations/us-central1/publishers/google/models/" + model;
    String method = endpoint ? "endpoints.predict" : "publishers.models.generateContent";
    int roll = random.nextInt(100);
    boolean denied = roll < 5;
    boolean unavailable = roll == 5;
    String decision = denied ? "deny" : "allow";
    String outcome = denied ? "refused" : unavailable ? "unavailable" : "allowed";
    String reason = denied ? "identity-not-matched" : unavailable ? "credentials-unavailable" : "allowed";
    int status = denied ? 403 : unavailable ? 503 : 200;
    String rule = denied ? null : person ? "people-gemini" : "ci-gemini";
    String principal = denied ? null : person ? "people@acme-ml-prod.iam.gserviceaccount.com"
        : "ci@acme-ml-prod.iam.gserviceaccount.com";
    return new AuditEvent(time, requestId, issuer, subject, claims, "10.20." + random.nextInt(256) + "." + random.nextInt(256),
        "POST", "/v1/" + resource + (endpoint ? ":predict" : ":generateContent"), null, method, "v1", resource,
        "acme-ml-prod", "us-central1", decision, rule, reason, principal, status, 50 + random.nextInt(2000),
        200 + random.nextInt(4000), denied ? 180 : 500 + random.nextInt(20_000), "sha256:3f2a9c1b7e4d",
        "google-genai-sdk/1.20.0 gl-python/3.12.3", outcome, null, null, model, null, null, false);
  }
}

package dev.vertexproxy.proxy.audit;

import java.io.ByteArrayOutputStream;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What the audit writer spends on one record before it reaches the disk: an allowed generateContent exchange of a
 * GitLab CI job (the claims a GitLab ID token carries), turned into its trail line — redaction, canonical JSON with
 * the chain fields, SHA-256 and the {@code hash} member — exactly as the writer thread does per record. In the audit
 * package (of the bench module) because the line's writer is package-private.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class AuditRecordBenchmark {
  private static final String CHAIN = "c0ffee00-1234-4abc-8def-0123456789ab";
  private static final String PREV = "9f2d1987c4f0a1b2c3d4e5f60718293a4b5c6d7e8f9012345678901234567890";

  private final ByteArrayOutputStream out = new ByteArrayOutputStream(2048);
  private EventLines lines;
  private AuditEvent event;
  private long seq;

  @Setup
  public void setUp() {
    lines = new EventLines(CHAIN);
    event = event();
  }

  /** One record's line: ~900 bytes. */
  @Benchmark
  public String line() {
    out.reset();
    return lines.append(out, event, Instant.EPOCH, ++seq, PREV);
  }

  /** The size of the line {@link #line} writes, for the docs. */
  int lineBytes() {
    out.reset();
    lines.append(out, event, Instant.EPOCH, 1, PREV);
    return out.size();
  }

  static AuditEvent event() {
    Map<String, Object> claims = Map.ofEntries(Map.entry("namespace_id", "4711"), Map.entry("namespace_path", "acme"),
        Map.entry("project_id", "2048"), Map.entry("project_path", "acme/ml/forecasting"),
        Map.entry("user_id", "31"), Map.entry("user_login", "alice"), Map.entry("user_email", "alice@acme.example"),
        Map.entry("pipeline_id", "1234567"), Map.entry("pipeline_source", "push"), Map.entry("job_id", "7654321"),
        Map.entry("ref", "main"), Map.entry("ref_type", "branch"), Map.entry("ref_protected", "true"),
        Map.entry("environment", "production"), Map.entry("runner_id", 17L),
        Map.entry("aud", List.of("https://vertex-proxy.acme.example")));
    return new AuditEvent(Instant.parse("2026-12-02T07:00:00.123Z"), "5c3c64de2e5e5b752dd136c3",
        "https://gitlab.acme.example", "project_path:acme/ml/forecasting:ref_type:branch:ref:main", claims,
        "10.1.2.3", "POST", "/v1/projects/dev-project/locations/us-central1/publishers/google/models/gemini-2.0-flash"
            + ":generateContent", null, "publishers.models.generateContent", "v1",
        "projects/dev-project/locations/us-central1/publishers/google/models/gemini-2.0-flash", "dev-project",
        "us-central1", "allow", "forecasting-ci-gemini", "allowed", "vertex-caller@dev-project.iam.gserviceaccount.com",
        200, 412, 78, 1530, "sha256:cd426d46b890", "google-genai-sdk/1.0 gl-java/17", "allowed", null, null,
        "gemini-2.0-flash", null, null, false);
  }
}

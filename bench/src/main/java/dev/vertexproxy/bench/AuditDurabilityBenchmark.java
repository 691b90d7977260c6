package dev.vertexproxy.bench;

import dev.vertexproxy.proxy.audit.AuditEvent;
import dev.vertexproxy.proxy.audit.AuditLog;
import dev.vertexproxy.proxy.config.AuditConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What each {@code audit.durability} costs: records per second through {@link AuditLog} on a real directory, with 1, 8
 * and 64 appenders, each waiting for its own record the way a request waits for its receipt — so {@code group_commit}
 * shows how many records share one fsync, and {@code sync} what one fsync per record allows. The directory is a fresh
 * one under {@code -Dbench.audit.dir} (default: java.io.tmpdir), on whatever disk that is: the figure is the disk's as
 * much as the code's. An ops/s figure here is records/s.
 *
 * <p>Each trial deletes its files at the end unless {@code -Dbench.audit.keep=true}: a {@code none} trial leaves
 * hundreds of MiB, and on a disk mounted with {@code discard} deleting them stalls the next trial's fsyncs (seen here:
 * fsync p50 from 0.12 ms to 1.1 ms) — keep them, and delete the directory after the run, for figures of the mode alone.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(1)
@State(Scope.Benchmark)
public class AuditDurabilityBenchmark {
  @Param({"NONE", "GROUP_COMMIT", "SYNC"})
  public AuditConfig.Durability durability;

  private Path dir;
  private AuditLog log;
  private AuditEvent event;

  @Setup(Level.Trial)
  public void open() throws IOException {
    Path parent = Path.of(System.getProperty("bench.audit.dir", System.getProperty("java.io.tmpdir")));
    dir = Files.createTempDirectory(parent, "audit-bench-");
    log = AuditLog.open(new AuditConfig(dir.resolve("audit"), durability, AuditConfig.OnFailure.REJECT),
        Clock.systemUTC());
    event = event();
  }

  @TearDown(Level.Trial)
  public void close() throws IOException {
    log.close();
    if (Boolean.getBoolean("bench.audit.keep")) {
      return;
    }
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  @Benchmark
  @Threads(1)
  public AuditLog.AuditReceipt appenders1() {
    return log.append(event).join();
  }

  @Benchmark
  @Threads(8)
  public AuditLog.AuditReceipt appenders8() {
    return log.append(event).join();
  }

  @Benchmark
  @Threads(64)
  public AuditLog.AuditReceipt appenders64() {
    return log.append(event).join();
  }

  /** An allowed generateContent exchange of a CI job, about the size of a real record (~900 bytes as a line). */
  static AuditEvent event() {
    return new AuditEvent(Instant.parse("2026-12-02T07:00:00Z"), "5c3c64de2e5e5b752dd136c3", "gitlab",
        "project_path:acme/ml/forecasting:ref_type:branch:ref:main",
        Map.of("project_path", "acme/ml/forecasting", "ref", "main", "ref_protected", "true", "pipeline_id", "1234567",
            "job_id", "7654321", "user_login", "alice"),
        "10.1.2.3", "POST", "/v1/projects/dev-project/locations/us-central1/publishers/google/models/gemini-2.0-flash"
            + ":generateContent", null, "publishers.models.generateContent", "v1",
        "projects/dev-project/locations/us-central1/publishers/google/models/gemini-2.0-flash", "dev-project",
        "us-central1", "allow", "forecasting-ci-gemini", "allowed", "vertex-caller@dev-project.iam.gserviceaccount.com",
        200, 412, 78, 1530, "sha256:cd426d46b890", "google-genai-sdk/1.0 gl-java/17", "allowed");
  }
}

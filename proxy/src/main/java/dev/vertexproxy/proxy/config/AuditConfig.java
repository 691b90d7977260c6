package dev.vertexproxy.proxy.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * The {@code audit} section of proxy.yaml. See docs/audit.md for what each promise means on disk.
 *
 * @param dir        directory of the audit files (one chain per directory: one directory per replica)
 * @param durability {@code none} (handed to the OS), {@code group_commit} (default: a response is not completed before
 *                   its record is fsynced; concurrent records share an fsync) or {@code sync} (the decision record is
 *                   fsynced before the request is forwarded, the outcome follows in a second record with the same
 *                   {@code request_id}; each record fsynced on its own)
 * @param onFailure  {@code reject} (default: while records cannot be written, requests are refused with 503
 *                   {@code audit-unavailable}; service resumes by itself once a write succeeds) or {@code continue}
 *                   (serve, count the loss in a metric, log it)
 * @param chainId    the chain's id; null: read from the directory's {@code chain-id} file, created on first start
 * @param rotate     when a new file is started
 * @param retention  which old files are deleted; null: none ever are
 * @param checkpoint signed checkpoints; null: none are written
 * @param capture    what of request bodies is recorded (nothing by default)
 * @param stdout     whether every record is also printed to stdout as a Cloud Logging structured line
 */
public record AuditConfig(Path dir, Durability durability, OnFailure onFailure, String chainId, Rotate rotate,
    Retention retention, Checkpoint checkpoint, Capture capture, Stdout stdout) {
  public enum Durability { NONE, GROUP_COMMIT, SYNC }

  public enum OnFailure { REJECT, CONTINUE }

  /** {@code audit.stdout}: {@code none} (default) or {@code cloud_logging}. */
  public enum Stdout { NONE, CLOUD_LOGGING }

  public static final long DEFAULT_MAX_FILE_BYTES = 256L * 1024 * 1024;
  public static final Duration DEFAULT_MAX_FILE_AGE = Duration.ofHours(24);
  public static final Duration DEFAULT_CHECKPOINT_INTERVAL = Duration.ofMinutes(5);
  public static final long DEFAULT_CAPTURE_MAX_BYTES = 16 * 1024;

  /**
   * {@code audit.rotate}: a new file is started once the current one reaches {@code maxBytes} or is {@code maxAge} old
   * (checked per batch and by the writer's timer), besides at every start.
   */
  public record Rotate(long maxBytes, Duration maxAge) {
    public static final Rotate DEFAULT = new Rotate(DEFAULT_MAX_FILE_BYTES, DEFAULT_MAX_FILE_AGE);

    public Rotate {
      if (maxBytes < 1) {
        throw new IllegalArgumentException("audit.rotate.max_bytes: " + maxBytes + " (expected: >= 1)");
      }
      Objects.requireNonNull(maxAge, "maxAge");
    }
  }

  /**
   * {@code audit.retention}: files whose records are all older than {@code maxAge}, or the oldest files while the
   * directory holds more than {@code maxTotalBytes}, are deleted — never the current file, and never a file whose last
   * record is not covered by a signed checkpoint in a later file. Either bound may be null (no bound).
   */
  public record Retention(Duration maxAge, Long maxTotalBytes) {
  }

  /**
   * {@code audit.checkpoint}: a signed statement of the chain head ({@code seq}, {@code hash}, time) written as a record
   * at start, every {@code interval}, at rotation and at shutdown.
   *
   * @param keyFile        the Ed25519 private key (PKCS#8 PEM) that signs; reviewers hold only the public key
   * @param interval       how often a checkpoint is written while records arrive
   * @param externalFile   also append every checkpoint to this file (meant for a bucket with a retention lock); null: no
   * @param externalStdout also print every checkpoint to stdout as one JSON line (for log shipping)
   */
  public record Checkpoint(Path keyFile, Duration interval, Path externalFile, boolean externalStdout) {
    public Checkpoint {
      Objects.requireNonNull(keyFile, "keyFile");
      Objects.requireNonNull(interval, "interval");
    }
  }

  /**
   * {@code audit.capture}: nothing of a body is recorded by default.
   *
   * @param bodySha256   record {@code body_sha256}, the hex SHA-256 of every request body as it was forwarded
   * @param bodyMethods  Vertex method names or globs whose request bodies are recorded ({@code request_body}), after the
   *                     same redaction as every other value; empty: none
   * @param bodyMaxBytes at most this many bytes of a body are recorded; a longer one is cut and flagged
   *                     {@code request_body_truncated}
   */
  public record Capture(boolean bodySha256, List<String> bodyMethods, long bodyMaxBytes) {
    public static final Capture NONE = new Capture(false, List.of(), DEFAULT_CAPTURE_MAX_BYTES);

    public Capture {
      bodyMethods = bodyMethods == null ? List.of() : List.copyOf(bodyMethods);
    }
  }

  /** The section with only its three original keys; everything else at its default. */
  public AuditConfig(Path dir, Durability durability, OnFailure onFailure) {
    this(dir, durability, onFailure, null, Rotate.DEFAULT, null, null, Capture.NONE, Stdout.NONE);
  }

  public AuditConfig {
    durability = durability == null ? Durability.GROUP_COMMIT : durability;
    onFailure = onFailure == null ? OnFailure.REJECT : onFailure;
    rotate = rotate == null ? Rotate.DEFAULT : rotate;
    capture = capture == null ? Capture.NONE : capture;
    stdout = stdout == null ? Stdout.NONE : stdout;
  }

  public AuditConfig withCheckpoint(Checkpoint checkpoint) {
    return new AuditConfig(dir, durability, onFailure, chainId, rotate, retention, checkpoint, capture, stdout);
  }

  public AuditConfig withRotate(Rotate rotate) {
    return new AuditConfig(dir, durability, onFailure, chainId, rotate, retention, checkpoint, capture, stdout);
  }

  public AuditConfig withRetention(Retention retention) {
    return new AuditConfig(dir, durability, onFailure, chainId, rotate, retention, checkpoint, capture, stdout);
  }

  public AuditConfig withCapture(Capture capture) {
    return new AuditConfig(dir, durability, onFailure, chainId, rotate, retention, checkpoint, capture, stdout);
  }

  public AuditConfig withChainId(String chainId) {
    return new AuditConfig(dir, durability, onFailure, chainId, rotate, retention, checkpoint, capture, stdout);
  }

  public AuditConfig withStdout(Stdout stdout) {
    return new AuditConfig(dir, durability, onFailure, chainId, rotate, retention, checkpoint, capture, stdout);
  }

  public AuditConfig withDurability(Durability durability) {
    return new AuditConfig(dir, durability, onFailure, chainId, rotate, retention, checkpoint, capture, stdout);
  }
}

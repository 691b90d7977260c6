package dev.vertexproxy.proxy.config;

import dev.vertexproxy.policy.yaml.YamlMap;
import dev.vertexproxy.proxy.audit.ChainId;
import java.nio.file.Path;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads proxy.yaml's {@code audit} section (see {@link AuditConfig} and docs/audit.md). Like the rest of
 * {@link ConfigLoader}, every problem is reported with its line. Ages in {@code audit.retention.max_age} may also be
 * given in days ({@code 400d}), the unit retention periods are stated in.
 */
final class AuditConfigReader {
  private static final Pattern DAYS = Pattern.compile("(\\d{1,6})d");
  private static final Duration NO_LIMIT = ChronoUnit.FOREVER.getDuration();

  private AuditConfigReader() {
  }

  static AuditConfig audit(YamlMap n, YamlMap top, Path base) {
    if (n == null) {
      if (!top.has("audit")) {
        top.problem("audit", "required (audit: { dir: audit/ })");
      }
      return null;
    }
    Path dir = n.requiredPath("dir", base);
    String chainId = n.string("chain_id", null);
    if (chainId != null && !ChainId.VALID.matcher(chainId).matches()) {
      n.report("chain_id", chainId, "1 to 64 of A-Z a-z 0-9 . _ - (e.g. replica-a)");
      chainId = null;
    }
    AuditConfig.Durability durability =
        n.enumValue("durability", AuditConfig.Durability.class, AuditConfig.Durability.GROUP_COMMIT);
    AuditConfig.OnFailure onFailure = n.enumValue("on_failure", AuditConfig.OnFailure.class, AuditConfig.OnFailure.REJECT);
    AuditConfig.Rotate rotate = rotate(n.map("rotate"));
    AuditConfig.Checkpoint checkpoint = checkpoint(n.map("checkpoint"), base);
    AuditConfig.Retention retention = retention(n.map("retention"));
    if (n.has("retention") && !n.has("checkpoint")) {
      n.problem("retention", "needs audit.checkpoint: only files covered by a signed checkpoint are ever deleted, so"
          + " a verifier can tell retention from a cut trail");
    }
    AuditConfig.Capture capture = capture(n.map("capture"));
    AuditConfig.Stdout stdout = n.enumValue("stdout", AuditConfig.Stdout.class, AuditConfig.Stdout.NONE);
    return new AuditConfig(dir, durability, onFailure, chainId, rotate, retention, checkpoint, capture, stdout);
  }

  private static AuditConfig.Rotate rotate(YamlMap n) {
    if (n == null) {
      return AuditConfig.Rotate.DEFAULT;
    }
    return new AuditConfig.Rotate(
        n.bytes("max_bytes", AuditConfig.DEFAULT_MAX_FILE_BYTES, 1024, Long.MAX_VALUE),
        n.duration("max_age", AuditConfig.DEFAULT_MAX_FILE_AGE, Duration.ofSeconds(1), NO_LIMIT, "at least 1s, e.g. 24h"));
  }

  private static AuditConfig.Retention retention(YamlMap n) {
    if (n == null) {
      return null;
    }
    Duration maxAge = null;
    if (n.has("max_age")) {
      String text = n.string("max_age", "");
      Matcher days = DAYS.matcher(text);
      maxAge = days.matches() ? Duration.ofDays(Long.parseLong(days.group(1)))
          : n.duration("max_age", null, Duration.ofHours(1), NO_LIMIT, "at least 1h, e.g. 400d or 720h");
      if (maxAge != null && maxAge.compareTo(Duration.ofHours(1)) < 0) {
        n.report("max_age", text, "at least 1h, e.g. 400d or 720h");
      }
    }
    Long maxTotal = n.has("max_total_bytes") ? n.bytes("max_total_bytes", 0, 1024 * 1024, Long.MAX_VALUE) : null;
    if (!n.has("max_age") && !n.has("max_total_bytes")) {
      n.problem("max_age", "at least one of max_age and max_total_bytes (e.g. retention: { max_age: 400d })");
    }
    return new AuditConfig.Retention(maxAge, maxTotal);
  }

  private static AuditConfig.Checkpoint checkpoint(YamlMap n, Path base) {
    if (n == null) {
      return null;
    }
    Path key = n.requiredPath("key_file", base);
    Duration interval = n.duration("interval", AuditConfig.DEFAULT_CHECKPOINT_INTERVAL, Duration.ofSeconds(1),
        Duration.ofHours(24), "1s..24h, e.g. 5m");
    YamlMap external = n.map("external");
    Path externalFile = external == null ? null : external.path("file", base);
    boolean externalStdout = external != null && external.bool("stdout", false);
    return key == null ? null : new AuditConfig.Checkpoint(key, interval, externalFile, externalStdout);
  }

  private static AuditConfig.Capture capture(YamlMap n) {
    if (n == null) {
      return AuditConfig.Capture.NONE;
    }
    boolean sha = n.bool("body_sha256", false);
    YamlMap bodies = n.map("bodies");
    List<String> methods = bodies == null ? null : bodies.strings("methods");
    long maxBytes = bodies == null ? AuditConfig.DEFAULT_CAPTURE_MAX_BYTES
        : bodies.bytes("max_bytes", AuditConfig.DEFAULT_CAPTURE_MAX_BYTES, 1, 1024 * 1024);
    return new AuditConfig.Capture(sha, methods == null ? List.of() : methods, maxBytes);
  }
}

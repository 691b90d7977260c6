package dev.vertexproxy.proxy.audit;

import static dev.vertexproxy.proxy.audit.TestEvents.T0;
import static dev.vertexproxy.proxy.audit.TestEvents.allowed;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vertexproxy.proxy.config.AuditConfig;
import dev.vertexproxy.proxy.config.AuditConfig.Durability;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuditRetentionTest {
  private static final Duration DAY = Duration.ofDays(1);

  @TempDir
  Path tmp;

  private Path dir() {
    return tmp.resolve("audit");
  }

  private AuditConfig config(Path key, AuditConfig.Retention retention) {
    return Trail.withCheckpoints(dir(), key, Duration.ofHours(1))
        .withRotate(new AuditConfig.Rotate(AuditConfig.DEFAULT_MAX_FILE_BYTES, DAY)).withRetention(retention);
  }

  /** One file per day, {@code days} of them, each with two exchanges; returns the file names in order. */
  private List<Path> writeDays(AuditConfig config, DrivenClock clock, int days) throws Exception {
    try (AuditLog log = AuditLog.open(config, clock)) {
      for (int d = 0; d < days; d++) {
        log.append(allowed(2 * d)).get(10, TimeUnit.SECONDS);
        log.append(allowed(2 * d + 1)).get(10, TimeUnit.SECONDS);
        clock.advance(DAY);
      }
    }
    return AuditFiles.list(dir());
  }

  @Test
  void filesWhoseRecordsAreAllOlderThanMaxAgeAreDeletedAndTheDeletionIsRecorded() throws Exception {
    Path key = Trail.newKey(tmp, "cp.pem");
    DrivenClock clock = new DrivenClock(T0);
    List<Path> before = writeDays(config(key, null), clock, 5); // 5 files, no retention yet
    assertThat(before).hasSize(5);
    // now 5 days after T0; keep 2 days: a file goes once the one after it was started 2 days ago (or more), so the
    // files of days 0, 1 and 2 go (day 3's file started exactly 2 days ago) and day 3's stays
    try (AuditLog log = AuditLog.open(config(key, new AuditConfig.Retention(Duration.ofDays(2), null)), clock)) {
      log.append(allowed(99)).get(10, TimeUnit.SECONDS);
    }
    List<Path> after = AuditFiles.list(dir());
    assertThat(after).extracting(p -> p.getFileName().toString()).doesNotContain(
        before.get(0).getFileName().toString(), before.get(1).getFileName().toString(),
        before.get(2).getFileName().toString()).contains(before.get(3).getFileName().toString());
    List<ObjectNode> records = Trail.lines(after.get(after.size() - 1));
    ObjectNode retention = Trail.ofType(records, "retention").get(0);
    JsonNode r = retention.get("retention");
    assertThat(r.get("reason").asText()).isEqualTo("max_age");
    assertThat(r.get("deleted")).hasSize(3);
    assertThat(r.get("deleted").get(0).get("file").asText()).isEqualTo(before.get(0).getFileName().toString());
    assertThat(r.get("deleted").get(0).get("first_seq").asLong()).isEqualTo(1);
    assertThat(r.get("deleted").get(0).get("last_seq").asLong())
        .isEqualTo(AuditFiles.firstSeqOf(before.get(1)) - 1);
    assertThat(r.get("deleted").get(1).get("bytes").asLong()).isPositive();
    // what is left starts with the checkpoint that signs the last deleted record
    ObjectNode firstLeft = Trail.lines(after.get(0)).get(0);
    assertThat(firstLeft.get("type").asText()).isEqualTo("checkpoint");
    assertThat(firstLeft.get("checkpoint").get("seq").asLong())
        .isEqualTo(r.get("deleted").get(2).get("last_seq").asLong());
  }

  @Test
  void theTotalSizeBoundDeletesTheOldestFilesButNeverTheCurrentOne() throws Exception {
    Path key = Trail.newKey(tmp, "cp.pem");
    DrivenClock clock = new DrivenClock(T0);
    writeDays(config(key, null), clock, 4);
    try (AuditLog log = AuditLog.open(config(key, new AuditConfig.Retention(null, 1L)), clock)) {
      log.append(allowed(99)).get(10, TimeUnit.SECONDS);
      List<Path> left = AuditFiles.list(dir());
      assertThat(left).hasSize(1); // everything but the current file went, and the current one stays
      List<ObjectNode> current = Trail.lines(left.get(0));
      assertThat(current).extracting(rec -> rec.get("type").asText())
          .containsExactly("checkpoint", "retention", "exchange");
      assertThat(current.get(1).get("retention").get("reason").asText()).isEqualTo("max_total_bytes");
      assertThat(current.get(1).get("retention").get("deleted")).hasSize(4);
    }
  }

  @Test
  void aFileNotCoveredByACheckpointOfThisKeyIsNeverDeletedNorAnythingAfterIt() throws Exception {
    DrivenClock clock = new DrivenClock(T0);
    // two days without checkpoints, then two with a key: the first boundary with a signed checkpoint is day 3's file
    try (AuditLog log = AuditLog.open(new AuditConfig(dir(), Durability.NONE, null)
        .withRotate(new AuditConfig.Rotate(1 << 20, DAY)), clock)) {
      log.append(allowed(0)).get(10, TimeUnit.SECONDS);
      clock.advance(DAY);
      log.append(allowed(1)).get(10, TimeUnit.SECONDS);
      clock.advance(DAY);
    }
    Path key = Trail.newKey(tmp, "cp.pem");
    writeDays(config(key, null), clock, 2);
    List<Path> before = AuditFiles.list(dir());
    try (AuditLog log = AuditLog.open(config(key, new AuditConfig.Retention(Duration.ofHours(1), null)), clock)) {
      log.append(allowed(99)).get(10, TimeUnit.SECONDS);
    }
    // the first file is followed by a file without a checkpoint: it stays, and so does everything after it
    assertThat(AuditFiles.list(dir())).containsAll(before);

    // a checkpoint signed by another key does not count either
    Path otherKey = Trail.newKey(tmp, "other.pem");
    Files.delete(before.get(0));
    Files.delete(before.get(1)); // now the oldest file starts with a checkpoint, but the next ones are signed by `key`
    List<Path> signed = AuditFiles.list(dir());
    try (AuditLog log = AuditLog.open(config(otherKey, new AuditConfig.Retention(Duration.ofHours(1), null)), clock)) {
      log.append(allowed(100)).get(10, TimeUnit.SECONDS);
    }
    assertThat(AuditFiles.list(dir())).containsAll(signed);
  }

  @Test
  void retentionWithoutCheckpointsIsRefused() {
    AuditConfig config = new AuditConfig(dir(), Durability.NONE, null)
        .withRetention(new AuditConfig.Retention(DAY, null));
    assertThatThrownBy(() -> AuditLog.open(config, new DrivenClock(T0)))
        .hasMessageContaining("audit.retention needs audit.checkpoint");
  }
}

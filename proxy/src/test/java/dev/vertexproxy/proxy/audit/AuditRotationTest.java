package dev.vertexproxy.proxy.audit;

import static dev.vertexproxy.proxy.audit.TestEvents.T0;
import static dev.vertexproxy.proxy.audit.TestEvents.allowed;
import static org.assertj.core.api.Assertions.assertThat;

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

class AuditRotationTest {
  @TempDir
  Path tmp;

  private Path dir() {
    return tmp.resolve("audit");
  }

  @Test
  void aFileOlderThanMaxAgeIsClosedAtTheNextBatchAndTheNewOneStartsWithARotationCheckpoint() throws Exception {
    Path key = Trail.newKey(tmp, "cp.pem");
    AuditConfig config = Trail.withCheckpoints(dir(), key, Duration.ofHours(1))
        .withRotate(new AuditConfig.Rotate(AuditConfig.DEFAULT_MAX_FILE_BYTES, Duration.ofMinutes(10)));
    DrivenClock clock = new DrivenClock(T0);
    try (AuditLog log = AuditLog.open(config, clock)) {
      log.append(allowed(0)).get(10, TimeUnit.SECONDS);
      clock.advance(Duration.ofMinutes(9));
      log.append(allowed(1)).get(10, TimeUnit.SECONDS);
      assertThat(AuditFiles.list(dir())).hasSize(1);
      clock.advance(Duration.ofMinutes(1)); // 10 minutes old now
      log.append(allowed(2)).get(10, TimeUnit.SECONDS);
      assertThat(AuditFiles.list(dir())).hasSize(2);
    }
    List<Path> files = AuditFiles.list(dir());
    assertThat(files).extracting(p -> p.getFileName().toString())
        .containsExactly("audit-20260501T120000Z-1.jsonl", "audit-20260501T121000Z-4.jsonl");
    List<ObjectNode> first = Trail.lines(files.get(0));
    List<ObjectNode> second = Trail.lines(files.get(1));
    assertThat(first).extracting(r -> r.get("type").asText()).containsExactly("checkpoint", "exchange", "exchange");
    assertThat(second).extracting(r -> r.get("type").asText()).containsExactly("checkpoint", "exchange", "checkpoint");
    ObjectNode rotation = second.get(0);
    assertThat(rotation.get("checkpoint").get("reason").asText()).isEqualTo("rotation");
    ObjectNode lastOfPrevious = first.get(first.size() - 1);
    assertThat(rotation.get("checkpoint").get("seq").asLong()).isEqualTo(lastOfPrevious.get("seq").asLong());
    assertThat(rotation.get("checkpoint").get("hash").asText()).isEqualTo(lastOfPrevious.get("hash").asText());
    assertThat(Trail.records(dir())).hasSize(6); // one dense chain across the files
  }

  @Test
  void withoutCheckpointsAgeStillRotatesAndAnIdleWriterDoesNotRotate() throws Exception {
    AuditConfig config = new AuditConfig(dir(), Durability.NONE, null)
        .withRotate(new AuditConfig.Rotate(1 << 20, Duration.ofMinutes(1)));
    DrivenClock clock = new DrivenClock(T0);
    try (AuditLog log = AuditLog.open(config, clock)) {
      clock.advance(Duration.ofMinutes(5));
      assertThat(AuditFiles.list(dir())).hasSize(1); // nothing arrived: the empty file stays current
      log.append(allowed(0)).get(10, TimeUnit.SECONDS);
      log.append(allowed(1)).get(10, TimeUnit.SECONDS);
    }
    List<Path> files = AuditFiles.list(dir());
    assertThat(files).hasSize(2);
    assertThat(Files.size(files.get(0))).isZero();
    assertThat(Trail.lines(files.get(1))).extracting(r -> r.get("seq").asLong()).containsExactly(1L, 2L);
  }

  @Test
  void sizeRotationWithCheckpointsCoversEveryFileBoundary() throws Exception {
    Path key = Trail.newKey(tmp, "cp.pem");
    DrivenClock clock = new DrivenClock(T0);
    try (AuditLog log = AuditLog.open(Trail.withCheckpoints(dir(), key, Duration.ofHours(1)), clock, 3_000, 100)) {
      for (int i = 0; i < 20; i++) {
        clock.advance(Duration.ofSeconds(1));
        log.append(allowed(i)).get(10, TimeUnit.SECONDS);
      }
    }
    List<Path> files = AuditFiles.list(dir());
    assertThat(files).hasSizeGreaterThan(3);
    for (int i = 1; i < files.size(); i++) {
      List<ObjectNode> before = Trail.lines(files.get(i - 1));
      ObjectNode head = Trail.lines(files.get(i)).get(0);
      assertThat(head.get("checkpoint").get("reason").asText()).isEqualTo("rotation");
      assertThat(head.get("checkpoint").get("seq").asLong()).isEqualTo(before.get(before.size() - 1).get("seq").asLong());
    }
    assertThat(Trail.ofType(Trail.records(dir()), "exchange")).hasSize(20);
  }
}

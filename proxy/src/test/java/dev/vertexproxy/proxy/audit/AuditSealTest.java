package dev.vertexproxy.proxy.audit;

import static dev.vertexproxy.proxy.audit.TestEvents.T0;
import static dev.vertexproxy.proxy.audit.TestEvents.allowed;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vertexproxy.proxy.config.AuditConfig;
import dev.vertexproxy.proxy.config.AuditConfig.Durability;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuditSealTest {
  @TempDir
  Path tmp;

  private Path dir() {
    return tmp.resolve("audit");
  }

  @Test
  void aTornTailIsSealedFirstInTheNextFileAndTheOldFileIsLeftAsItWas() throws Exception {
    Path key = Trail.newKey(tmp, "cp.pem");
    AuditConfig config = Trail.withCheckpoints(dir(), key, Duration.ofMinutes(5));
    DrivenClock clock = new DrivenClock(T0);
    try (AuditLog log = AuditLog.open(config, clock)) {
      for (int i = 0; i < 3; i++) {
        log.append(allowed(i)).get(10, TimeUnit.SECONDS);
      }
    }
    Path old = AuditFiles.list(dir()).get(0);
    byte[] whole = Files.readAllBytes(old);
    // a crash in the middle of a write: half a record after the last newline
    byte[] partial = "{\"chain_id\":\"x\",\"seq\":6,\"deci".getBytes(StandardCharsets.UTF_8);
    byte[] torn = Arrays.copyOf(whole, whole.length + partial.length);
    System.arraycopy(partial, 0, torn, whole.length, partial.length);
    Files.write(old, torn);

    clock.advance(Duration.ofSeconds(2));
    try (AuditLog log = AuditLog.open(config, clock)) {
      assertThat(log.append(allowed(3)).get(10, TimeUnit.SECONDS).seq()).isEqualTo(8); // seal 6, start checkpoint 7
    }
    assertThat(Files.readAllBytes(old)).isEqualTo(torn);
    List<Path> files = AuditFiles.list(dir());
    assertThat(files).hasSize(2);
    List<ObjectNode> next = Trail.lines(files.get(1));
    assertThat(next).extracting(r -> r.get("type").asText())
        .containsExactly("seal", "checkpoint", "exchange", "checkpoint");
    ObjectNode seal = next.get(0);
    assertThat(seal.get("seq").asLong()).isEqualTo(6);
    JsonNode s = seal.get("seal");
    assertThat(s.get("file").asText()).isEqualTo(old.getFileName().toString());
    assertThat(s.get("offset").asLong()).isEqualTo(whole.length);
    assertThat(s.get("bytes").asLong()).isEqualTo(partial.length);
    assertThat(s.get("sha256").asText()).isEqualTo(AuditRecords.sha256Hex(partial));
    assertThat(s.get("cause").asText()).isEqualTo("crash");
    // the start checkpoint after the seal signs the seal: the head the new process continues from
    assertThat(next.get(1).get("checkpoint").get("seq").asLong()).isEqualTo(6);
    assertThat(next.get(1).get("checkpoint").get("hash").asText()).isEqualTo(seal.get("hash").asText());
    assertThat(Trail.records(dir())).hasSize(9); // start, 3, shutdown; then seal, start, 1, shutdown

    try (AuditLog log = AuditLog.open(config, clock)) { // sealed once: a third start owes no seal
      log.append(allowed(4)).get(10, TimeUnit.SECONDS);
    }
    assertThat(Trail.ofType(Trail.records(dir()), "seal")).hasSize(1);
  }

  @Test
  void aFileHoldingOnlyAPartialLineIsSealedAtOffsetZero() throws Exception {
    Files.createDirectories(dir());
    Path only = dir().resolve("audit-20260501T110000Z-1.jsonl");
    Files.writeString(only, "{\"seq\":1,\"ha");
    try (AuditLog log = AuditLog.open(new AuditConfig(dir(), Durability.NONE, null), new DrivenClock(T0))) {
      assertThat(log.append(allowed(0)).get(10, TimeUnit.SECONDS).seq()).isEqualTo(2);
    }
    ObjectNode seal = Trail.records(dir()).get(0);
    assertThat(seal.get("seq").asLong()).isEqualTo(1);
    assertThat(seal.get("prev_hash").asText()).isEqualTo(AuditRecords.GENESIS_HASH);
    assertThat(seal.get("seal").get("offset").asLong()).isZero();
    assertThat(seal.get("seal").get("bytes").asLong()).isEqualTo(12);
  }

  @Test
  void aFailedBatchThatCannotBeCutBackIsSealedAsTheNextFilesFirstRecord() throws Exception {
    ControlledChannel.Control control = new ControlledChannel.Control();
    DrivenClock clock = new DrivenClock(T0);
    AuditConfig config = new AuditConfig(dir(), Durability.SYNC, null);
    try (AuditLog log = AuditLog.open(config, clock, 1 << 20, 100, control.opener())) {
      log.append(allowed(0)).get(10, TimeUnit.SECONDS);
      long goodBytes = Files.size(AuditFiles.list(dir()).get(0));
      control.writeHalfThenFail = true;
      control.failTruncate = true;
      assertThatThrownBy(() -> log.append(allowed(1)).get(10, TimeUnit.SECONDS))
          .hasCauseInstanceOf(AuditException.class);
      assertThat(log.healthy()).isFalse();
      control.writeHalfThenFail = false;
      control.failTruncate = false;
      Path abandoned = AuditFiles.list(dir()).get(0);
      byte[] left = Arrays.copyOfRange(Files.readAllBytes(abandoned), (int) goodBytes, (int) Files.size(abandoned));
      assertThat(left).isNotEmpty();

      clock.advance(Duration.ofSeconds(1));
      assertThat(log.append(allowed(2)).get(10, TimeUnit.SECONDS).seq()).isEqualTo(3); // after the seal, seq 2
      assertThat(log.healthy()).isTrue();
      assertThat(Files.size(abandoned)).as("a given-up file is never written again").isEqualTo(goodBytes + left.length);
      List<ObjectNode> next = Trail.lines(AuditFiles.list(dir()).get(1));
      JsonNode seal = next.get(0).get("seal");
      assertThat(seal.get("cause").asText()).isEqualTo("write-failed");
      assertThat(seal.get("file").asText()).isEqualTo(abandoned.getFileName().toString());
      assertThat(seal.get("offset").asLong()).isEqualTo(goodBytes);
      assertThat(seal.get("bytes").asLong()).isEqualTo(left.length);
      assertThat(seal.get("sha256").asText()).isEqualTo(AuditRecords.sha256Hex(left));
    }
  }
}

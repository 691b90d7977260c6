package dev.vertexproxy.proxy.audit;

import static dev.vertexproxy.proxy.audit.TestEvents.T0;
import static dev.vertexproxy.proxy.audit.TestEvents.allowed;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vertexproxy.proxy.config.AuditConfig;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.PublicKey;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuditCheckpointTest {
  private static final Duration INTERVAL = Duration.ofMinutes(5);

  @TempDir
  Path tmp;

  private Path dir() {
    return tmp.resolve("audit");
  }

  @Test
  void startPeriodicAndShutdownCheckpointsSignTheRecordBeforeThem() throws Exception {
    Path key = Trail.newKey(tmp, "cp.pem");
    PublicKey pub = Checkpoints.readPublic(tmp.resolve("cp.pem.pub"));
    DrivenClock clock = new DrivenClock(T0);
    AtomicInteger counted = new AtomicInteger();
    AuditLog.Events events = new AuditLog.Events() {
      @Override
      public void checkpointWritten() {
        counted.incrementAndGet();
      }
    };
    String chainId;
    try (AuditLog log = AuditLog.open(Trail.withCheckpoints(dir(), key, INTERVAL), clock, events)) {
      chainId = log.chainId();
      assertThat(log.append(allowed(0)).get(10, TimeUnit.SECONDS).seq()).isEqualTo(2); // after the start checkpoint
      log.append(allowed(1)).get(10, TimeUnit.SECONDS);
      clock.advance(INTERVAL);
      assertThat(log.append(allowed(2)).get(10, TimeUnit.SECONDS).seq()).isEqualTo(4); // periodic follows it: seq 5
      clock.advance(Duration.ofMinutes(1));
      log.append(allowed(3)).get(10, TimeUnit.SECONDS); // within the interval again: no checkpoint
    }
    List<ObjectNode> records = Trail.records(dir());
    assertThat(records).extracting(r -> r.get("type").asText() + ":" + r.path("checkpoint").path("reason").asText(""))
        .containsExactly("checkpoint:start", "exchange:", "exchange:", "exchange:", "checkpoint:periodic", "exchange:",
            "checkpoint:shutdown");
    assertThat(counted.get()).isEqualTo(3);
    String keyId = Checkpoints.keyId(pub);
    for (int i = 0; i < records.size(); i++) {
      ObjectNode record = records.get(i);
      assertThat(record.get("chain_id").asText()).isEqualTo(chainId);
      if (!record.get("type").asText().equals("checkpoint")) {
        continue;
      }
      JsonNode cp = record.get("checkpoint");
      long expectedSeq = i == 0 ? 0 : records.get(i - 1).get("seq").asLong();
      String expectedHash = i == 0 ? AuditRecords.GENESIS_HASH : records.get(i - 1).get("hash").asText();
      assertThat(cp.get("seq").asLong()).isEqualTo(expectedSeq).isEqualTo(record.get("seq").asLong() - 1);
      assertThat(cp.get("hash").asText()).isEqualTo(expectedHash).isEqualTo(record.get("prev_hash").asText());
      assertThat(cp.get("time").asText()).isEqualTo(record.get("time").asText());
      assertThat(cp.get("interval_s").asLong()).isEqualTo(300);
      assertThat(cp.get("key_id").asText()).isEqualTo(keyId).hasSize(16);
      byte[] payload = Checkpoints.payload(chainId, expectedSeq, expectedHash, cp.get("time").asText());
      assertThat(Checkpoints.verify(pub, payload, cp.get("signature").asText())).isTrue();
      // the signature covers the head: a different seq, hash or chain does not verify
      assertThat(Checkpoints.verify(pub, Checkpoints.payload(chainId, expectedSeq + 1, expectedHash,
          cp.get("time").asText()), cp.get("signature").asText())).isFalse();
      assertThat(Checkpoints.verify(pub, Checkpoints.payload("other-chain", expectedSeq, expectedHash,
          cp.get("time").asText()), cp.get("signature").asText())).isFalse();
    }
    assertThat(records.get(records.size() - 1).get("checkpoint").get("reason").asText()).isEqualTo("shutdown");
  }

  @Test
  void anIdleWriterStillSignsTheTailOnceTheIntervalHasPassed() throws Exception {
    Path key = Trail.newKey(tmp, "cp.pem");
    DrivenClock clock = new DrivenClock(T0);
    try (AuditLog log = AuditLog.open(Trail.withCheckpoints(dir(), key, INTERVAL), clock)) {
      log.append(allowed(0)).get(10, TimeUnit.SECONDS);
      clock.advance(INTERVAL);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      // the writer's idle poll notices the clock; bounded wait for that thread to run
      while (Trail.ofType(Trail.records(dir()), "checkpoint").size() < 2 && System.nanoTime() < deadline) {
        Thread.onSpinWait();
      }
      List<ObjectNode> records = Trail.records(dir());
      assertThat(records).extracting(r -> r.path("checkpoint").path("reason").asText("-"))
          .containsExactly("start", "-", "periodic");
      clock.advance(INTERVAL.multipliedBy(3)); // nothing new since: no more checkpoints while idle
      log.append(allowed(1)).get(10, TimeUnit.SECONDS); // ...until a record arrives, which gets one after it
    }
    assertThat(Trail.records(dir())).extracting(r -> r.path("checkpoint").path("reason").asText("-"))
        .containsExactly("start", "-", "periodic", "-", "periodic", "shutdown");
  }

  @Test
  void everyCheckpointLineGoesVerbatimToTheExternalFileAndStdout() throws Exception {
    Path key = Trail.newKey(tmp, "cp.pem");
    Path external = tmp.resolve("anchor").resolve("checkpoints.jsonl");
    Files.createDirectories(external.getParent());
    AuditConfig config = new AuditConfig(dir(), AuditConfig.Durability.SYNC, null)
        .withCheckpoint(new AuditConfig.Checkpoint(key, INTERVAL, external, true));
    ByteArrayOutputStream stdout = new ByteArrayOutputStream();
    try (AuditLog log = AuditLog.open(config, new DrivenClock(T0),
        AuditLog.Options.defaults().withStdout(stdout))) {
      log.append(allowed(0)).get(10, TimeUnit.SECONDS);
    }
    List<String> checkpointLines = Files.readAllLines(AuditFiles.list(dir()).get(0)).stream()
        .filter(l -> l.contains("\"type\":\"checkpoint\"")).toList();
    assertThat(checkpointLines).hasSize(2);
    assertThat(Files.readAllLines(external)).isEqualTo(checkpointLines);
    assertThat(stdout.toString(StandardCharsets.UTF_8).lines().toList()).isEqualTo(checkpointLines);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(external))).isEqualTo("rw-------");
  }

  @Test
  void aFailingExternalSinkIsCountedAndNeverBreaksTheChain() throws Exception {
    Path key = Trail.newKey(tmp, "cp.pem");
    Path external = tmp.resolve("no-such-dir").resolve("checkpoints.jsonl");
    AtomicInteger exportFailures = new AtomicInteger();
    AuditLog.Events events = new AuditLog.Events() {
      @Override
      public void exportFailed() {
        exportFailures.incrementAndGet();
      }
    };
    AuditConfig config = new AuditConfig(dir(), null, null)
        .withCheckpoint(new AuditConfig.Checkpoint(key, INTERVAL, external, false));
    try (AuditLog log = AuditLog.open(config, new DrivenClock(T0), events)) {
      assertThat(log.append(allowed(0)).get(10, TimeUnit.SECONDS).seq()).isEqualTo(2);
      assertThat(log.healthy()).isTrue();
    }
    assertThat(exportFailures.get()).isEqualTo(2); // start and shutdown
    assertThat(Trail.ofType(Trail.records(dir()), "checkpoint")).hasSize(2);
  }

  @Test
  void anUnreadableKeyFailsOpenWithoutTouchingTheDirectoryOrPrintingTheKey() throws Exception {
    Path notAKey = tmp.resolve("cp.pem");
    String secretLooking = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"
        + "-----END PRIVATE KEY-----\n";
    Files.writeString(notAKey, secretLooking.replace("MC4CAQAwBQYDK2Vw", "MC4CAQAwBQYDK2Vx"));
    assertThatThrownBy(() -> AuditLog.open(Trail.withCheckpoints(dir(), notAKey, INTERVAL), new DrivenClock(T0)))
        .hasMessageContaining("audit.checkpoint.key_file").hasMessageContaining(notAKey.toString())
        .hasMessageContaining("audit keygen").satisfies(e -> assertThat(e.getMessage()).doesNotContain("MC4CAQ"));
    assertThat(Files.exists(dir().resolve(ChainId.FILE_NAME))).isFalse();
    Path missing = tmp.resolve("missing.pem");
    assertThatThrownBy(() -> AuditLog.open(Trail.withCheckpoints(dir(), missing, INTERVAL), new DrivenClock(T0)))
        .hasMessageContaining("missing.pem");
  }

  @Test
  void aCheckpointKeyFromOpensslIsAccepted() throws Exception {
    // what `openssl genpkey -algorithm ed25519` writes for the RFC 8032 test vector 1 secret key
    Path key = tmp.resolve("openssl.pem");
    Files.writeString(key, "-----BEGIN PRIVATE KEY-----\n"
        + "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n-----END PRIVATE KEY-----\n");
    try (AuditLog log = AuditLog.open(Trail.withCheckpoints(dir(), key, INTERVAL), new DrivenClock(T0))) {
      log.append(allowed(0)).get(10, TimeUnit.SECONDS);
    }
    ObjectNode start = Trail.records(dir()).get(0);
    // RFC 8032's public key for that secret: d75a9801…, whose X.509 form has this id
    PublicKey pub = Checkpoints.readPrivate(key).publicKey();
    assertThat(start.get("checkpoint").get("key_id").asText()).isEqualTo(Checkpoints.keyId(pub));
    assertThat(Checkpoints.publicPem(pub)).contains("MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=");
  }
}

package dev.vertexproxy.proxy.audit;

import static dev.vertexproxy.proxy.audit.TestEvents.CLOCK;
import static dev.vertexproxy.proxy.audit.TestEvents.allowed;
import static dev.vertexproxy.proxy.audit.TestEvents.config;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vertexproxy.proxy.audit.AuditLog.AuditReceipt;
import dev.vertexproxy.proxy.audit.AuditVerifier.VerifyResult;
import dev.vertexproxy.proxy.config.AuditConfig.Durability;
import dev.vertexproxy.proxy.lock.DirectoryInUseException;
import dev.vertexproxy.proxy.lock.DirectoryLock;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class AuditLogTest {
  @TempDir
  Path tmp;

  private Path dir() {
    return tmp.resolve("audit");
  }

  @Test
  void concurrentAppendsFormOneDenseChain() throws Exception {
    int threads = 8;
    int perThread = 500;
    List<CompletableFuture<AuditReceipt>> futures = new ArrayList<>();
    try (AuditLog log = AuditLog.open(config(dir(), Durability.GROUP_COMMIT), CLOCK)) {
      ExecutorService pool = Executors.newFixedThreadPool(threads);
      CountDownLatch start = new CountDownLatch(1);
      List<CompletableFuture<List<CompletableFuture<AuditReceipt>>>> submitted = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int thread = t;
        submitted.add(CompletableFuture.supplyAsync(() -> {
          await(start);
          List<CompletableFuture<AuditReceipt>> mine = new ArrayList<>();
          for (int i = 0; i < perThread; i++) {
            mine.add(log.append(allowed(thread * perThread + i)));
          }
          return mine;
        }, pool));
      }
      start.countDown();
      for (var s : submitted) {
        futures.addAll(s.get(30, TimeUnit.SECONDS));
      }
      pool.shutdown();
      CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
      assertThat(log.appended()).isEqualTo(threads * perThread);
      assertThat(log.failed()).isZero();
      assertThat(log.healthy()).isTrue();
    }
    List<Long> seqs = futures.stream().map(f -> f.join().seq()).sorted().collect(Collectors.toList());
    assertThat(seqs).isEqualTo(LongStream.rangeClosed(1, threads * perThread).boxed().collect(Collectors.toList()));
    VerifyResult result = AuditVerifier.verify(dir());
    assertThat(result.firstProblem()).isNull();
    assertThat(result.ok()).isTrue();
    assertThat(result.records()).isEqualTo(threads * perThread);
    assertThat(result.lastSeq()).isEqualTo(threads * perThread);
  }

  @ParameterizedTest
  @EnumSource(Durability.class)
  void everyDurabilityModeWritesAVerifiableChain(Durability durability) throws Exception {
    ControlledChannel.Control control = new ControlledChannel.Control();
    try (AuditLog log = AuditLog.open(config(dir(), durability), CLOCK, 1 << 20, 1000, control.opener())) {
      List<CompletableFuture<AuditReceipt>> futures = new ArrayList<>();
      for (int i = 0; i < 50; i++) {
        futures.add(log.append(allowed(i)));
      }
      for (int i = 0; i < 50; i++) {
        assertThat(futures.get(i).get(10, TimeUnit.SECONDS).seq()).isEqualTo(i + 1);
      }
      int forces = control.forces.get();
      switch (durability) {
        case NONE -> assertThat(forces).isZero();
        case SYNC -> assertThat(forces).isEqualTo(50);
        case GROUP_COMMIT -> assertThat(forces).isBetween(1, 50);
      }
    }
    assertThat(AuditVerifier.verify(dir()).records()).isEqualTo(50);
  }

  @Test
  void groupCommitSyncsOnceForEverythingQueuedWhileTheDiskWasBusy() throws Exception {
    ControlledChannel.Control control = new ControlledChannel.Control();
    control.writeGate = new CountDownLatch(1);
    try (AuditLog log = AuditLog.open(config(dir(), Durability.GROUP_COMMIT), CLOCK, 1 << 20, 1000,
        control.opener())) {
      CompletableFuture<AuditReceipt> first = log.append(allowed(0));
      assertThat(control.writeEntered.await(10, TimeUnit.SECONDS)).isTrue();
      List<CompletableFuture<AuditReceipt>> queued = new ArrayList<>();
      for (int i = 1; i < 100; i++) {
        queued.add(log.append(allowed(i)));
      }
      assertThat(first).isNotDone();
      assertThat(queued.get(0)).isNotDone(); // not complete before its batch is synced
      control.writeGate.countDown();
      CompletableFuture.allOf(queued.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
      assertThat(first.join().seq()).isEqualTo(1);
      assertThat(queued.get(98).join().seq()).isEqualTo(100);
      assertThat(control.forces.get()).isEqualTo(2); // the first record's batch, then one for the other 99
    }
    assertThat(AuditVerifier.verify(dir()).records()).isEqualTo(100);
  }

  @Test
  void reopeningResumesTheChainInANewFile() throws Exception {
    AuditReceipt lastBefore;
    try (AuditLog log = AuditLog.open(config(dir(), Durability.SYNC), CLOCK)) {
      for (int i = 0; i < 9; i++) {
        log.append(allowed(i));
      }
      lastBefore = log.append(allowed(9)).get(10, TimeUnit.SECONDS);
    }
    AuditReceipt firstAfter;
    try (AuditLog log = AuditLog.open(config(dir(), Durability.SYNC), CLOCK)) {
      firstAfter = log.append(allowed(10)).get(10, TimeUnit.SECONDS);
      for (int i = 11; i < 20; i++) {
        log.append(allowed(i));
      }
    }
    assertThat(lastBefore.seq()).isEqualTo(10);
    assertThat(firstAfter.seq()).isEqualTo(11);
    try (Stream<ObjectNode> records = AuditReader.records(dir())) {
      ObjectNode eleventh = records.filter(r -> r.get("seq").asLong() == 11).findFirst().orElseThrow();
      assertThat(eleventh.get("prev_hash").asText()).isEqualTo(lastBefore.hash());
    }
    assertThat(AuditFiles.list(dir())).extracting(p -> p.getFileName().toString())
        .containsExactly("audit-20260501T120000Z-1.jsonl", "audit-20260501T120000Z-11.jsonl");
    VerifyResult result = AuditVerifier.verify(dir());
    assertThat(result.ok()).isTrue();
    assertThat(result.records()).isEqualTo(20);
  }

  @Test
  void reopeningAfterATornLastLineLeavesItSealsItAndContinuesFromTheLastCompleteRecord() throws Exception {
    try (AuditLog log = AuditLog.open(config(dir(), Durability.NONE), CLOCK)) {
      for (int i = 0; i < 4; i++) {
        log.append(allowed(i));
      }
      log.append(allowed(4)).get(10, TimeUnit.SECONDS);
    }
    Path file = AuditFiles.list(dir()).get(0);
    byte[] bytes = Files.readAllBytes(file);
    Files.write(file, Arrays.copyOf(bytes, bytes.length - 40)); // a crash in the middle of record 5
    try (AuditLog log = AuditLog.open(config(dir(), Durability.NONE), CLOCK)) {
      // seq 5 is the seal of the partial line (AuditSealTest has its fields); the next record follows it
      assertThat(log.append(allowed(5)).get(10, TimeUnit.SECONDS).seq()).isEqualTo(6);
    }
    assertThat(Files.size(file)).isEqualTo(bytes.length - 40); // never appended to
    Path next = AuditFiles.list(dir()).get(1);
    List<String> lines = Files.readAllLines(next);
    assertThat(AuditRecords.parse(lines.get(0).getBytes(StandardCharsets.UTF_8)).get("type").asText())
        .isEqualTo("seal");
    VerifyResult result = AuditVerifier.verify(dir());
    assertThat(result.ok()).isTrue();
    assertThat(result.records()).isEqualTo(6);
    assertThat(result.lastSeq()).isEqualTo(6);

    // and tampering after the torn line is still found: change the record written after the restart
    Files.writeString(next, Files.readString(next).replace("\"decision\":\"allow\"", "\"decision\":\"deny\""));
    VerifyResult tampered = AuditVerifier.verify(dir());
    assertThat(tampered.ok()).isFalse();
    assertThat(tampered.firstProblem()).startsWith(next.getFileName() + ":2 (seq 6): hash mismatch");
  }

  @Test
  void truncatingACommittedRecordIsNotMistakenForACrash() throws Exception {
    try (AuditLog log = AuditLog.open(config(dir(), Durability.NONE), CLOCK)) {
      for (int i = 0; i < 4; i++) {
        log.append(allowed(i)).get(10, TimeUnit.SECONDS);
      }
    }
    try (AuditLog log = AuditLog.open(config(dir(), Durability.NONE), CLOCK)) {
      log.append(allowed(4)).get(10, TimeUnit.SECONDS); // seq 5, in a second file
    }
    Path first = AuditFiles.list(dir()).get(0);
    byte[] bytes = Files.readAllBytes(first);
    Files.write(first, Arrays.copyOf(bytes, bytes.length - 30)); // cut into committed record 4
    VerifyResult result = AuditVerifier.verify(dir());
    assertThat(result.ok()).isFalse();
    assertThat(result.firstProblem()).contains(":4: an incomplete line").contains("does not seal — a record was cut");
  }

  @Test
  void rotatesToANewFileOnceTheCurrentOneIsFull() throws Exception {
    try (AuditLog log = AuditLog.open(config(dir(), Durability.NONE), CLOCK, 2_000, 100)) {
      for (int i = 0; i < 30; i++) {
        log.append(allowed(i)).get(10, TimeUnit.SECONDS); // one record per batch so every file is bounded
      }
    }
    List<Path> files = AuditFiles.list(dir());
    assertThat(files).hasSizeGreaterThan(4);
    // chain order is numeric by first seq, so "-10" follows "-7" although it sorts before it as text
    assertThat(files).extracting(AuditFiles::firstSeqOf).isSorted()
        .anyMatch(seq -> seq >= 10 && String.valueOf(seq).compareTo("9") < 0);
    for (Path file : files) {
      assertThat(Files.size(file)).isLessThan(2_000 + 1_000);
    }
    VerifyResult result = AuditVerifier.verify(dir());
    assertThat(result.ok()).isTrue();
    assertThat(result.records()).isEqualTo(30);
  }

  @Test
  void createsAnOwnerOnlyDirectoryAndFiles() throws Exception {
    try (AuditLog log = AuditLog.open(config(dir(), Durability.NONE), CLOCK)) {
      log.append(allowed(0)).get(10, TimeUnit.SECONDS);
    }
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir()))).isEqualTo("rwx------");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(AuditFiles.list(dir()).get(0))))
        .isEqualTo("rw-------");
  }

  @Test
  void aFullQueueFailsTheAppendAtOnce() throws Exception {
    ControlledChannel.Control control = new ControlledChannel.Control();
    control.writeGate = new CountDownLatch(1);
    try (AuditLog log = AuditLog.open(config(dir(), Durability.GROUP_COMMIT), CLOCK, 1 << 20, 2,
        control.opener())) {
      CompletableFuture<AuditReceipt> inWrite = log.append(allowed(0));
      assertThat(control.writeEntered.await(10, TimeUnit.SECONDS)).isTrue();
      CompletableFuture<AuditReceipt> queued1 = log.append(allowed(1));
      CompletableFuture<AuditReceipt> queued2 = log.append(allowed(2));
      CompletableFuture<AuditReceipt> rejected = log.append(allowed(3));

      assertThat(rejected).isCompletedExceptionally();
      assertThatThrownBy(rejected::join).hasCauseInstanceOf(AuditException.class)
          .cause().satisfies(e -> assertThat(((AuditException) e).kind()).isEqualTo(AuditException.Kind.QUEUE_FULL));
      assertThat(log.failed()).isEqualTo(1);
      assertThat(log.healthy()).isTrue(); // a full queue is back-pressure, not a broken disk

      control.writeGate.countDown();
      assertThat(inWrite.get(10, TimeUnit.SECONDS).seq()).isEqualTo(1);
      assertThat(queued2.get(10, TimeUnit.SECONDS).seq()).isEqualTo(3);
      assertThat(queued1.join().seq()).isEqualTo(2);
    }
    assertThat(AuditVerifier.verify(dir()).records()).isEqualTo(3);
  }

  /** Counts what the log reports through {@link AuditLog.Events}. */
  private static final class CountingEvents implements AuditLog.Events {
    final List<String> seen = new CopyOnWriteArrayList<>();

    @Override
    public void batchWritten(int records, long writeNanos, long syncNanos) {
      seen.add("batch " + records + (writeNanos >= 0 ? " written" : " ?") + (syncNanos >= 0 ? " synced" : " unsynced"));
    }

    @Override
    public void failed(AuditException.Kind kind) {
      seen.add("failed " + kind);
    }
  }

  @Test
  void batchesAndFailuresAreReportedAsTheyHappen() throws Exception {
    ControlledChannel.Control control = new ControlledChannel.Control();
    CountingEvents events = new CountingEvents();
    try (AuditLog log = AuditLog.open(config(dir(), Durability.GROUP_COMMIT), CLOCK, 1 << 20, 100, control.opener(),
        events)) {
      log.append(allowed(0)).get(10, TimeUnit.SECONDS);
      control.failWrites = true;
      CompletableFuture<AuditReceipt> lost = log.append(allowed(1));
      assertThatThrownBy(() -> lost.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(AuditException.class);
      control.failWrites = false;
      log.append(allowed(2)).get(10, TimeUnit.SECONDS);
      assertThat(log.queueDepth()).isZero();
    }
    assertThat(events.seen).containsExactly("batch 1 written synced", "failed WRITE_FAILED", "batch 1 written synced");

    CountingEvents unsynced = new CountingEvents();
    try (AuditLog log = AuditLog.open(config(tmp.resolve("none"), Durability.NONE), CLOCK, 1 << 20, 100,
        AuditFiles::openOwnerOnly, unsynced)) {
      log.append(allowed(0)).get(10, TimeUnit.SECONDS);
    }
    assertThat(unsynced.seen).containsExactly("batch 1 written unsynced");
  }

  @Test
  void aFailedWriteFailsItsRecordsAndMarksTheLogUnhealthyUntilAWriteSucceeds() throws Exception {
    ControlledChannel.Control control = new ControlledChannel.Control();
    try (AuditLog log = AuditLog.open(config(dir(), Durability.GROUP_COMMIT), CLOCK, 1 << 20, 100,
        control.opener())) {
      assertThat(log.append(allowed(0)).get(10, TimeUnit.SECONDS).seq()).isEqualTo(1);

      control.failWrites = true;
      CompletableFuture<AuditReceipt> lost = log.append(allowed(1));
      assertThatThrownBy(() -> lost.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(AuditException.class);
      assertThat(log.healthy()).isFalse();
      assertThat(log.failed()).isEqualTo(1);

      control.failWrites = false;
      AuditReceipt next = log.append(allowed(2)).get(10, TimeUnit.SECONDS);
      assertThat(next.seq()).isEqualTo(2); // the lost record never entered the chain
      assertThat(log.healthy()).isTrue();
      assertThat(control.opens.get()).isEqualTo(2); // the retry went to a fresh file
    }
    VerifyResult result = AuditVerifier.verify(dir());
    assertThat(result.ok()).isTrue();
    assertThat(result.records()).isEqualTo(2);
  }

  @Test
  void aPartialWriteOrFailedFsyncIsCutBackSoTheTrailStillVerifies() throws Exception {
    ControlledChannel.Control control = new ControlledChannel.Control();
    try (AuditLog log = AuditLog.open(config(dir(), Durability.SYNC), CLOCK, 1 << 20, 100, control.opener())) {
      log.append(allowed(0)).get(10, TimeUnit.SECONDS);

      control.writeHalfThenFail = true;
      assertThatThrownBy(() -> log.append(allowed(1)).get(10, TimeUnit.SECONDS))
          .hasCauseInstanceOf(AuditException.class);
      control.writeHalfThenFail = false;

      control.failForce = true;
      assertThatThrownBy(() -> log.append(allowed(2)).get(10, TimeUnit.SECONDS))
          .hasCauseInstanceOf(AuditException.class);
      assertThat(log.healthy()).isFalse();
      control.failForce = false;

      assertThat(log.append(allowed(3)).get(10, TimeUnit.SECONDS).seq()).isEqualTo(2);
      assertThat(log.healthy()).isTrue();
      assertThat(log.appended()).isEqualTo(2);
      assertThat(log.failed()).isEqualTo(2);
    }
    VerifyResult result = AuditVerifier.verify(dir());
    assertThat(result.firstProblem()).isNull();
    assertThat(result.records()).isEqualTo(2);
    String all = Files.readString(AuditFiles.list(dir()).get(0), StandardCharsets.UTF_8);
    assertThat(all).doesNotContain("req-1").doesNotContain("req-2");
  }

  @Test
  void appendAfterCloseFailsAndCloseWritesWhatWasQueued() throws Exception {
    AuditLog log = AuditLog.open(config(dir(), Durability.NONE), CLOCK);
    List<CompletableFuture<AuditReceipt>> queued = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      queued.add(log.append(allowed(i)));
    }
    log.close();
    assertThat(queued).allSatisfy(f -> assertThat(f).isCompleted().isNotCompletedExceptionally());
    CompletableFuture<AuditReceipt> late = log.append(allowed(200));
    assertThatThrownBy(late::join).isInstanceOf(CompletionException.class)
        .cause().satisfies(e -> assertThat(((AuditException) e).kind()).isEqualTo(AuditException.Kind.CLOSED));
    log.close(); // idempotent
    assertThat(AuditVerifier.verify(dir()).records()).isEqualTo(200);
  }

  @Test
  void closingFromACallbackOnTheWriterThreadDoesNotDeadlock() throws Exception {
    AuditLog log = AuditLog.open(config(dir(), Durability.NONE), CLOCK);
    log.append(allowed(0)).thenRun(log::close).get(10, TimeUnit.SECONDS);
    assertThat(log.append(allowed(1))).isCompletedExceptionally();
    log.close();
    assertThat(AuditVerifier.verify(dir()).records()).isEqualTo(1);
  }

  @Test
  void refusesToResumeFromACorruptLastRecord() throws Exception {
    Files.createDirectories(dir());
    Files.writeString(dir().resolve("audit-20260501T110000Z-1.jsonl"), "{\"seq\":1,\"hash\":\"short\"}\n");
    assertThatThrownBy(() -> AuditLog.open(config(dir(), Durability.NONE), CLOCK))
        .isInstanceOf(IOException.class).hasMessageContaining("audit-20260501T110000Z-1.jsonl");
  }

  @Test
  void aSecondLogOnTheSameDirectoryIsRefusedAndTheFirstOneKeepsItsChain() throws Exception {
    try (AuditLog first = AuditLog.open(config(dir(), Durability.NONE), CLOCK)) {
      first.append(allowed(0)).get(10, TimeUnit.SECONDS);
      List<String> before = names(dir());
      Path real = dir().toRealPath();
      assertThatThrownBy(() -> AuditLog.open(config(dir(), Durability.NONE), CLOCK))
          .isInstanceOfSatisfying(DirectoryInUseException.class, e -> assertThat(e.getMessage())
              .contains("audit directory " + real)
              .contains("pid " + ProcessHandle.current().pid())
              .contains("audit.dir"));
      assertThat(names(dir())).isEqualTo(before);
      first.append(allowed(1)).get(10, TimeUnit.SECONDS);
      // readers do not take the lock: the live trail verifies, the lock file is not an audit file to them
      assertThat(AuditVerifier.verify(dir()).records()).isEqualTo(2);
      try (Stream<ObjectNode> records = AuditReader.records(dir())) {
        assertThat(records.count()).isEqualTo(2);
      }
    }
    try (AuditLog reopened = AuditLog.open(config(dir(), Durability.NONE), CLOCK)) { // released on close
      assertThat(reopened.append(allowed(2)).get(10, TimeUnit.SECONDS).seq()).isEqualTo(3);
    }
    VerifyResult result = AuditVerifier.verify(dir());
    assertThat(result.ok()).isTrue();
    assertThat(result.records()).isEqualTo(3);
    assertThat(result.warnings()).isEmpty();
    assertThat(names(dir())).contains(DirectoryLock.FILE_NAME);
  }

  @Test
  @SuppressWarnings("try") // `other` is held for its lock alone: the body checks what open() does meanwhile
  void aHeldDirectoryIsRefusedBeforeAnyAuditFileIsReadOrCreated() throws Exception {
    Files.createDirectories(dir());
    // a last record that open() would refuse to resume from: the lock must be checked before it is read
    Files.writeString(dir().resolve("audit-20260501T110000Z-1.jsonl"), "{\"seq\":1,\"hash\":\"short\"}\n");
    try (DirectoryLock other = DirectoryLock.acquire(dir(), "audit directory", "held by the test")) {
      List<String> before = names(dir());
      assertThat(before).containsExactly("audit-20260501T110000Z-1.jsonl", DirectoryLock.FILE_NAME);
      assertThatThrownBy(() -> AuditLog.open(config(dir(), Durability.NONE), CLOCK))
          .isInstanceOf(DirectoryInUseException.class);
      assertThat(names(dir())).isEqualTo(before);
    }
  }

  @Test
  void aLogThatCannotResumeReleasesTheDirectory() throws Exception {
    Files.createDirectories(dir());
    Path corrupt = dir().resolve("audit-20260501T110000Z-1.jsonl");
    Files.writeString(corrupt, "{\"seq\":1,\"hash\":\"short\"}\n");
    assertThatThrownBy(() -> AuditLog.open(config(dir(), Durability.NONE), CLOCK))
        .isNotInstanceOf(DirectoryInUseException.class).hasMessageContaining("audit-20260501T110000Z-1.jsonl");
    Files.delete(corrupt);
    AuditLog.open(config(dir(), Durability.NONE), CLOCK).close();
  }

  private static List<String> names(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void writesTheDocumentedRecordFields() throws Exception {
    try (AuditLog log = AuditLog.open(config(dir(), Durability.NONE), CLOCK)) {
      log.append(allowed(0)).get(10, TimeUnit.SECONDS);
      log.append(TestEvents.event(1, null, null, null, "deny", null, "route-not-found", 404))
          .get(10, TimeUnit.SECONDS);
    }
    List<String> lines = Files.readAllLines(AuditFiles.list(dir()).get(0));
    ObjectNode first = AuditRecords.parse(lines.get(0).getBytes(StandardCharsets.UTF_8));
    assertThat(first.get("time").asText()).isEqualTo("2026-05-01T12:00:00.123Z");
    assertThat(first.get("seq").asLong()).isEqualTo(1);
    assertThat(first.get("prev_hash").asText()).isEqualTo("0".repeat(64));
    assertThat(first.get("caller").get("claims").get("project_path").asText()).isEqualTo("acme/ml/forecasting");
    assertThat(fieldNames(first)).contains("time", "request_id", "caller", "source_ip",
        "http_method", "path", "method", "api_version", "resource", "project", "location", "decision", "rule",
        "reason", "google_principal", "status", "duration_ms", "bytes_in", "bytes_out", "policy_version",
        "user_agent", "seq", "prev_hash", "hash");
    ObjectNode second = AuditRecords.parse(lines.get(1).getBytes(StandardCharsets.UTF_8));
    assertThat(second.has("caller")).isFalse(); // null fields are omitted, never written as null
    assertThat(second.has("rule")).isFalse();
    assertThat(second.get("prev_hash").asText()).isEqualTo(first.get("hash").asText());
    assertThat(lines.get(0)).doesNotContain(" :").doesNotContain(": ");
  }

  private static List<String> fieldNames(JsonNode node) {
    List<String> names = new ArrayList<>();
    node.fieldNames().forEachRemaining(names::add);
    return names;
  }

  private static void await(CountDownLatch latch) {
    try {
      latch.await();
    } catch (InterruptedException e) {
      throw new IllegalStateException(e);
    }
  }
}

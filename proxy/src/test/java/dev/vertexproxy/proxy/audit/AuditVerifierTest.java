package dev.vertexproxy.proxy.audit;

import static dev.vertexproxy.proxy.audit.TestEvents.CLOCK;
import static dev.vertexproxy.proxy.audit.TestEvents.allowed;
import static dev.vertexproxy.proxy.audit.TestEvents.config;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vertexproxy.proxy.audit.AuditVerifier.VerifyResult;
import dev.vertexproxy.proxy.config.AuditConfig.Durability;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Tampering with a written trail in the ways an editor would, and the verifier naming the record that was hit. */
class AuditVerifierTest {
  @TempDir
  Path dir;
  Path file;
  String name;

  @BeforeEach
  void writeThirtyRecords() throws Exception {
    try (AuditLog log = AuditLog.open(config(dir, Durability.NONE), CLOCK)) {
      for (int i = 0; i < 29; i++) {
        log.append(allowed(i));
      }
      log.append(allowed(29)).get(10, TimeUnit.SECONDS);
    }
    file = AuditFiles.list(dir).get(0);
    name = file.getFileName().toString();
    assertThat(AuditVerifier.verify(dir).ok()).isTrue();
  }

  private List<String> lines() throws Exception {
    return new ArrayList<>(Files.readAllLines(file, StandardCharsets.UTF_8));
  }

  private void rewrite(List<String> lines) throws Exception {
    Files.writeString(file, String.join("\n", lines) + "\n", StandardCharsets.UTF_8);
  }

  @Test
  void anIntactTrailVerifies() {
    VerifyResult result = AuditVerifier.verify(dir);
    assertThat(result).extracting(VerifyResult::ok, VerifyResult::records, VerifyResult::firstProblem,
        VerifyResult::lastSeq).containsExactly(true, 30L, null, 30L);
    assertThat(result.lastHash()).hasSize(64);
  }

  @Test
  void oneChangedCharacterInsideAValueIsAHashMismatchAtThatRecord() throws Exception {
    List<String> lines = lines();
    lines.set(16, lines.get(16).replace("\"request_id\":\"req-16\"", "\"request_id\":\"req-1X\""));
    rewrite(lines);
    VerifyResult result = AuditVerifier.verify(dir);
    assertThat(result.ok()).isFalse();
    assertThat(result.firstProblem()).isEqualTo(name + ":17 (seq 17): hash mismatch — the record was changed");
    assertThat(result.records()).isEqualTo(16);
    assertThat(result.lastSeq()).isEqualTo(16);
  }

  @Test
  void aChangedDecisionIsCaughtEvenWithTheKeysReordered() throws Exception {
    List<String> lines = lines();
    ObjectNode record = AuditRecords.parse(lines.get(4).getBytes(StandardCharsets.UTF_8));
    record.put("status", 403);
    lines.set(4, record.toString());
    rewrite(lines);
    assertThat(AuditVerifier.verify(dir).firstProblem()).isEqualTo(name + ":5 (seq 5): hash mismatch — the record was changed");
  }

  @Test
  void aDeletedLineIsAGapNamingTheMissingRecord() throws Exception {
    List<String> lines = lines();
    lines.remove(16);
    rewrite(lines);
    assertThat(AuditVerifier.verify(dir).firstProblem())
        .isEqualTo(name + ":17 (seq 18): seq 18 follows 16 — record 17 was removed (or moved)");
  }

  @Test
  void swappedLinesAreNamedAsReorderedAtTheOneOutOfPlace() throws Exception {
    List<String> lines = lines();
    Collections.swap(lines, 15, 16);
    rewrite(lines);
    VerifyResult result = AuditVerifier.verify(dir);
    assertThat(result.firstProblem()).isEqualTo(name + ":17 (seq 16): seq 16 follows 17 — record 16 is out of order (it"
        + " belongs before " + name + ":16 (seq 17)) — records were reordered");
    assertThat(result.records()).isEqualTo(15);
  }

  @Test
  void aRecordMovedWithItsSeqRenumberedAndRehashedStillBreaksTheLink() throws Exception {
    // An editor who drops record 17, renumbers 18 as 17 and recomputes its hash cannot also fix prev_hash
    // without rewriting every later record.
    List<String> lines = lines();
    ObjectNode eighteen = AuditRecords.parse(lines.get(17).getBytes(StandardCharsets.UTF_8));
    eighteen.remove("hash");
    eighteen.put("seq", 17);
    eighteen.put("hash", AuditRecords.hash(eighteen));
    lines.set(16, new String(AuditRecords.canonical(eighteen), StandardCharsets.UTF_8));
    lines.remove(17);
    rewrite(lines);
    assertThat(AuditVerifier.verify(dir).firstProblem())
        .isEqualTo(name + ":17 (seq 17): prev_hash does not match record 16 — records were reordered or removed");
  }

  @Test
  void aTruncatedLastLineIsReportedAsTorn() throws Exception {
    byte[] bytes = Files.readAllBytes(file);
    Files.write(file, Arrays.copyOf(bytes, bytes.length - 25));
    VerifyResult result = AuditVerifier.verify(dir);
    assertThat(result.warnings()).singleElement().asString()
        .startsWith(name + ":30: incomplete last line (no newline at the end)");
    assertThat(result.records()).isEqualTo(29);
  }

  @Test
  void aGarbledLineIsNotValidJson() throws Exception {
    List<String> lines = lines();
    lines.set(2, lines.get(2).substring(0, 40));
    rewrite(lines);
    assertThat(AuditVerifier.verify(dir).firstProblem())
        .isEqualTo(name + ":3: not valid JSON — the record was changed or truncated");
  }

  @Test
  void aDuplicatedKeyIsNotAcceptedAsValidJson() throws Exception {
    List<String> lines = lines();
    lines.set(2, lines.get(2).replace("{", "{\"decision\":\"deny\","));
    rewrite(lines);
    assertThat(AuditVerifier.verify(dir).firstProblem())
        .isEqualTo(name + ":3: not valid JSON — the record was changed or truncated");
  }

  @Test
  void aDeletedFirstFileIsAGapFromTheStart() throws Exception {
    try (AuditLog log = AuditLog.open(config(dir, Durability.NONE), CLOCK)) {
      log.append(allowed(30)).get(10, TimeUnit.SECONDS);
    }
    Files.delete(file);
    assertThat(AuditVerifier.verify(dir).firstProblem())
        .isEqualTo("audit-20260501T120000Z-31.jsonl:1 (seq 31): seq 31 follows 0 — records 1..30 were removed (or moved)");
  }

  @Test
  void anUnexpectedFileInTheTrailIsReported() throws Exception {
    Files.writeString(dir.resolve("audit-extra.jsonl"), "{}\n");
    assertThat(AuditVerifier.verify(dir).firstProblem()).startsWith("audit-extra.jsonl: not an audit file name");
  }

  @Test
  void aMissingDirectoryIsAProblemNotAnException() {
    VerifyResult result = AuditVerifier.verify(dir.resolve("nope"));
    assertThat(result.ok()).isFalse();
    assertThat(result.firstProblem()).endsWith("nope: no such directory");
  }

  @Test
  void anEmptyDirectoryIsAnEmptyIntactTrail() throws Exception {
    Path empty = Files.createDirectory(dir.resolve("empty"));
    assertThat(AuditVerifier.verify(empty)).extracting(VerifyResult::ok, VerifyResult::records)
        .containsExactly(true, 0L);
  }
}

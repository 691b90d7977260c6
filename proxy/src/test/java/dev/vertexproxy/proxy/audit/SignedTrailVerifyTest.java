package dev.vertexproxy.proxy.audit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vertexproxy.proxy.audit.ChainReport.Tail;
import dev.vertexproxy.proxy.audit.Checkpoints.SigningKey;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tampering with signed, multi-file trails written per docs/audit.md ({@link TrailFixture}), one kind of edit per
 * test, and the verifier naming what was done — and passing what was not tampered with.
 */
class SignedTrailVerifyTest {
  private static final SigningKey KEY = Checkpoints.generate();
  private static final SigningKey OTHER_KEY = Checkpoints.generate();

  @TempDir
  Path tmp;

  private static VerifyOptions withKey() {
    return new VerifyOptions(List.of(KEY.publicKey()), List.of(), null);
  }

  private static VerifyOptions withKeyAnd(Path external) {
    return new VerifyOptions(List.of(KEY.publicKey()), List.of(external), null);
  }

  /** Three files (start, rotation, rotation), 10 exchanges each, closed by a shutdown checkpoint: seqs 1..34. */
  private TrailFixture threeFiles(Path dir, String chainId) throws IOException {
    return new TrailFixture(dir, chainId, KEY).start().exchanges(10).rotate().exchanges(10).rotate().exchanges(10)
        .shutdown();
  }

  private static List<String> lines(Path file) throws IOException {
    return new ArrayList<>(Files.readAllLines(file, StandardCharsets.UTF_8));
  }

  private static void write(Path file, List<String> lines) throws IOException {
    Files.writeString(file, String.join("\n", lines) + "\n", StandardCharsets.UTF_8);
  }

  private static String name(Path file) {
    return file.getFileName().toString();
  }

  @Test
  void aCleanTwoReplicaMultiFileTrailVerifiesWithTheKey() throws Exception {
    TrailFixture a = threeFiles(tmp.resolve("a"), "replica-a");
    TrailFixture b = new TrailFixture(tmp.resolve("b"), "replica-b", KEY).start().exchanges(5).rotate().exchanges(3)
        .shutdown();
    ChainReport ra = AuditVerifier.verify(tmp.resolve("a"), withKey());
    ChainReport rb = AuditVerifier.verify(tmp.resolve("b"), withKey());
    assertThat(ra.problems()).isEmpty();
    assertThat(ra.warnings()).isEmpty();
    assertThat(ra).extracting(ChainReport::ok, ChainReport::chainId, ChainReport::files, ChainReport::records,
        ChainReport::firstSeq, ChainReport::lastSeq, ChainReport::lastHash, ChainReport::checkpoints,
        ChainReport::checkpointsVerified, ChainReport::lastCheckpointSeq, ChainReport::unsignedRecords,
        ChainReport::tail).containsExactly(true, "replica-a", 3, 34L, 1L, 34L, a.head(), 4L, 4L, 34L, 0L, Tail.CLOSED);
    assertThat(rb).extracting(ChainReport::ok, ChainReport::chainId, ChainReport::records, ChainReport::lastHash,
        ChainReport::checkpointsVerified).containsExactly(true, "replica-b", 11L, b.head(), 3L);
    assertThat(AuditVerifier.verify(tmp.resolve("a")).ok()).isTrue(); // and the chain-only view agrees
  }

  @Test
  void aChangedByteIsAHashMismatchAtThatRecordAndNothingElse() throws Exception {
    TrailFixture trail = threeFiles(tmp, "a");
    Path middle = trail.files().get(1);
    List<String> lines = lines(middle);
    lines.set(4, lines.get(4).replace("\"decision\":\"allow\"", "\"decision\":\"allpw\""));
    write(middle, lines);
    ChainReport report = AuditVerifier.verify(tmp, withKey());
    assertThat(report.ok()).isFalse();
    assertThat(report.problems()).containsExactly(name(middle) + ":5 (seq 16): hash mismatch — the record was changed");
    assertThat(report.beforeFirstProblem().lastSeq()).isEqualTo(15);
  }

  @Test
  void aDeletedRecordIsAGapNamingIt() throws Exception {
    TrailFixture trail = threeFiles(tmp, "a");
    Path first = trail.files().get(0);
    List<String> lines = lines(first);
    lines.remove(3); // seq 4
    write(first, lines);
    assertThat(AuditVerifier.verify(tmp, withKey()).problems())
        .containsExactly(name(first) + ":4 (seq 5): seq 5 follows 3 — record 4 was removed (or moved)");
  }

  @Test
  void anInsertedRecordWithAValidHashIsNamedAsInserted() throws Exception {
    TrailFixture trail = threeFiles(tmp, "a");
    Path first = trail.files().get(0);
    List<String> lines = lines(first);
    // A forged record 5 that links to record 4 and has a correct hash, put in before the real record 5.
    ObjectNode forged = AuditRecords.parse(lines.get(4).getBytes(StandardCharsets.UTF_8));
    forged.remove("hash");
    forged.put("decision", "deny");
    forged.put("hash", AuditRecords.hash(forged));
    lines.add(4, AuditRecords.utf8(AuditRecords.canonical(forged)));
    write(first, lines);
    assertThat(AuditVerifier.verify(tmp, withKey()).problems()).singleElement().asString()
        .isEqualTo(name(first) + ":6 (seq 5): a second, different record with seq 5 (the other is " + name(first)
            + ":5 (seq 5)) — a record was inserted");
  }

  @Test
  void aDuplicatedRecordIsNamedAsACopy() throws Exception {
    TrailFixture trail = threeFiles(tmp, "a");
    Path first = trail.files().get(0);
    List<String> lines = lines(first);
    lines.add(7, lines.get(6));
    write(first, lines);
    assertThat(AuditVerifier.verify(tmp, withKey()).problems())
        .containsExactly(name(first) + ":8 (seq 7): a copy of " + name(first) + ":7 (seq 7) — a record was duplicated");
  }

  @Test
  void swappedRecordsAreNamedAsReorderedNotAsARemoval() throws Exception {
    TrailFixture trail = threeFiles(tmp, "a");
    Path first = trail.files().get(0);
    List<String> lines = lines(first);
    Collections.swap(lines, 4, 5); // seq 5 and 6
    write(first, lines);
    assertThat(AuditVerifier.verify(tmp, withKey()).problems()).containsExactly(name(first) + ":6 (seq 5): seq 5"
        + " follows 6 — record 5 is out of order (it belongs before " + name(first) + ":5 (seq 6)) — records were"
        + " reordered");
  }

  @Test
  void aRecordMovedToAnotherFileIsStillNamedAsReordered() throws Exception {
    TrailFixture trail = threeFiles(tmp, "a");
    List<String> first = lines(trail.files().get(0));
    List<String> last = lines(trail.files().get(2));
    last.add(3, first.remove(2)); // seq 3 moved into the last file
    write(trail.files().get(0), first);
    write(trail.files().get(2), last);
    assertThat(AuditVerifier.verify(tmp, withKey()).problems()).singleElement().asString()
        .startsWith(name(trail.files().get(2)) + ":4 (seq 3): seq 3 follows 25 — record 3 is out of order");
  }

  @Test
  void aCutTailIsFoundByTheExternalCheckpoints() throws Exception {
    Path external = tmp.resolve("anchor.jsonl");
    Path dir = tmp.resolve("audit");
    TrailFixture trail = new TrailFixture(dir, "a", KEY).external(external).start().exchanges(10)
        .advance(Duration.ofMinutes(5)).checkpoint("periodic").exchanges(4).shutdown();
    assertThat(AuditVerifier.verify(dir, withKeyAnd(external)).ok()).isTrue();
    Path file = trail.files().get(0);
    List<String> lines = lines(file);
    String lastKept = lines.get(lines.size() - 6); // seq 12, the periodic checkpoint
    write(file, lines.subList(0, lines.size() - 5)); // seqs 13..17 gone: 4 exchanges and the shutdown checkpoint
    String since = AuditRecords.parse(lastKept.getBytes(StandardCharsets.UTF_8)).get("time").asText();
    ChainReport cut = AuditVerifier.verify(dir, withKeyAnd(external));
    assertThat(cut.tail()).isEqualTo(Tail.CUT);
    assertThat(cut.problems()).singleElement().asString()
        .contains("truncated tail: records 13..17 missing (since " + since + ")").contains("the trail ends at seq 12");
    // Without the anchor the same cut looks like a crash right after a checkpoint: a warning, not a failure.
    ChainReport alone = AuditVerifier.verify(dir, withKey());
    assertThat(alone).extracting(ChainReport::ok, ChainReport::tail).containsExactly(true, Tail.OPEN);
    assertThat(alone.warnings()).singleElement().asString().startsWith("the trail ends at a checkpoint that is not a"
        + " shutdown one (seq 12,");
  }

  @Test
  void checkpointsThatStoppedLongBeforeTheEndAreACut() throws Exception {
    new TrailFixture(tmp, "a", KEY).start().exchanges(3).advance(Duration.ofMinutes(11)).exchanges(2);
    ChainReport report = AuditVerifier.verify(tmp, withKey());
    assertThat(report.tail()).isEqualTo(Tail.CUT);
    assertThat(report.problems()).singleElement().asString()
        .contains("checkpoints stopped at seq 1 (2026-05-01T12:00:00.000Z) — the tail may have been cut: 5 records"
            + " follow it over PT11M5S (more than PT10M)");
  }

  @Test
  void unsignedRecordsWithinTwoIntervalsOfTheLastCheckpointAreAnOpenTailWarning() throws Exception {
    new TrailFixture(tmp, "a", KEY).start().exchanges(3).advance(Duration.ofMinutes(9)).exchanges(2);
    ChainReport report = AuditVerifier.verify(tmp, withKey());
    assertThat(report).extracting(ChainReport::ok, ChainReport::tail, ChainReport::unsignedRecords)
        .containsExactly(true, Tail.OPEN, 5L);
    assertThat(report.warnings()).singleElement().asString()
        .startsWith("5 records after the last checkpoint (seq 1, 2026-05-01T12:00:00.000Z) are not signed yet");
    // A tighter bound given by the reviewer turns the same tail into a cut.
    ChainReport strict = AuditVerifier.verify(tmp, new VerifyOptions(List.of(KEY.publicKey()), List.of(),
        Duration.ofMinutes(5)));
    assertThat(strict.tail()).isEqualTo(Tail.CUT);
  }

  @Test
  void aMissingMiddleFileIsNamedWithItsRange() throws Exception {
    TrailFixture trail = threeFiles(tmp, "a");
    Files.delete(trail.files().get(1));
    assertThat(AuditVerifier.verify(tmp, withKey()).problems()).containsExactly(name(trail.files().get(2))
        + ":1 (seq 23): seq 23 follows 11 — records 12..22 were removed (or moved): a whole file is missing between "
        + name(trail.files().get(0)) + " and " + name(trail.files().get(2)));
  }

  @Test
  void aFileOfAnotherChainMixedInIsNamedOnce() throws Exception {
    TrailFixture a = threeFiles(tmp.resolve("a"), "replica-a");
    TrailFixture b = threeFiles(tmp.resolve("b"), "replica-b");
    Path foreign = tmp.resolve("a").resolve(name(b.files().get(1)).replace("-12.jsonl", "-40.jsonl"));
    Files.copy(b.files().get(1), foreign);
    ChainReport report = AuditVerifier.verify(tmp.resolve("a"), withKey());
    assertThat(report.problems()).containsExactly(name(foreign) + ": the file holds records of chain replica-b, not of"
        + " this directory's chain replica-a — a file from another replica was mixed in; its records were not checked"
        + " against this chain");
    assertThat(report.records()).isEqualTo(34);
    assertThat(a.seq()).isEqualTo(34);
  }

  @Test
  void aForeignFileIsFoundEvenWithoutAChainIdFile() throws Exception {
    threeFiles(tmp.resolve("a"), "replica-a");
    TrailFixture b = threeFiles(tmp.resolve("b"), "replica-b");
    Files.delete(tmp.resolve("a").resolve("chain-id"));
    Files.copy(b.files().get(0), tmp.resolve("a").resolve(name(b.files().get(0)).replace("T12", "T11")));
    ChainReport report = AuditVerifier.verify(tmp.resolve("a"), withKey());
    assertThat(report.chainId()).isEqualTo("replica-a"); // the majority of files, not whichever sorts first
    assertThat(report.problems()).singleElement().asString().contains("holds records of chain replica-b");
  }

  @Test
  void aBadSignatureIsNamed() throws Exception {
    TrailFixture trail = threeFiles(tmp, "a");
    Path last = trail.current();
    int shutdownLine = lines(last).size();
    TrailFixture.rehashLine(last, shutdownLine, record -> {
      ObjectNode cp = (ObjectNode) record.get("checkpoint");
      String forged = Checkpoints.sign(OTHER_KEY, Checkpoints.payload("a", cp.get("seq").asLong(),
          cp.get("hash").asText(), cp.get("time").asText()));
      cp.put("signature", forged); // key_id still names the real key
    });
    assertThat(AuditVerifier.verify(tmp, withKey()).problems()).containsExactly(name(last) + ":" + shutdownLine
        + " (seq 34): the checkpoint's signature does not verify with key " + KEY.keyId() + " — the checkpoint (or its"
        + " seq, hash, time or chain id) was changed");
  }

  @Test
  void aCheckpointWithoutASignatureIsAProblemEvenWithoutAKey() throws Exception {
    TrailFixture trail = threeFiles(tmp, "a");
    Path last = trail.current();
    int shutdownLine = lines(last).size();
    TrailFixture.rehashLine(last, shutdownLine, record -> ((ObjectNode) record.get("checkpoint")).remove("signature"));
    String expected = name(last) + ":" + shutdownLine + " (seq 34): the checkpoint has no signature — an unsigned"
        + " checkpoint proves nothing (forged, or written by a tool other than the proxy)";
    assertThat(AuditVerifier.verify(tmp, withKey()).problems()).containsExactly(expected);
    assertThat(AuditVerifier.verify(tmp, VerifyOptions.CHAIN_ONLY).problems()).containsExactly(expected);
  }

  @Test
  void aKeyGivenForATrailWithoutCheckpointsIsAFailure() throws Exception {
    new TrailFixture(tmp, "a", null).start().exchanges(5);
    ChainReport report = AuditVerifier.verify(tmp, withKey());
    assertThat(report.problems()).singleElement().asString().endsWith(": no checkpoint in the trail — nothing in it is"
        + " signed, so --key cannot vouch for it (is audit.checkpoint configured?)");
    assertThat(AuditVerifier.verify(tmp, VerifyOptions.CHAIN_ONLY))
        .extracting(ChainReport::ok, ChainReport::tail, ChainReport::unsignedRecords)
        .containsExactly(true, Tail.UNSIGNED, 5L);
  }

  @Test
  void aCheckpointThatSignsAnotherRecordThanTheOneBeforeItIsNamed() throws Exception {
    TrailFixture trail = new TrailFixture(tmp, "a", KEY).start().exchanges(3);
    String twoBack = trail.head();
    trail.exchanges(1).checkpoint("shutdown", trail.seq() - 1, twoBack, KEY); // correctly signed, but for seq 4
    ChainReport report = AuditVerifier.verify(tmp, withKey());
    assertThat(report.problems()).singleElement().asString().startsWith(name(trail.current()) + ":6 (seq 6): the"
        + " checkpoint signs seq 4 hash " + twoBack.substring(0, 12) + "…, but the record before it is seq 5")
        .endsWith("— the checkpoint does not match its records (moved or forged)");
  }

  @Test
  void aTrailSignedByAnotherKeyFailsAgainstTheRealKey() throws Exception {
    new TrailFixture(tmp, "a", OTHER_KEY).start().exchanges(3).shutdown();
    ChainReport report = AuditVerifier.verify(tmp, withKey());
    assertThat(report.problems()).hasSize(2).allSatisfy(problem -> assertThat(problem)
        .contains("the checkpoint is signed by key " + OTHER_KEY.keyId() + ", none of the given keys (" + KEY.keyId()
            + ") — signed by another key"));
    assertThat(report.checkpointsVerified()).isZero();
    assertThat(AuditVerifier.verify(tmp, new VerifyOptions(List.of(KEY.publicKey(), OTHER_KEY.publicKey()), List.of(),
        null)).ok()).isTrue(); // a rotated key: both given, both accepted
  }

  @Test
  void aWholeChainRewrittenAndReSignedWithAnotherKeyPassesAloneButFailsAgainstTheRealKey() throws Exception {
    Path external = tmp.resolve("anchor.jsonl");
    Path dir = tmp.resolve("audit");
    new TrailFixture(dir, "a", KEY).external(external).start().exchanges(10).rotate().exchanges(10).shutdown();
    // The editor deletes the trail and writes one of the same shape, hashes recomputed, checkpoints re-signed.
    try (var files = Files.list(dir)) {
      for (Path file : files.filter(f -> name(f).startsWith("audit-")).toList()) {
        Files.delete(file);
      }
    }
    Files.delete(dir.resolve("chain-id"));
    new TrailFixture(dir, "a", OTHER_KEY).start().exchanges(9).rotate().exchanges(11).shutdown();
    assertThat(AuditVerifier.verify(dir, VerifyOptions.CHAIN_ONLY).ok()).isTrue(); // the chain alone cannot tell
    ChainReport report = AuditVerifier.verify(dir, withKey());
    assertThat(report.ok()).isFalse();
    assertThat(report.firstProblem()).contains("signed by another key");
    assertThat(report.checkpointsVerified()).isZero();
    // The anchored copies of the real checkpoints tell too, without any key.
    ChainReport anchored = AuditVerifier.verify(dir, new VerifyOptions(List.of(), List.of(external), null));
    assertThat(anchored.problems()).isNotEmpty()
        .allSatisfy(problem -> assertThat(problem).contains("not the record the external checkpoint"));
  }

  @Test
  void aTornLineSealedByTheNextFileVerifies() throws Exception {
    TrailFixture trail = new TrailFixture(tmp, "a", KEY).start().exchanges(5).tear("{\"time\":\"2026-05-01T12:0");
    Path torn = trail.current();
    long offset = Files.size(torn) - 24;
    trail.start().exchanges(2).shutdown();
    ChainReport report = AuditVerifier.verify(tmp, withKey());
    assertThat(report).extracting(ChainReport::ok, ChainReport::sealed, ChainReport::records)
        .containsExactly(true, 1L, 11L);
    assertThat(report.warnings()).isEmpty();
    assertThat(report.notes()).singleElement().asString().startsWith(name(torn) + ":7: 24 bytes at offset " + offset
        + " (a torn line, not part of the chain) are sealed by " + name(trail.current()) + ":1 (seq 7), cause crash");
  }

  @Test
  void sealedBytesChangedAfterTheSealAreAProblem() throws Exception {
    TrailFixture trail = new TrailFixture(tmp, "a", KEY).start().exchanges(5).tear("{\"time\":\"2026-05-01T12:0");
    Path torn = trail.current();
    trail.start().shutdown();
    byte[] bytes = Files.readAllBytes(torn);
    bytes[bytes.length - 1] = '1'; // the last byte of the sealed partial line
    Files.write(torn, bytes);
    assertThat(AuditVerifier.verify(tmp, withKey()).problems()).singleElement().asString()
        .startsWith(name(torn) + ":7: the 24 bytes from offset").contains("are not what the seal at "
            + name(trail.current()) + ":1 (seq 7) names (24 bytes");
  }

  @Test
  void aTornLineInTheMiddleWithoutASealIsAProblem() throws Exception {
    TrailFixture trail = new TrailFixture(tmp, "a", KEY).start().exchanges(5).tear("{\"time\":\"2026-05-01T12:0")
        .forgetTorn();
    Path torn = trail.current();
    trail.start().exchanges(1).shutdown();
    assertThat(AuditVerifier.verify(tmp, withKey()).problems()).singleElement().asString()
        .startsWith(name(torn) + ":7: an incomplete line (24 bytes at offset ").endsWith("that the next file does not"
            + " seal — a record was cut, or the file was edited after the proxy moved on");
  }

  @Test
  void aTornTailOfTheNewestFileIsAWarning() throws Exception {
    TrailFixture trail = new TrailFixture(tmp, "a", KEY).start().exchanges(5).tear("{\"time\":\"2026-05-01T12:0");
    ChainReport report = AuditVerifier.verify(tmp, withKey());
    assertThat(report.ok()).isTrue();
    assertThat(report.warnings()).anySatisfy(warning -> assertThat(warning).startsWith(name(trail.current())
        + ":7: incomplete last line (no newline at the end)").endsWith("no seal accounts for it yet (the proxy seals"
        + " it when it next starts)"));
  }

  @Test
  void aTrailStartingAtASignedCheckpointAfterRetentionVerifies() throws Exception {
    TrailFixture trail = threeFiles(tmp, "a");
    Files.delete(trail.files().get(0));
    ChainReport report = AuditVerifier.verify(tmp, withKey());
    assertThat(report).extracting(ChainReport::ok, ChainReport::firstSeq, ChainReport::records)
        .containsExactly(true, 12L, 23L);
    assertThat(report.notes()).containsExactly("records 1..11 removed by retention; the trail starts at the signed"
        + " checkpoint of seq 11");
  }

  @Test
  void aTrailCutAtTheStartDownToACheckpointInsideAFileIsNotRetention() throws Exception {
    TrailFixture trail = new TrailFixture(tmp, "a", KEY).start().exchanges(4).checkpoint("periodic").exchanges(3)
        .shutdown();
    Path file = trail.files().get(0);
    List<String> lines = lines(file);
    write(file, lines.subList(5, lines.size())); // seqs 1..5 gone: the file now starts at the periodic checkpoint
    assertThat(AuditVerifier.verify(tmp, withKey()).problems()).containsExactly(name(file) + ":1 (seq 6): the trail's"
        + " first file is named for seq 1 but starts at seq 6 — records 1..5 were removed from its start");
  }

  @Test
  void aTrailStartingAfterRemovedFilesWithoutACheckpointIsAGap() throws Exception {
    TrailFixture trail = new TrailFixture(tmp, "a", null).start().exchanges(5).rotate().exchanges(5);
    Files.delete(trail.files().get(0));
    assertThat(AuditVerifier.verify(tmp, VerifyOptions.CHAIN_ONLY).problems()).containsExactly(
        name(trail.files().get(1)) + ":1 (seq 6): seq 6 follows 0 — records 1..5 were removed (or moved)");
  }

  @Test
  void aLegacyTrailWithoutTypesChainIdsOrCheckpointsVerifiesAsBefore() throws Exception {
    TrailFixture trail = new TrailFixture(tmp, null, null).start().exchanges(6).rotate().exchanges(4);
    assertThat(Files.readString(trail.current())).doesNotContain("\"type\"").doesNotContain("chain_id");
    ChainReport report = AuditVerifier.verify(tmp, VerifyOptions.CHAIN_ONLY);
    assertThat(report).extracting(ChainReport::ok, ChainReport::chainId, ChainReport::records, ChainReport::tail)
        .containsExactly(true, "", 10L, Tail.UNSIGNED);
    assertThat(report.warnings()).isEmpty();
  }

  @Test
  void aCompressedOldFileIsReadThroughGzip() throws Exception {
    TrailFixture trail = threeFiles(tmp, "a");
    Path first = trail.files().get(0);
    try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(tmp.resolve(name(first) + ".gz")))) {
      out.write(Files.readAllBytes(first));
    }
    Files.delete(first);
    assertThat(AuditVerifier.verify(tmp, withKey())).extracting(ChainReport::ok, ChainReport::records)
        .containsExactly(true, 34L);
    Files.write(tmp.resolve(name(first) + ".gz"), new byte[] {31, -117, 8, 0}); // a broken gzip stream
    assertThat(AuditVerifier.verify(tmp, withKey()).firstProblem()).startsWith(name(first) + ".gz: cannot read");
  }

  @Test
  void aForgedExternalCheckpointIsNotTrusted() throws Exception {
    Path external = tmp.resolve("anchor.jsonl");
    Path dir = tmp.resolve("audit");
    new TrailFixture(dir, "a", KEY).external(external).start().exchanges(3).shutdown();
    // Someone appends a checkpoint of their own making, far beyond the trail, to the anchor file.
    new TrailFixture(tmp.resolve("forger"), "a", OTHER_KEY).external(external).start().exchanges(40).shutdown();
    ChainReport report = AuditVerifier.verify(dir, withKeyAnd(external));
    assertThat(report.problems()).isNotEmpty().allSatisfy(problem -> assertThat(problem).contains("(external)")
        .contains("signed by another key"));
    assertThat(report.tail()).isEqualTo(Tail.CLOSED);
  }

  @Test
  void everyEditIsReportedNotOnlyTheFirstAndGarbageDoesNotCascade() throws Exception {
    TrailFixture trail = threeFiles(tmp, "a");
    Path first = trail.files().get(0);
    Path last = trail.files().get(2);
    List<String> head = lines(first);
    head.set(2, "{\"not\": \"a record\""); // seq 3 garbled
    head.set(5, head.get(5).replace("\"status\":200", "\"status\":201")); // seq 6 changed
    write(first, head);
    List<String> tail = lines(last);
    tail.remove(4); // seq 27 removed
    write(last, tail);
    assertThat(AuditVerifier.verify(tmp, withKey()).problems()).containsExactly(
        name(first) + ":3: not valid JSON — the record was changed or truncated",
        name(first) + ":6 (seq 6): hash mismatch — the record was changed",
        name(last) + ":5 (seq 28): seq 28 follows 26 — record 27 was removed (or moved)");
  }

  @Test
  void aRecordOfAnotherChainInsideAFileIsNamed() throws Exception {
    TrailFixture a = threeFiles(tmp.resolve("a"), "replica-a");
    TrailFixture b = threeFiles(tmp.resolve("b"), "replica-b");
    Path file = a.files().get(1);
    List<String> lines = lines(file);
    lines.add(3, lines(b.files().get(1)).get(3));
    write(file, lines);
    assertThat(AuditVerifier.verify(tmp.resolve("a"), withKey()).problems()).containsExactly(name(file) + ":4 (seq"
        + " 15): a record of chain replica-b inside chain replica-a's file — a record of another replica was inserted");
  }

  @Test
  void anOverlongLineIsReportedWithoutHoldingIt() throws Exception {
    TrailFixture trail = new TrailFixture(tmp, "a", KEY).start().exchanges(2);
    Files.writeString(trail.current(), "x".repeat(TrailLines.MAX_LINE_BYTES + 10) + "\n",
        StandardOpenOption.APPEND);
    trail.exchanges(1).shutdown(); // seqs 4, 5: the long line took no seq in the writer's chain
    ChainReport report = AuditVerifier.verify(tmp, withKey());
    assertThat(report.problems()).first().asString().isEqualTo(name(trail.current()) + ":4: a line of "
        + (TrailLines.MAX_LINE_BYTES + 10) + " bytes, longer than any record — the file was changed");
  }

  @Test
  void aForgedCheckpointWithoutItsStatementIsNamed() throws Exception {
    TrailFixture trail = threeFiles(tmp, "a");
    Path last = trail.current();
    int shutdownLine = lines(last).size();
    TrailFixture.rehashLine(last, shutdownLine, record -> record.remove("checkpoint"));
    assertThat(AuditVerifier.verify(tmp, withKey()).problems()).containsExactly(name(last) + ":" + shutdownLine
        + " (seq 34): a checkpoint record without its checkpoint object — the record was forged");
  }

  @Test
  void aTrailStartingWithSealsOfARemovedFileAndThenACheckpointVerifies() throws Exception {
    TrailFixture trail = new TrailFixture(tmp, "a", KEY).start().exchanges(5).tear("{\"time\":");
    trail.start().exchanges(2).shutdown();
    Files.delete(trail.files().get(0));
    ChainReport report = AuditVerifier.verify(tmp, withKey());
    assertThat(report.problems()).isEmpty();
    assertThat(report.notes()).containsExactly(
        name(trail.current()) + ":1 (seq 7): seals 8 bytes of " + name(trail.files().get(0)) + ", which is no longer"
            + " in the directory (removed by retention)",
        "records 1..6 removed by retention; the trail starts at the signed checkpoint of seq 7");
  }
}

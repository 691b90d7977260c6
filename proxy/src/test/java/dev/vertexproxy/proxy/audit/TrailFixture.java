package dev.vertexproxy.proxy.audit;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vertexproxy.proxy.audit.Checkpoints.SigningKey;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * Writes audit trails for the verifier's tests exactly as docs/audit.md describes them — exchange, checkpoint and seal
 * records, files named by first seq, a {@code chain-id} file — with {@link AuditRecords} and {@link Checkpoints} only,
 * independent of {@link AuditLog}, so the verifier is tested against the spec rather than against the writer.
 * Each record is one second after the one before unless {@link #advance} says otherwise.
 */
public final class TrailFixture {
  static final Instant START = Instant.parse("2026-05-01T12:00:00.000Z");
  static final long INTERVAL_S = 300;
  private static final DateTimeFormatter STAMP =
      DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'", Locale.ROOT).withZone(ZoneOffset.UTC);

  private final Path dir;
  private final String chainId;
  private final SigningKey key;
  private Instant now = START;
  private long seq;
  private String head = AuditRecords.GENESIS_HASH;
  private Path current;
  private Path external;
  private final List<Path> files = new ArrayList<>();
  /** A torn line left at the end of the current file: {file, offset, bytes, sha256}, sealed by the next start. */
  private Object[] torn;

  /** A trail of chain {@code chainId} (null: a legacy trail, records without type or chain_id), signed by {@code key}. */
  public TrailFixture(Path dir, String chainId, SigningKey key) throws IOException {
    this.dir = Files.createDirectories(dir);
    this.chainId = chainId;
    this.key = key;
    if (chainId != null) {
      Files.writeString(dir.resolve("chain-id"), chainId + "\n");
    }
  }

  /** Also append every checkpoint line to this file, as {@code audit.checkpoint.external.file} does. */
  public TrailFixture external(Path file) {
    this.external = file;
    return this;
  }

  /** A new file (the proxy started): seals for a torn tail, then the start checkpoint. */
  public TrailFixture start() throws IOException {
    newFile();
    if (torn != null) {
      seal((String) torn[0], (long) torn[1], (long) torn[2], (String) torn[3], "crash");
      torn = null;
    }
    return key == null ? this : checkpoint("start");
  }

  /** A new file by rotation: its first record is the rotation checkpoint. */
  public TrailFixture rotate() throws IOException {
    newFile();
    return key == null ? this : checkpoint("rotation");
  }

  public TrailFixture shutdown() throws IOException {
    return checkpoint("shutdown");
  }

  public TrailFixture exchanges(int count) throws IOException {
    for (int i = 0; i < count; i++) {
      ObjectNode record = AuditRecords.toJson(TestEvents.allowed((int) seq + 1), now);
      record.put("time", AuditRecords.formatTime(now));
      if (chainId == null) {
        record.remove("type");
      }
      append(record);
    }
    return this;
  }

  public TrailFixture checkpoint(String reason) throws IOException {
    return checkpoint(reason, seq, head, key);
  }

  /** A checkpoint stating {@code signedSeq}/{@code signedHash}, signed by {@code by} (null: no signature). */
  TrailFixture checkpoint(String reason, long signedSeq, String signedHash, SigningKey by) throws IOException {
    String time = AuditRecords.formatTime(now);
    ObjectNode record = base("checkpoint", time);
    ObjectNode cp = record.putObject("checkpoint");
    cp.put("seq", signedSeq);
    cp.put("hash", signedHash);
    cp.put("time", time);
    cp.put("reason", reason);
    cp.put("interval_s", INTERVAL_S);
    if (by != null) {
      cp.put("key_id", by.keyId());
      cp.put("signature", Checkpoints.sign(by, Checkpoints.payload(chainId, signedSeq, signedHash, time)));
    }
    String line = append(record);
    if (external != null) {
      Files.writeString(external, line, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }
    return this;
  }

  TrailFixture seal(String file, long offset, long bytes, String sha256, String cause) throws IOException {
    ObjectNode record = base("seal", AuditRecords.formatTime(now));
    ObjectNode seal = record.putObject("seal");
    seal.put("file", file);
    seal.put("offset", offset);
    seal.put("bytes", bytes);
    seal.put("sha256", sha256);
    seal.put("cause", cause);
    append(record);
    return this;
  }

  /** Leaves a partial line at the end of the current file, as a crash mid-write does. */
  public TrailFixture tear(String partial) throws IOException {
    long offset = Files.size(current);
    byte[] bytes = partial.getBytes(StandardCharsets.UTF_8);
    Files.write(current, bytes, StandardOpenOption.APPEND);
    torn = new Object[] {current.getFileName().toString(), offset, (long) bytes.length, AuditRecords.sha256Hex(bytes)};
    return this;
  }

  /** Forgets the torn line, so the next start does not seal it. */
  TrailFixture forgetTorn() {
    torn = null;
    return this;
  }

  public TrailFixture advance(Duration duration) {
    now = now.plus(duration);
    return this;
  }

  public long seq() {
    return seq;
  }

  public String head() {
    return head;
  }

  public Path current() {
    return current;
  }

  public List<Path> files() {
    return List.copyOf(files);
  }

  private ObjectNode base(String type, String time) {
    ObjectNode record = AuditRecords.MAPPER.createObjectNode();
    record.put("time", time);
    record.put("type", type);
    return record;
  }

  private void newFile() throws IOException {
    current = dir.resolve("audit-" + STAMP.format(now) + "-" + (seq + 1) + ".jsonl");
    Files.createFile(current);
    files.add(current);
  }

  private String append(ObjectNode record) throws IOException {
    if (chainId != null) {
      record.put("chain_id", chainId);
    }
    record.put("seq", ++seq);
    record.put("prev_hash", head);
    head = AuditRecords.hash(record);
    record.put("hash", head);
    String line = AuditRecords.utf8(AuditRecords.canonical(record)) + "\n";
    Files.writeString(current, line, StandardCharsets.UTF_8, StandardOpenOption.APPEND);
    now = now.plusSeconds(1);
    return line;
  }

  /** Rewrites one record of a file (1-based line) with {@code edit} applied and its hash recomputed. */
  static void rehashLine(Path file, int number, Consumer<ObjectNode> edit) throws IOException {
    List<String> lines = new ArrayList<>(Files.readAllLines(file, StandardCharsets.UTF_8));
    ObjectNode record = AuditRecords.parse(lines.get(number - 1).getBytes(StandardCharsets.UTF_8));
    record.remove("hash");
    edit.accept(record);
    record.put("hash", AuditRecords.hash(record));
    lines.set(number - 1, AuditRecords.utf8(AuditRecords.canonical(record)));
    Files.writeString(file, String.join("\n", lines) + "\n", StandardCharsets.UTF_8);
  }
}

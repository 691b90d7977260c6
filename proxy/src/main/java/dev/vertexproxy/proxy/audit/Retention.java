package dev.vertexproxy.proxy.audit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vertexproxy.proxy.config.AuditConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code audit.retention}: deletes the oldest files of the trail once all their records are older than
 * {@code max_age} or while the directory holds more than {@code max_total_bytes} — only ever a prefix of the trail,
 * never the current file, and only a file whose last record is covered by a checkpoint this writer signed as the first
 * record (after seals) of the next file. That checkpoint is where a verifier then starts the trail, so deleting never
 * looks like tampering and never leaves an unsigned gap.
 *
 * <p>A file's records are all older than {@code max_age} once the <em>next</em> file was started that long ago (a
 * file's name holds the time it was started, and every record of a file was written before the next one started).
 * Confined to the writer thread.
 */
final class Retention {
  static final String TYPE = "retention";
  static final String MAX_AGE = "max_age";
  static final String MAX_TOTAL_BYTES = "max_total_bytes";
  private static final Logger LOG = LoggerFactory.getLogger(AuditLog.class);
  private static final DateTimeFormatter STAMP =
      DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'", Locale.ROOT).withZone(ZoneOffset.UTC);

  /** One deleted file, as the {@code retention} record lists it. */
  record Deleted(String file, long firstSeq, long lastSeq, long bytes) {
  }

  private final Path dir;
  private final AuditConfig.Retention limits;
  private final String chainId;
  private final Checkpoints.SigningKey key;

  Retention(Path dir, AuditConfig.Retention limits, String chainId, Checkpoints.SigningKey key) {
    this.dir = dir;
    this.limits = limits;
    this.chainId = chainId;
    this.key = key;
  }

  /**
   * Deletes what the limits allow (never {@code current}); returns the deleted files by reason ({@value #MAX_AGE}
   * first), in chain order. A file that cannot be deleted stops the pass: a later one would leave a hole.
   */
  Map<String, List<Deleted>> apply(Path current, Instant now) throws IOException {
    List<Path> files = new ArrayList<>();
    long total = 0;
    for (Path file : AuditFiles.list(dir)) {
      if (AuditFiles.wellNamed(file)) {
        files.add(file);
        total += Files.size(file);
      }
    }
    Map<String, List<Deleted>> deleted = new LinkedHashMap<>();
    for (int i = 0; i + 1 < files.size(); i++) {
      Path file = files.get(i);
      Path next = files.get(i + 1);
      if (file.equals(current)) {
        break;
      }
      String reason = expired(next, now) ? MAX_AGE
          : limits.maxTotalBytes() != null && total > limits.maxTotalBytes() ? MAX_TOTAL_BYTES : null;
      if (reason == null) {
        break;
      }
      long covered = coveredUpTo(file, next);
      if (covered < 0) {
        LOG.warn("audit retention keeps {} and everything after it: the next file does not start with a checkpoint"
            + " signed by key {} that covers its last record", file.getFileName(), key.keyId());
        break;
      }
      long bytes = Files.size(file);
      Files.delete(file);
      total -= bytes;
      LOG.info("audit retention deleted {} ({} bytes, {})", file.getFileName(), bytes, reason);
      deleted.computeIfAbsent(reason, r -> new ArrayList<>())
          .add(new Deleted(file.getFileName().toString(), AuditFiles.firstSeqOf(file), covered, bytes));
    }
    return deleted;
  }

  /** The {@code retention} record (without chain fields) for the files deleted for one reason. */
  static ObjectNode record(Instant time, String reason, List<Deleted> files) {
    ObjectNode record = JsonNodeFactory.instance.objectNode();
    record.put("time", AuditRecords.formatTime(time));
    record.put("type", TYPE);
    ObjectNode retention = record.putObject("retention");
    ArrayNode list = retention.putArray("deleted");
    for (Deleted d : files) {
      list.addObject().put("file", d.file()).put("first_seq", d.firstSeq()).put("last_seq", d.lastSeq())
          .put("bytes", d.bytes());
    }
    retention.put("reason", reason);
    return record;
  }

  private boolean expired(Path next, Instant now) {
    if (limits.maxAge() == null) {
      return false;
    }
    Matcher name = AuditFiles.NAME.matcher(next.getFileName().toString());
    if (!name.matches()) {
      return false;
    }
    try {
      Instant started = STAMP.parse(name.group(1), Instant::from);
      return !started.plus(limits.maxAge()).isAfter(now);
    } catch (DateTimeParseException e) {
      return false;
    }
  }

  /**
   * The seq of {@code file}'s last record if {@code next}'s first record after seals is a checkpoint of this chain,
   * signed by this writer's key, of exactly that record (or of the record before {@code file}'s first seq when
   * {@code file} holds no complete record); -1 otherwise.
   */
  private long coveredUpTo(Path file, Path next) throws IOException {
    ObjectNode first = AuditFiles.firstRecordAfterSeals(next);
    if (first == null || !CheckpointSigner.TYPE.equals(first.path("type").asText())
        || !chainId.equals(first.path("chain_id").asText())) {
      return -1;
    }
    JsonNode cp = first.path("checkpoint");
    long seq = cp.path("seq").asLong(-1);
    String hash = cp.path("hash").asText();
    if (!key.keyId().equals(cp.path("key_id").asText()) || !Checkpoints.verify(key.publicKey(),
        Checkpoints.payload(chainId, seq, hash, cp.path("time").asText()), cp.path("signature").asText())) {
      return -1;
    }
    AuditFiles.Tail tail = AuditFiles.readTail(file);
    if (tail.lastCompleteLine() == null) {
      return seq == AuditFiles.firstSeqOf(file) - 1 ? seq : -1;
    }
    ObjectNode last;
    try {
      last = AuditRecords.parse(tail.lastCompleteLine());
    } catch (IOException e) {
      return -1;
    }
    return last.path("seq").asLong(-2) == seq && hash.equals(last.path("hash").asText()) ? seq : -1;
  }
}

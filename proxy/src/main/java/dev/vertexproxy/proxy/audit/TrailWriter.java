package dev.vertexproxy.proxy.audit;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vertexproxy.proxy.audit.AuditLog.AuditReceipt;
import dev.vertexproxy.proxy.config.AuditConfig;
import java.io.ByteArrayOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The chain and everything the writer itself puts into it, on top of {@link AuditFileWriter}: gives each record its
 * {@code chain_id}, {@code seq}, {@code prev_hash} and {@code hash}; starts each new file with the {@code seal}s owed
 * (partial lines of older files) and, with {@code audit.checkpoint}, a signed {@code start} or {@code rotation}
 * checkpoint; appends a {@code periodic} checkpoint once the interval has passed and records were written since the
 * last, and a {@code shutdown} checkpoint as the very last record; applies retention after each new file; and hands
 * every durable line to stdout when asked.
 *
 * <p>A batch is all or nothing: the chain, the seals owed and the checkpoint clock advance only once its bytes are
 * durable. Confined to the writer thread (and to {@link AuditLog#open} before that thread starts).
 */
final class TrailWriter {
  private static final Logger LOG = LoggerFactory.getLogger(AuditLog.class);

  /**
   * Where the writer's lines go besides the file, and what it reports; {@code lines} is closed with the writer;
   * {@code stdout} is called only when {@code shipsRecords}.
   */
  private record Outputs(AuditLog.Events events, Consumer<ObjectNode> stdout, StdoutLines lines, boolean shipsRecords) {
  }

  private final AuditFileWriter files;
  private final Path dir;
  private final Clock clock;
  private final String chainId;
  private final CheckpointSigner checkpoints;
  private final Retention retention;
  private final Outputs outputs;
  private final EventLines eventLines;
  private final List<Seal> sealsOwed = new ArrayList<>();
  private long lastSeq;
  private String lastHash;
  private boolean started;
  private long sinceCheckpoint;
  private boolean applyingRetention;
  private Instant retryTickAt;

  TrailWriter(AuditFileWriter files, Path dir, Clock clock, String chainId, CheckpointSigner checkpoints,
      Retention retention, Outputs outputs, long lastSeq, String lastHash, Seal crashSeal) {
    this.files = files;
    this.dir = dir;
    this.clock = clock;
    this.chainId = chainId;
    this.checkpoints = checkpoints;
    this.retention = retention;
    this.outputs = outputs;
    this.eventLines = new EventLines(chainId);
    this.lastSeq = lastSeq;
    this.lastHash = lastHash;
    if (crashSeal != null) {
      sealsOwed.add(crashSeal);
    }
  }

  /**
   * Resumes the chain in {@code config.dir()} (already locked by the caller) and starts this process's first file:
   * chain id, checkpoint key, last record, a seal for a torn tail, the sinks; see {@link AuditLog#open}.
   */
  static TrailWriter open(AuditConfig config, Clock clock, AuditLog.Options options) throws IOException {
    Checkpoints.SigningKey key = config.checkpoint() == null ? null : readKey(config.checkpoint().keyFile());
    String chainId = ChainId.resolve(config.dir(), config.chainId());
    ObjectNode last = AuditFiles.lastRecord(config.dir());
    if (last != null && last.hasNonNull("chain_id") && !chainId.equals(last.get("chain_id").asText())) {
      throw new IOException("audit dir " + config.dir() + " belongs to chain " + chainId + ", but its newest record"
          + " (seq " + last.path("seq").asLong() + ") is of chain " + last.get("chain_id").asText()
          + ": a file of another trail was copied in, or the chain-id file was replaced");
    }
    long lastSeq = last == null ? 0 : last.path("seq").asLong();
    String lastHash = last == null ? AuditRecords.GENESIS_HASH : last.path("hash").asText();
    Seal crash = AuditFiles.tornTail(config.dir());
    AuditLog.Events events = options.events();
    boolean cloudLogging = config.stdout() == AuditConfig.Stdout.CLOUD_LOGGING;
    boolean checkpointStdout = config.checkpoint() != null && config.checkpoint().externalStdout();
    StdoutLines stdout = null;
    if (cloudLogging || checkpointStdout) {
      OutputStream out = options.stdout() != null ? options.stdout() : new FileOutputStream(FileDescriptor.out);
      stdout = new StdoutLines(out, StdoutLines.CAPACITY, events::exportFailed);
    }
    try {
      StdoutLines lines = stdout;
      String traceProject = options.traceProject();
      Consumer<ObjectNode> shipped = cloudLogging ? r -> lines.offer(CloudLoggingLine.of(r, traceProject)) : r -> { };
      CheckpointSigner signer = key == null ? null : new CheckpointSigner(key, config.checkpoint(),
          checkpointStdout ? lines::offer : null, events::exportFailed);
      Retention retention = config.retention() == null ? null
          : new Retention(config.dir(), config.retention(), chainId, key);
      AuditFileWriter files = new AuditFileWriter(config.dir(), config.durability(), clock, config.rotate(),
          options.opener());
      TrailWriter trail = new TrailWriter(files, config.dir(), clock, chainId, signer, retention,
          new Outputs(events, shipped, stdout, cloudLogging), lastSeq, lastHash, crash);
      trail.start();
      return trail;
    } catch (IOException | RuntimeException e) {
      if (stdout != null) {
        stdout.close();
      }
      throw e;
    }
  }

  private static Checkpoints.SigningKey readKey(Path keyFile) throws IOException {
    try {
      return Checkpoints.readPrivate(keyFile);
    } catch (IOException | RuntimeException e) {
      throw new IOException("audit.checkpoint.key_file: cannot read the checkpoint key " + keyFile + " ("
          + e.getMessage() + "); create one with `vertex-proxy audit keygen --out " + keyFile.getFileName() + "`", e);
    }
  }

  String chainId() {
    return chainId;
  }

  long lastSeq() {
    return lastSeq;
  }

  /** The first file of this process: opened now, with its seals and {@code start} checkpoint, then retention. */
  void start() throws IOException {
    if (checkpoints == null && sealsOwed.isEmpty()) {
      files.openNewFile(lastSeq + 1); // fail at startup, not on the first request, if the directory is not writable
      started = true;
      return;
    }
    write(List.of());
  }

  /**
   * The event's record, ready to be chained by {@link #write}.
   *
   * @throws RuntimeException if the event cannot be recorded; it alone is refused
   */
  EventLines.Prepared prepare(AuditEvent event, Instant fallbackTime) {
    return eventLines.prepare(event, fallbackTime);
  }

  /**
   * Chains and writes {@code events} (records without chain fields, from {@link #prepare}), with whatever the writer
   * owes before and after them, as one all-or-nothing batch.
   *
   * @return each event's place in the chain, in order
   * @throws IOException if the batch is not durable; nothing of it is in the chain, the file is given up
   */
  List<AuditReceipt> write(List<EventLines.Prepared> events) throws IOException {
    Instant now = clock.instant();
    List<TrailEntry> entries = new ArrayList<>();
    boolean newFile = files.needsNewFile(now);
    if (newFile) {
      files.close();
      for (Seal seal : sealsOwed) {
        entries.add(own((s, h) -> sealRecord(now, seal)));
      }
      if (checkpoints != null) {
        String reason = started ? CheckpointSigner.ROTATION : CheckpointSigner.START;
        entries.add(own((s, h) -> checkpoints.record(now, chainId, s, h, reason)));
      }
    }
    for (EventLines.Prepared event : events) {
      entries.add(new TrailEntry.Event(eventLines, event));
    }
    boolean headerCheckpoint = newFile && checkpoints != null;
    if (checkpoints != null && !headerCheckpoint && sinceCheckpoint + events.size() > 0 && checkpoints.due(now)) {
      entries.add(own((s, h) -> checkpoints.record(now, chainId, s, h, CheckpointSigner.PERIODIC)));
    }
    return entries.isEmpty() ? List.of() : writeEntries(entries, events.size(), now, newFile);
  }

  /**
   * A {@code periodic} checkpoint if one is due while no record arrives (called from the writer's idle poll). After a
   * failure the next attempt waits a second, so a broken disk is not retried (and logged) twenty times a second.
   *
   * @return whether something was written
   */
  boolean tick() throws IOException {
    Instant now = clock.instant();
    if (checkpoints == null || sinceCheckpoint == 0 || !checkpoints.due(now)
        || (retryTickAt != null && now.isBefore(retryTickAt))) {
      return false;
    }
    try {
      write(List.of());
      retryTickAt = null;
      return true;
    } catch (IOException | RuntimeException e) {
      retryTickAt = now.plusSeconds(1);
      throw e;
    }
  }

  /** Writes the {@code shutdown} checkpoint (if checkpoints are on) and closes the file. */
  void close() {
    try {
      if (checkpoints != null) {
        Instant now = clock.instant();
        List<TrailEntry> entries = new ArrayList<>();
        boolean newFile = files.current() == null; // given up after a failure (never rotated only to close it)
        if (newFile) {
          sealsOwed.forEach(seal -> entries.add(own((s, h) -> sealRecord(now, seal))));
        }
        entries.add(own((s, h) -> checkpoints.record(now, chainId, s, h, CheckpointSigner.SHUTDOWN)));
        writeEntries(entries, 0, now, newFile);
      }
    } catch (IOException | RuntimeException e) {
      LOG.error("audit shutdown checkpoint could not be written to {}: {}; the trail ends unsigned after seq {}",
          files.name(), e.toString(), lastSeq);
    } finally {
      files.close();
      if (outputs.lines() != null) {
        outputs.lines().close();
      }
    }
  }

  private List<AuditReceipt> writeEntries(List<TrailEntry> entries, int eventCount, Instant now, boolean newFile)
      throws IOException {
    long seq = lastSeq;
    String prevHash = lastHash;
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(entries.size() * 768);
    List<AuditReceipt> receipts = new ArrayList<>(eventCount);
    long checkpointsWritten = 0;
    long afterLastCheckpoint = sinceCheckpoint;
    for (TrailEntry entry : entries) {
      String hash = entry.append(bytes, seq + 1, prevHash);
      seq++;
      prevHash = hash;
      String type = entry.type();
      if (CheckpointSigner.TYPE.equals(type)) {
        checkpointsWritten++;
        afterLastCheckpoint = 0;
      } else {
        afterLastCheckpoint++;
        if (!Seal.TYPE.equals(type) && !Retention.TYPE.equals(type)) {
          receipts.add(new AuditReceipt(seq, hash));
        }
      }
    }
    byte[] batch = bytes.toByteArray();
    AuditFileWriter.Timing timing;
    try {
      timing = files.write(batch, lastSeq + 1);
    } catch (IOException | RuntimeException e) {
      Seal leftover = files.abandonBatch();
      if (leftover != null) {
        sealsOwed.add(leftover);
      }
      throw e instanceof IOException io ? io : new IOException(e);
    }
    lastSeq = seq;
    lastHash = prevHash;
    started = true;
    sinceCheckpoint = afterLastCheckpoint;
    if (newFile) {
      sealsOwed.clear();
    }
    if (!receipts.isEmpty()) { // the metric counts what callers appended; checkpoints count on their own
      outputs.events().batchWritten(receipts.size(), timing.writeNanos(), timing.syncNanos());
    }
    for (TrailEntry entry : entries) {
      boolean checkpoint = CheckpointSigner.TYPE.equals(entry.type());
      if (checkpoint) {
        checkpoints.written(now);
        outputs.events().checkpointWritten();
        checkpoints.export(AuditRecords.utf8(AuditRecords.canonical(entry.tree(batch))));
      }
      if (outputs.shipsRecords()) {
        outputs.stdout().accept(entry.tree(batch));
      }
    }
    if (newFile && retention != null && !applyingRetention) {
      applyRetention(now);
    }
    return receipts;
  }

  private TrailEntry own(TrailEntry.Maker maker) {
    return new TrailEntry.Tree(chainId, maker);
  }

  private ObjectNode sealRecord(Instant now, Seal seal) {
    ObjectNode record = JsonNodeFactory.instance.objectNode();
    record.put("time", AuditRecords.formatTime(now));
    record.put("type", Seal.TYPE);
    record.set("seal", seal.toJson());
    return record;
  }

  /** Deletes what retention allows now that a new file starts with a checkpoint, and records what it deleted. */
  private void applyRetention(Instant now) {
    applyingRetention = true;
    try {
      Map<String, List<Retention.Deleted>> deleted = retention.apply(files.current(), now);
      List<TrailEntry> entries = new ArrayList<>();
      deleted.forEach((reason, list) -> entries.add(own((s, h) -> Retention.record(now, reason, list))));
      if (!entries.isEmpty()) {
        writeEntries(entries, 0, now, false);
      }
    } catch (IOException | RuntimeException e) {
      LOG.error("audit retention in {} failed: {}", dir, e.toString());
    } finally {
      applyingRetention = false;
    }
  }
}

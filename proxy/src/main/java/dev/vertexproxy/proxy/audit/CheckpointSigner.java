package dev.vertexproxy.proxy.audit;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vertexproxy.proxy.config.AuditConfig;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The writer's signed checkpoints ({@code audit.checkpoint}): builds each {@code checkpoint} record, which signs the
 * chain head just before it, keeps the time of the last one for the periodic interval, and hands each written
 * checkpoint line to the external sinks (a file meant for a retention-locked bucket, stdout for log shipping).
 *
 * <p>A sink that fails is logged and counted, never allowed to break the chain: the checkpoint is in the trail either
 * way. Confined to the writer thread. The private key is never logged or printed ({@link Checkpoints.SigningKey}'s
 * {@code toString} names only its id).
 */
final class CheckpointSigner {
  static final String TYPE = "checkpoint";
  static final String START = "start";
  static final String PERIODIC = "periodic";
  static final String ROTATION = "rotation";
  static final String SHUTDOWN = "shutdown";
  private static final Logger LOG = LoggerFactory.getLogger(AuditLog.class);

  private final Checkpoints.SigningKey key;
  private final Duration interval;
  private final Path externalFile;
  private final Consumer<String> externalStdout;
  private final Runnable exportFailed;
  private Instant last;

  /**
   * @param externalStdout where checkpoint lines are printed, or null
   * @param exportFailed   called once per failed hand-over to a sink
   */
  CheckpointSigner(Checkpoints.SigningKey key, AuditConfig.Checkpoint config, Consumer<String> externalStdout,
      Runnable exportFailed) {
    this.key = key;
    this.interval = config.interval();
    this.externalFile = config.externalFile();
    this.externalStdout = externalStdout;
    this.exportFailed = exportFailed;
  }

  Checkpoints.SigningKey key() {
    return key;
  }

  /** Whether {@code interval} has passed since the last checkpoint written (always, before the first). */
  boolean due(Instant now) {
    return last == null || !now.isBefore(last.plus(interval));
  }

  /** A checkpoint at {@code time} was written. */
  void written(Instant time) {
    last = time;
  }

  /**
   * The checkpoint record (without {@code seq}, {@code prev_hash}, {@code hash}, which chaining adds) that signs the
   * record {@code prevSeq} with hash {@code prevHash}.
   */
  ObjectNode record(Instant time, String chainId, long prevSeq, String prevHash, String reason) {
    String at = AuditRecords.formatTime(time);
    ObjectNode record = JsonNodeFactory.instance.objectNode();
    record.put("time", at);
    record.put("type", TYPE);
    ObjectNode checkpoint = record.putObject("checkpoint");
    checkpoint.put("seq", prevSeq);
    checkpoint.put("hash", prevHash);
    checkpoint.put("time", at);
    checkpoint.put("reason", reason);
    checkpoint.put("interval_s", interval.toSeconds());
    checkpoint.put("key_id", key.keyId());
    checkpoint.put("signature", Checkpoints.sign(key, Checkpoints.payload(chainId, prevSeq, prevHash, at)));
    return record;
  }

  /** Hands a checkpoint line, as it is in the chain, to the external file and stdout. */
  void export(String line) {
    if (externalFile != null) {
      try {
        append(externalFile, line);
      } catch (IOException | RuntimeException e) {
        exportFailed.run();
        LOG.error("audit checkpoint could not be appended to {}: {} (it is in the trail; the external copy misses it)",
            externalFile, e.toString());
      }
    }
    if (externalStdout != null) {
      externalStdout.accept(line);
    }
  }

  private static void append(Path file, String line) throws IOException {
    Set<StandardOpenOption> options = Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.APPEND);
    try (FileChannel out = AuditFiles.posix(file)
        ? FileChannel.open(file, options, AuditFiles.OWNER_ONLY) : FileChannel.open(file, options)) {
      ByteBuffer bytes = ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.UTF_8));
      while (bytes.hasRemaining()) {
        out.write(bytes);
      }
      out.force(false);
    }
  }
}

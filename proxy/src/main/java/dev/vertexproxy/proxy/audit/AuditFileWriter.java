package dev.vertexproxy.proxy.audit;

import dev.vertexproxy.proxy.config.AuditConfig;
import dev.vertexproxy.proxy.config.AuditConfig.Durability;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The file side of {@link AuditLog}: the trail's current file, to which the writer thread hands each batch of chained
 * lines. The chain (seq, hashes) and the futures stay with the log; this class only makes the bytes land, all or
 * nothing.
 *
 * <p>A file is always new, never appended to, so a torn line left by a crash stays where the verifier sees it; a new
 * one is due ({@link #needsNewFile}) once the current one reaches {@code audit.rotate.max_bytes} or is
 * {@code max_age} old, and the writer decides when to start it (its first records are the new file's seals and
 * checkpoint). Each batch is fsynced per {@link Durability}, and a new file's name is made durable too. After a failed
 * write or fsync the file is cut back to where the batch began and given up for good ({@link #abandonBatch}): it is
 * never written again, and the next batch starts a fresh file.
 *
 * <p>Confined to the writer thread (and to {@link AuditLog#open} before that thread starts). It logs under
 * {@link AuditLog}'s name: to an operator the trail has one logger.
 */
final class AuditFileWriter {
  private static final Logger LOG = LoggerFactory.getLogger(AuditLog.class);

  /** How long one batch took to write, and to fsync ({@code -1} when {@code durability: none} skips it). */
  record Timing(long writeNanos, long syncNanos) {
  }

  private final Path dir;
  private final Durability durability;
  private final Clock clock;
  private final AuditConfig.Rotate rotate;
  private final AuditLog.FileOpener opener;
  private FileChannel file;
  private Path filePath;
  private Instant openedAt;
  private long fileBytes;
  /** Where the batch being written began in {@link #file}; {@code -1} before it reached the file. */
  private long batchStart = -1;

  AuditFileWriter(Path dir, Durability durability, Clock clock, AuditConfig.Rotate rotate, AuditLog.FileOpener opener) {
    this.dir = dir;
    this.durability = durability;
    this.clock = clock;
    this.rotate = rotate;
    this.opener = opener;
  }

  /** Whether the next batch must go to a new file: there is none, or it was given up, is full or is too old. */
  boolean needsNewFile(Instant now) {
    return file == null || fileBytes >= rotate.maxBytes() || !now.isBefore(openedAt.plus(rotate.maxAge()));
  }

  /** The current file, or null between a rotation (or a failure) and the next write. */
  Path current() {
    return file == null ? null : filePath;
  }

  /** Starts a new, empty file named for now and for {@code firstSeq}, the seq of the first record it will hold. */
  void openNewFile(long firstSeq) throws IOException {
    Instant now = clock.instant();
    Path path = dir.resolve(AuditFiles.fileName(now, firstSeq));
    FileChannel channel = opener.open(path);
    try {
      if (channel.size() != 0) {
        throw new IOException(path.getFileName() + " already exists and is not empty");
      }
      if (durability != Durability.NONE) {
        syncDirectory(); // the new name must survive a crash as well as the bytes written under it
      }
    } catch (IOException | RuntimeException e) {
      channel.close();
      throw e;
    }
    file = channel;
    filePath = path;
    openedAt = now;
    fileBytes = 0;
  }

  /**
   * Writes one batch of whole lines and fsyncs it as configured, first starting a new file if there is none (after
   * {@link #close} or a failure). If this throws, the caller gives the batch up with {@link #abandonBatch}.
   *
   * @param firstSeq the seq of the batch's first record (it names a new file)
   */
  Timing write(byte[] lines, long firstSeq) throws IOException {
    batchStart = -1;
    if (file == null) {
      openNewFile(firstSeq);
    }
    batchStart = fileBytes;
    ByteBuffer buffer = ByteBuffer.wrap(lines);
    long writeStart = System.nanoTime();
    while (buffer.hasRemaining()) {
      file.write(buffer);
    }
    long writeNanos = System.nanoTime() - writeStart;
    long syncNanos = -1;
    if (durability != Durability.NONE) {
      long syncStart = System.nanoTime();
      file.force(false);
      syncNanos = System.nanoTime() - syncStart;
    }
    fileBytes += buffer.capacity();
    return new Timing(writeNanos, syncNanos);
  }

  /** What log lines call the trail's file: the current (or last) file's name, or the directory before there was one. */
  Object name() {
    return filePath == null ? dir : filePath.getFileName();
  }

  /**
   * After a failed {@link #write}: cut the file back to where the batch began so no partial or unsynced record stays in
   * the chain, then give the file up for good; the next batch starts a new one.
   *
   * @return null, or — when even the cut-back failed and bytes of the batch are left in the file — the {@code seal}
   *         (cause {@value Seal#WRITE_FAILED}) that the next file must start with
   */
  Seal abandonBatch() {
    if (file == null) {
      return null;
    }
    Seal seal = null;
    try {
      if (batchStart >= 0) {
        file.truncate(batchStart);
        if (durability != Durability.NONE) {
          file.force(false);
        }
      }
    } catch (IOException | RuntimeException e) {
      LOG.error("audit file {} could not be cut back after a failed write; its tail may hold a partial record: {}",
          filePath.getFileName(), e.toString());
      seal = leftover();
    }
    try {
      file.close();
    } catch (IOException e) {
      LOG.warn("closing audit file {} failed: {}", filePath.getFileName(), e.toString());
    }
    file = null;
    return seal;
  }

  /** What a failed batch left after {@link #batchStart}, as a seal; null if nothing is left or it cannot be read. */
  private Seal leftover() {
    try {
      long size = Files.size(filePath);
      if (size <= batchStart) {
        return null;
      }
      return new Seal(filePath.getFileName().toString(), batchStart, size - batchStart,
          AuditFiles.sha256Of(filePath, batchStart, size - batchStart), Seal.WRITE_FAILED);
    } catch (IOException | RuntimeException e) {
      LOG.error("audit file {}: the bytes a failed write left could not be read to seal them: {}",
          filePath.getFileName(), e.toString());
      return null;
    }
  }

  /** Fsyncs and closes the current file, if there is one; the next {@link #write} starts a new one. */
  void close() {
    if (file == null) {
      return;
    }
    try {
      file.force(true);
    } catch (IOException | RuntimeException e) {
      LOG.error("audit file {} could not be synced on close: {}", filePath.getFileName(), e.toString());
    }
    try {
      file.close();
    } catch (IOException e) {
      LOG.warn("closing audit file {} failed: {}", filePath.getFileName(), e.toString());
    }
    file = null;
  }

  private void syncDirectory() {
    try (FileChannel directory = FileChannel.open(dir, StandardOpenOption.READ)) {
      directory.force(true);
    } catch (IOException | RuntimeException e) {
      // Not every platform can open or sync a directory; the file's own fsyncs still hold.
      LOG.debug("could not sync audit directory {}: {}", dir, e.toString());
    }
  }
}

package dev.vertexproxy.proxy.audit;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vertexproxy.proxy.config.AuditConfig;
import dev.vertexproxy.proxy.config.AuditConfig.Durability;
import dev.vertexproxy.proxy.lock.DirectoryLock;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The append-only, hash-chained audit trail: one JSON line per exchange, each line carrying its {@code seq}, the
 * previous line's hash and its own, so that a changed, removed or reordered record breaks the chain
 * ({@link AuditVerifier} finds where).
 *
 * <p>Design: {@link #append} only enqueues (bounded; a full queue fails the future at once, so an event loop never
 * waits for a disk). One writer thread owns the chain state and the file: it takes what is queued, gives each record
 * its place in the chain, writes the batch and, per {@link Durability}, fsyncs before completing the futures
 * ({@code NONE}: completed once the OS has the bytes; {@code GROUP_COMMIT}: one fsync per batch; {@code SYNC}: one
 * per record). A batch is all or nothing: if writing or syncing fails, the file is truncated back to the batch's start
 * and the chain does not advance, so the trail stays verifiable; the futures fail, {@link #healthy()} turns false and
 * the next batch retries in a fresh file. This class keeps the queue, the chain and the futures; the file side (new
 * files, rotation, write, fsync, cutting a failed batch back) is {@link AuditFileWriter}.
 *
 * <p>One writer per directory: {@link #open} takes the directory's {@link DirectoryLock} before it reads or creates
 * anything in it and holds it until {@link #close} has written everything, because a second writer would fork the
 * chain. Readers ({@link AuditVerifier}, {@link AuditReader}) do not take it.
 *
 * <p>Thread-safe. Futures complete on the writer thread: keep dependent stages short or hop to your own executor.
 */
public final class AuditLog implements AutoCloseable {
  public static final long DEFAULT_MAX_FILE_BYTES = 256L * 1024 * 1024;
  public static final int DEFAULT_QUEUE_CAPACITY = 65_536;
  /** Bounds one batch (and so one write) so a burst cannot hold every future back behind one huge fsync. */
  private static final int MAX_BATCH = 4_096;
  private static final Logger LOG = LoggerFactory.getLogger(AuditLog.class);

  /** Opens a new, empty audit file for writing. A seam so tests can make the file fail, block or count fsyncs. */
  interface FileOpener {
    FileChannel open(Path file) throws IOException;
  }

  /**
   * What the writer reports for metrics. {@link #batchWritten} is called on the writer thread after each batch reached
   * the file, {@link #failed} on whichever thread failed a record; implementations must be cheap and never block.
   */
  public interface Events {
    /** Reports nothing. */
    Events NONE = new Events() {
    };

    /**
     * A batch of {@code records} is in the chain: its write took {@code writeNanos}, its fsync {@code syncNanos}
     * ({@code -1} when {@code durability: none} skips it).
     */
    default void batchWritten(int records, long writeNanos, long syncNanos) {
    }

    /** One record was not written, for this reason. */
    default void failed(AuditException.Kind kind) {
    }
  }

  /** Where an appended record landed in the chain. */
  public record AuditReceipt(long seq, String hash) {
  }

  private record Pending(AuditEvent event, CompletableFuture<AuditReceipt> future) {
  }

  private final DirectoryLock lock;
  private final Durability durability;
  private final Clock clock;
  private final Events events;
  private final BlockingQueue<Pending> queue;
  private final ReadWriteLock closeLock = new ReentrantReadWriteLock();
  private final LongAdder appended = new LongAdder();
  private final LongAdder failed = new LongAdder();
  private final Thread writer;
  private boolean closed; // guarded by closeLock
  private volatile boolean closing;
  private volatile Consumer<AuditEvent> observer = e -> { };
  private volatile boolean healthy = true;

  // Owned by the writer thread after construction.
  private long lastSeq;
  private String lastHash;
  private final AuditFileWriter files;

  private AuditLog(AuditConfig config, DirectoryLock lock, Clock clock, long maxFileBytes, int queueCapacity,
      FileOpener opener, Events events, long lastSeq, String lastHash) {
    this.events = events;
    this.lock = lock;
    this.durability = config.durability() == null ? Durability.GROUP_COMMIT : config.durability();
    this.clock = clock;
    this.files = new AuditFileWriter(config.dir(), durability, clock, maxFileBytes, opener);
    this.queue = new ArrayBlockingQueue<>(queueCapacity);
    this.lastSeq = lastSeq;
    this.lastHash = lastHash;
    this.writer = new Thread(this::runWriter, "audit-writer");
    this.writer.setDaemon(true);
  }

  /** Opens the log in {@code config.dir()} with 256 MiB files and a queue of 65,536 records. */
  public static AuditLog open(AuditConfig config, Clock clock) throws IOException {
    return open(config, clock, DEFAULT_MAX_FILE_BYTES, DEFAULT_QUEUE_CAPACITY);
  }

  /**
   * Opens the log: creates the directory (0700) if needed, locks it ({@link DirectoryLock}, held until
   * {@link #close}), resumes {@code seq} and {@code prev_hash} from the last complete record of the newest file and
   * starts a new file (0600). Never appends to an existing file, so a torn last line left by a crash stays where it
   * is, visible to the verifier.
   *
   * @param maxFileBytes  a new file is started once the current one reaches this size
   * @param queueCapacity records that may wait for the writer before {@link #append} fails fast
   * @throws dev.vertexproxy.proxy.lock.DirectoryInUseException if another process (or another log in this JVM)
   *         writes the directory; nothing in it was read or created
   * @throws IOException if the directory cannot be created or the newest file's last record cannot be read
   */
  public static AuditLog open(AuditConfig config, Clock clock, long maxFileBytes, int queueCapacity)
      throws IOException {
    return open(config, clock, maxFileBytes, queueCapacity, AuditFiles::openOwnerOnly, Events.NONE);
  }

  /** As {@link #open(AuditConfig, Clock)}, reporting batches and failures to {@code events}. */
  public static AuditLog open(AuditConfig config, Clock clock, Events events) throws IOException {
    return open(config, clock, DEFAULT_MAX_FILE_BYTES, DEFAULT_QUEUE_CAPACITY, AuditFiles::openOwnerOnly, events);
  }

  static AuditLog open(AuditConfig config, Clock clock, long maxFileBytes, int queueCapacity, FileOpener opener)
      throws IOException {
    return open(config, clock, maxFileBytes, queueCapacity, opener, Events.NONE);
  }

  static AuditLog open(AuditConfig config, Clock clock, long maxFileBytes, int queueCapacity, FileOpener opener,
      Events events) throws IOException {
    Objects.requireNonNull(events, "events");
    Objects.requireNonNull(config.dir(), "audit.dir");
    Objects.requireNonNull(clock, "clock");
    if (maxFileBytes < 1) {
      throw new IllegalArgumentException("maxFileBytes: " + maxFileBytes + " (expected: >= 1)");
    }
    if (queueCapacity < 1) {
      throw new IllegalArgumentException("queueCapacity: " + queueCapacity + " (expected: >= 1)");
    }
    AuditFiles.createOwnerOnlyDirectory(config.dir());
    DirectoryLock lock = DirectoryLock.acquire(config.dir(), "audit directory",
        "Two processes writing one audit directory would fork its hash chain: stop that process first, or give this"
            + " one its own audit.dir (audit verify, query and report can read the directory while it runs).");
    try {
      ObjectNode last = AuditFiles.lastRecord(config.dir());
      long lastSeq = last == null ? 0 : last.path("seq").asLong();
      String lastHash = last == null ? AuditRecords.GENESIS_HASH : last.path("hash").asText();
      AuditLog log = new AuditLog(config, lock, clock, maxFileBytes, queueCapacity, opener, events, lastSeq,
          lastHash);
      log.files.openNewFile(lastSeq + 1); // fail at startup, not on the first request, if the directory is not writable
      log.writer.start();
      return log;
    } catch (IOException | RuntimeException e) {
      lock.close();
      throw e;
    }
  }

  /**
   * Queues the event; never blocks. The future completes with the record's place in the chain once it is written as
   * durably as configured, or fails with an {@link AuditException} (queue full, closed, write failed).
   */
  public CompletableFuture<AuditReceipt> append(AuditEvent event) {
    Objects.requireNonNull(event, "event");
    CompletableFuture<AuditReceipt> future = new CompletableFuture<>();
    closeLock.readLock().lock();
    try {
      if (closed) {
        fail(future, new AuditException(AuditException.Kind.CLOSED, "audit log is closed", null));
      } else if (!queue.offer(new Pending(event, future))) {
        fail(future, new AuditException(AuditException.Kind.QUEUE_FULL,
            "audit queue full (" + (queue.size() + queue.remainingCapacity()) + " records waiting)", null));
      } else {
        observer.accept(event);
      }
    } finally {
      closeLock.readLock().unlock();
    }
    return future;
  }

  /**
   * Also hands every queued event to {@code observer}, on the appending thread — an event loop, so it must be quick and
   * never block: the page for people's recent requests per caller ({@code login.page.RecentRequests}). One observer;
   * a later call replaces it.
   */
  public void observe(Consumer<AuditEvent> observer) {
    this.observer = Objects.requireNonNull(observer, "observer");
  }

  /** False from a failed write until a later write succeeds. */
  public boolean healthy() {
    return healthy;
  }

  /** Records written (and synced as configured) since open. */
  public long appended() {
    return appended.sum();
  }

  /** Records queued for the writer right now (the queue is bounded: {@link #append} fails fast once it is full). */
  public int queueDepth() {
    return queue.size();
  }

  /** Appends that failed since open: queue full, closed or write failed. */
  public long failed() {
    return failed.sum();
  }

  /**
   * Writes everything already queued, fsyncs, closes the file, releases the directory and stops the writer; returns
   * once that is done (unless called from a future's callback on the writer thread itself, which cannot wait for
   * itself). Idempotent.
   */
  @Override
  public void close() {
    closeLock.writeLock().lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      closing = true; // no append can enqueue after this point: the writer may stop once the queue is empty
    } finally {
      closeLock.writeLock().unlock();
    }
    if (Thread.currentThread() == writer) {
      return; // closed from a future's callback: the writer finishes the queue and closes the file itself
    }
    boolean interrupted = false;
    while (writer.isAlive()) {
      try {
        writer.join();
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  private void runWriter() {
    List<Pending> batch = new ArrayList<>();
    try {
      while (true) {
        Pending first;
        try {
          first = queue.poll(50, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
          continue; // only close() stops the writer, and only once everything queued is written
        }
        if (first == null) {
          if (closing && queue.isEmpty()) {
            return;
          }
          continue;
        }
        batch.add(first);
        if (durability != Durability.SYNC) {
          queue.drainTo(batch, MAX_BATCH - 1);
        }
        writeBatch(batch);
        batch.clear();
      }
    } finally {
      files.close();
      lock.close(); // only now may another process continue the chain
    }
  }

  private void writeBatch(List<Pending> batch) {
    long seq = lastSeq;
    String prevHash = lastHash;
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(batch.size() * 768);
    List<Pending> written = new ArrayList<>(batch.size());
    List<AuditReceipt> receipts = new ArrayList<>(batch.size());
    for (Pending pending : batch) {
      byte[] line;
      String hash;
      try {
        ObjectNode record = AuditRecords.toJson(pending.event(), clock.instant());
        record.put("seq", seq + 1);
        record.put("prev_hash", prevHash);
        hash = AuditRecords.hash(record);
        record.put("hash", hash);
        line = AuditRecords.canonical(record);
      } catch (RuntimeException e) {
        LOG.error("audit event could not be turned into a record ({}); it is not in the trail", e.getClass().getName());
        fail(pending.future(), new AuditException(AuditException.Kind.WRITE_FAILED, "invalid audit event", null));
        continue;
      }
      seq++;
      bytes.writeBytes(line);
      bytes.write('\n');
      written.add(pending);
      receipts.add(new AuditReceipt(seq, hash));
      prevHash = hash;
    }
    if (written.isEmpty()) {
      return;
    }
    AuditFileWriter.Timing timing;
    try {
      timing = files.write(bytes.toByteArray(), lastSeq + 1);
    } catch (IOException | RuntimeException e) {
      healthy = false;
      LOG.error("audit write to {} failed; {} record(s) not written, the chain stays at seq {}: {}",
          files.name(), written.size(), lastSeq, e.toString());
      files.abandonBatch();
      for (Pending pending : written) {
        fail(pending.future(), new AuditException(AuditException.Kind.WRITE_FAILED, "audit write failed", e));
      }
      return;
    }
    lastSeq = seq;
    lastHash = prevHash;
    appended.add(written.size());
    events.batchWritten(written.size(), timing.writeNanos(), timing.syncNanos());
    if (!healthy) {
      LOG.info("audit writes to {} succeed again (seq {})", files.name(), seq);
      healthy = true;
    }
    for (int i = 0; i < written.size(); i++) {
      written.get(i).future().complete(receipts.get(i));
    }
  }

  private void fail(CompletableFuture<AuditReceipt> future, AuditException cause) {
    failed.increment();
    events.failed(cause.kind());
    future.completeExceptionally(cause);
  }
}

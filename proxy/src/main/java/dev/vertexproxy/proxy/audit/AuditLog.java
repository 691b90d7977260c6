package dev.vertexproxy.proxy.audit;

import dev.vertexproxy.proxy.config.AuditConfig;
import dev.vertexproxy.proxy.config.AuditConfig.Durability;
import dev.vertexproxy.proxy.lock.DirectoryLock;
import java.io.IOException;
import java.io.OutputStream;
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
 * the next batch retries in a fresh file. This class keeps the queue, the futures and the writer thread; the chain and
 * the writer's own records (chain id, signed checkpoints, seals, retention, stdout lines) are {@link TrailWriter}'s,
 * the file side (new files, write, fsync, cutting a failed batch back) is {@link AuditFileWriter}.
 *
 * <p>One writer per directory: {@link #open} takes the directory's {@link DirectoryLock} before it reads or creates
 * anything in it and holds it until {@link #close} has written everything, because a second writer would fork the
 * chain. Readers ({@link AuditVerifier}, {@link AuditReader}) do not take it.
 *
 * <p>Thread-safe. Futures complete on the writer thread: keep dependent stages short or hop to your own executor.
 */
public final class AuditLog implements AutoCloseable {
  public static final long DEFAULT_MAX_FILE_BYTES = AuditConfig.DEFAULT_MAX_FILE_BYTES;
  public static final int DEFAULT_QUEUE_CAPACITY = 65_536;
  /** Bounds one batch (and so one write) so a burst cannot hold every future back behind one huge fsync. */
  private static final int MAX_BATCH = 4_096;
  private static final Logger LOG = LoggerFactory.getLogger(AuditLog.class);

  /** Opens a new, empty audit file for writing. A seam so tests can make the file fail, block or count fsyncs. */
  interface FileOpener {
    FileChannel open(Path file) throws IOException;
  }

  /**
   * What the writer reports for metrics. {@link #batchWritten} and {@link #checkpointWritten} are called on the writer
   * thread, {@link #failed} and {@link #exportFailed} on whichever thread failed; implementations must be cheap and
   * never block.
   */
  public interface Events {
    /** Reports nothing. */
    Events NONE = new Events() {
    };

    /**
     * A batch with {@code records} appended records is in the chain (besides any of the writer's own, which are not
     * counted): its write took {@code writeNanos}, its fsync {@code syncNanos} ({@code -1} with {@code durability: none}).
     */
    default void batchWritten(int records, long writeNanos, long syncNanos) {
    }

    /** One record was not written, for this reason. */
    default void failed(AuditException.Kind kind) {
    }

    /** A signed checkpoint is in the chain. */
    default void checkpointWritten() {
    }

    /** A line for an external sink (checkpoint file, stdout) was lost; the trail on disk still has the record. */
    default void exportFailed() {
    }
  }

  /** Where an appended record landed in the chain. */
  public record AuditReceipt(long seq, String hash) {
  }

  /**
   * Everything {@link #open} takes besides the config and clock: test seams and the stdout target.
   *
   * @param maxFileBytes  overrides {@code audit.rotate.max_bytes} when {@code > 0}
   * @param traceProject  {@code logging.trace_project} for {@code audit.stdout: cloud_logging}, or null
   * @param stdout        where stdout lines go (the process's stdout unless a test captures them)
   */
  record Options(long maxFileBytes, int queueCapacity, FileOpener opener, Events events, String traceProject,
      OutputStream stdout) {
    static Options defaults() {
      return new Options(0, DEFAULT_QUEUE_CAPACITY, AuditFiles::openOwnerOnly, Events.NONE, null, null);
    }

    Options withStdout(OutputStream stdout) {
      return new Options(maxFileBytes, queueCapacity, opener, events, traceProject, stdout);
    }
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

  private final TrailWriter trail; // owned by the writer thread after construction

  private AuditLog(AuditConfig config, DirectoryLock lock, Clock clock, Options options, TrailWriter trail) {
    this.events = options.events();
    this.lock = lock;
    this.durability = config.durability();
    this.clock = clock;
    this.trail = trail;
    this.queue = new ArrayBlockingQueue<>(options.queueCapacity());
    this.writer = new Thread(this::runWriter, "audit-writer");
    this.writer.setDaemon(true);
  }

  /** Opens the log in {@code config.dir()} with files rotated as {@code audit.rotate} says and a queue of 65,536. */
  public static AuditLog open(AuditConfig config, Clock clock) throws IOException {
    return open(config, clock, Options.defaults());
  }

  /**
   * Opens the log: creates the directory (0700) if needed, locks it ({@link DirectoryLock}, held until
   * {@link #close}), reads (or on first start creates) its chain id ({@link ChainId}), reads the checkpoint key if
   * {@code audit.checkpoint} is set, resumes {@code seq} and {@code prev_hash} from the last complete record of the
   * newest file and starts a new file (0600) — first with a {@code seal} if the newest file ends in a partial line (the
   * partial line stays where it is), then with a signed {@code start} checkpoint — and applies retention. Never
   * appends to an existing file.
   *
   * @param maxFileBytes  a new file is started once the current one reaches this size (overrides
   *                      {@code audit.rotate.max_bytes})
   * @param queueCapacity records that may wait for the writer before {@link #append} fails fast
   * @throws dev.vertexproxy.proxy.lock.DirectoryInUseException if another process (or another log in this JVM)
   *         writes the directory; nothing in it was read or created
   * @throws IOException if the directory cannot be created, belongs to another chain, the key cannot be read or the
   *         newest file's last record cannot be read
   */
  public static AuditLog open(AuditConfig config, Clock clock, long maxFileBytes, int queueCapacity)
      throws IOException {
    return open(config, clock, new Options(maxFileBytes, queueCapacity, AuditFiles::openOwnerOnly, Events.NONE, null,
        null));
  }

  /** As {@link #open(AuditConfig, Clock)}, reporting batches and failures to {@code events}. */
  public static AuditLog open(AuditConfig config, Clock clock, Events events) throws IOException {
    return open(config, clock, events, null);
  }

  /**
   * As {@link #open(AuditConfig, Clock, Events)}; {@code traceProject} ({@code logging.trace_project}, nullable) links
   * the lines of {@code audit.stdout: cloud_logging} to their requests' traces.
   */
  public static AuditLog open(AuditConfig config, Clock clock, Events events, String traceProject) throws IOException {
    return open(config, clock, new Options(0, DEFAULT_QUEUE_CAPACITY, AuditFiles::openOwnerOnly, events, traceProject,
        null));
  }

  static AuditLog open(AuditConfig config, Clock clock, long maxFileBytes, int queueCapacity, FileOpener opener)
      throws IOException {
    return open(config, clock, new Options(maxFileBytes, queueCapacity, opener, Events.NONE, null, null));
  }

  static AuditLog open(AuditConfig config, Clock clock, long maxFileBytes, int queueCapacity, FileOpener opener,
      Events events) throws IOException {
    return open(config, clock, new Options(maxFileBytes, queueCapacity, opener, events, null, null));
  }

  static AuditLog open(AuditConfig config, Clock clock, Options options) throws IOException {
    Objects.requireNonNull(options.events(), "events");
    Objects.requireNonNull(config.dir(), "audit.dir");
    Objects.requireNonNull(clock, "clock");
    if (options.maxFileBytes() < 0) {
      throw new IllegalArgumentException("maxFileBytes: " + options.maxFileBytes() + " (expected: >= 1)");
    }
    if (options.queueCapacity() < 1) {
      throw new IllegalArgumentException("queueCapacity: " + options.queueCapacity() + " (expected: >= 1)");
    }
    if (config.retention() != null && config.checkpoint() == null) {
      throw new IllegalArgumentException("audit.retention needs audit.checkpoint: only files covered by a signed"
          + " checkpoint may be deleted");
    }
    AuditConfig effective = options.maxFileBytes() > 0
        ? config.withRotate(new AuditConfig.Rotate(options.maxFileBytes(), config.rotate().maxAge())) : config;
    AuditFiles.createOwnerOnlyDirectory(config.dir());
    DirectoryLock lock = DirectoryLock.acquire(config.dir(), "audit directory",
        "Two processes writing one audit directory would fork its hash chain: stop that process first, or give this"
            + " one its own audit.dir (audit verify, query and report can read the directory while it runs).");
    try {
      AuditLog log = new AuditLog(effective, lock, clock, options, TrailWriter.open(effective, clock, options));
      log.writer.start();
      return log;
    } catch (IOException | RuntimeException e) {
      lock.close();
      throw e;
    }
  }

  /** The chain's id: every record of this log carries it as {@code chain_id}. */
  public String chainId() {
    return trail.chainId();
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
          tick();
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
      trail.close(); // the shutdown checkpoint, then the file and stdout
      lock.close(); // only now may another process continue the chain
    }
  }

  private void tick() {
    try {
      if (trail.tick()) {
        recovered();
      }
    } catch (IOException | RuntimeException e) {
      healthy = false;
      LOG.error("audit periodic checkpoint could not be written: {}", e.toString());
    }
  }

  private void writeBatch(List<Pending> batch) {
    List<EventLines.Prepared> records = new ArrayList<>(batch.size());
    List<Pending> written = new ArrayList<>(batch.size());
    for (Pending pending : batch) {
      try {
        records.add(trail.prepare(pending.event(), clock.instant()));
        written.add(pending);
      } catch (RuntimeException e) {
        LOG.error("audit event could not be turned into a record ({}); it is not in the trail", e.getClass().getName());
        fail(pending.future(), new AuditException(AuditException.Kind.WRITE_FAILED, "invalid audit event", null));
      }
    }
    if (written.isEmpty()) {
      return;
    }
    List<AuditReceipt> receipts;
    try {
      receipts = trail.write(records);
    } catch (IOException | RuntimeException e) {
      healthy = false;
      LOG.error("audit write failed; {} record(s) not written, the chain stays at seq {}: {}",
          written.size(), trail.lastSeq(), e.toString());
      for (Pending pending : written) {
        fail(pending.future(), new AuditException(AuditException.Kind.WRITE_FAILED, "audit write failed", e));
      }
      return;
    }
    appended.add(written.size());
    recovered();
    for (int i = 0; i < written.size(); i++) {
      written.get(i).future().complete(receipts.get(i));
    }
  }

  private void recovered() {
    if (!healthy) {
      LOG.info("audit writes succeed again (seq {})", trail.lastSeq());
      healthy = true;
    }
  }

  private void fail(CompletableFuture<AuditReceipt> future, AuditException cause) {
    failed.increment();
    events.failed(cause.kind());
    future.completeExceptionally(cause);
  }
}

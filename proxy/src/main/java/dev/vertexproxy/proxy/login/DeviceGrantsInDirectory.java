package dev.vertexproxy.proxy.login;

import dev.vertexproxy.proxy.files.PrivateFiles;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.time.Instant;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.Function;

/**
 * {@link DeviceGrants} shared by every replica through the directory they already share for signing keys and the
 * revocation list ({@code sessions.signing_keys_dir}): the CLI's poll, the person's approval and the CLI's start of a
 * grant may each reach a different replica — the device flow's browser is on another machine by design, so no
 * balancer affinity can keep them together.
 *
 * <p>The grants are one JSON {@link Document}, {@value #FILE}, read and replaced whole under a file lock, with
 * the state machine of {@link DeviceGrantsInMemory} applied to what was read — so replicas agree on every transition
 * and a code is redeemed once across all of them. The document holds no usable secret (device codes only as hashes)
 * and is private to the proxy (0600). It stays small: grants are bounded and forgotten a lifetime after they expire.
 * Guess counters stay per replica: with {@code N} replicas a guesser gets {@code N} times the bound, still negligible
 * against the code space.
 *
 * <p>Every method does file I/O: call it on the blocking executor, never on an event loop. Thread-safe.
 */
public final class DeviceGrantsInDirectory implements DeviceGrants {
  static final String FILE = "device-grants.json";
  private static final ObjectMapper JSON = new ObjectMapper();
  /** One monitor per file in this JVM: a file lock is held per process, so this process's threads queue first. */
  private static final ConcurrentMap<Path, Object> MONITORS = new ConcurrentHashMap<>();

  private final Document document;
  private final DeviceGrantsInMemory guesses = new DeviceGrantsInMemory();

  public DeviceGrantsInDirectory(Path dir) {
    this.document = new Document(dir.resolve(FILE));
  }

  @Override
  public Optional<Grant> start(String sourceIp, Instant now) {
    return locked(t -> t.start(sourceIp, now), true);
  }

  @Override
  public Optional<Grant> pending(String userCode, Instant now) {
    return locked(t -> t.pending(userCode, now), false);
  }

  @Override
  public boolean approve(String userCode, Approval approval, Instant now) {
    return locked(t -> t.approve(userCode, approval, now), true);
  }

  @Override
  public boolean deny(String userCode, Instant now) {
    return locked(t -> t.deny(userCode, now), true);
  }

  @Override
  public Poll poll(String deviceCode, Instant now) {
    return locked(t -> t.poll(deviceCode, now), true);
  }

  @Override
  public boolean guessAllowed(String who, Instant now) {
    return guesses.guessAllowed(who, now);
  }

  @Override
  public void missed(String who, Instant now) {
    guesses.missed(who, now);
  }

  private <T> T locked(Function<DeviceGrantsInMemory, T> op, boolean changes) {
    return document.apply(doc -> {
      DeviceGrantsInMemory table = new DeviceGrantsInMemory();
      if (doc != null) {
        table.loadJson(doc);
      }
      T result = op.apply(table);
      return new Document.Step<>(result, changes ? table.toJson() : null);
    });
  }

  /**
   * One JSON document replicas share: read and replaced whole under an exclusive lock on a {@code .lock} file beside
   * it — a lock between processes, with one monitor per file ordering this process's own threads first — written to a
   * private temporary file, forced and renamed over the old one, so a reader never sees half of a change.
   */
  static final class Document {
    /** What an operation answers and, when it changed anything, the new document. */
    record Step<T>(T result, JsonNode replacement) {
    }

    private final Path file;
    private final Path lockFile;
    private final Object monitor;

    Document(Path file) {
      this.file = file;
      this.lockFile = file.resolveSibling(file.getFileName() + ".lock");
      this.monitor = MONITORS.computeIfAbsent(lockFile.toAbsolutePath().normalize(), p -> new Object());
    }

    /** Runs {@code op} on the current document ({@code null} when there is none yet) and stores its replacement. */
    <T> T apply(Function<JsonNode, Step<T>> op) {
      synchronized (monitor) {
        try {
          Files.createDirectories(file.getParent());
          try (FileChannel lock = FileChannel.open(lockFile, Set.of(StandardOpenOption.CREATE,
              StandardOpenOption.WRITE), privateMode())) {
            FileLock held = lock.lock();
            try {
              Step<T> step = op.apply(read());
              if (step.replacement() != null) {
                write(JSON.writeValueAsBytes(step.replacement()));
              }
              return step.result();
            } finally {
              held.release();
            }
          }
        } catch (IOException e) {
          throw new UncheckedIOException("shared document " + file, e);
        }
      }
    }

    private JsonNode read() throws IOException {
      try {
        return JSON.readTree(Files.readAllBytes(file));
      } catch (NoSuchFileException e) {
        return null;
      }
    }

    private void write(byte[] bytes) throws IOException {
      PrivateFiles.replace(file, bytes);
    }

    private static FileAttribute<?>[] privateMode() {
      return PrivateFiles.ownerOnly();
    }
  }
}

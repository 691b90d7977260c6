package dev.vertexproxy.proxy.login;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
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
 * <p>The grants are one JSON document, {@value #FILE}, read and replaced whole under an exclusive lock on a
 * {@code .lock} file beside it (a lock between processes; one monitor per file orders this process's own threads first), with
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

  private final Path file;
  private final Path lockFile;
  private final Object monitor;
  private final DeviceGrantsInMemory guesses = new DeviceGrantsInMemory();

  public DeviceGrantsInDirectory(Path dir) {
    this.file = dir.resolve(FILE);
    this.lockFile = dir.resolve(FILE + ".lock");
    this.monitor = MONITORS.computeIfAbsent(lockFile.toAbsolutePath().normalize(), p -> new Object());
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
    synchronized (monitor) {
      return lockedFile(op, changes);
    }
  }

  private <T> T lockedFile(Function<DeviceGrantsInMemory, T> op, boolean changes) {
    try {
      Files.createDirectories(file.getParent());
      try (FileChannel lock = FileChannel.open(lockFile, Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE),
          privateMode())) {
        FileLock held = lock.lock();
        try {
          DeviceGrantsInMemory table = new DeviceGrantsInMemory();
          JsonNode doc = read();
          if (doc != null) {
            table.loadJson(doc);
          }
          T result = op.apply(table);
          if (changes) {
            write(JSON.writeValueAsBytes(table.toJson()));
          }
          return result;
        } finally {
          held.release();
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("device grants in " + file, e);
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
    Path tmp = Files.createTempFile(file.getParent(), "." + FILE + ".", ".tmp", privateMode());
    try {
      try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
        ByteBuffer buf = ByteBuffer.wrap(bytes);
        while (buf.hasRemaining()) {
          out.write(buf);
        }
        out.force(true);
      }
      try {
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
      }
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  private static FileAttribute<?>[] privateMode() {
    return FileSystems.getDefault().supportedFileAttributeViews().contains("posix")
        ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"))}
        : new FileAttribute<?>[0];
  }
}

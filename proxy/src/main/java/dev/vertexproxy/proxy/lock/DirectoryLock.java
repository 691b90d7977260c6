package dev.vertexproxy.proxy.lock;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An exclusive, process-lifetime claim on a directory: an OS file lock ({@link FileChannel#tryLock()}) on
 * {@value #FILE_NAME} inside it, with the holder's pid, host and start time written into that file so that a process
 * that is refused can say who holds the directory.
 *
 * <p>Why: two proxies (or two dev runs) writing one audit directory fork its hash chain, and a second dev run
 * overwrites the first one's state files. So the owner of a directory takes this lock before it opens, creates or reads
 * anything else in it, and keeps it until it shuts down; the OS releases it if the process dies, so a crash never
 * leaves a stale lock behind (the file stays, with the dead holder's details, and the next process simply takes it
 * over). The file is never deleted: deleting it on release would let two processes lock two different files of the same
 * name.
 *
 * <p>Within one JVM: POSIX record locks belong to the process, and closing <em>any</em> descriptor of the file drops
 * them, so a second claim in the same JVM must never open the file. Claims are therefore also registered in this
 * class, by the directory's real path, and a second claim is refused from that register without touching the file.
 * Should another part of the JVM hold an OS lock on the file anyway ({@link OverlappingFileLockException}), that is a
 * refusal too, and the probe's descriptor is kept open for the same reason.
 *
 * <p>Readers (the {@code audit} commands) do not take this lock, so a live trail can be verified. Thread-safe.
 */
public final class DirectoryLock implements AutoCloseable {
  /** The lock file's name in the locked directory; not an {@code audit-*.jsonl} name, so audit readers pass it by. */
  public static final String FILE_NAME = "vertex-proxy.lock";
  private static final int MAX_HOLDER_BYTES = 4096;

  private static final Object REGISTER = new Object();
  /** Held here, by the directory's real path. Guarded by {@link #REGISTER}. */
  private static final Map<Path, DirectoryLock> HELD = new LinkedHashMap<>();
  /** Channels that must stay open: closing one would drop an OS lock this JVM holds through another. */
  private static final List<FileChannel> KEPT_OPEN = new ArrayList<>();

  private final Path dir;
  private final Path file;
  private final FileChannel channel;
  private final FileLock lock;
  private final Holder holder;
  private boolean released; // guarded by REGISTER

  /** Who holds a directory, as written into the lock file. */
  public record Holder(String pid, String host, String started) {
    String describe() {
      return "pid " + pid + " on host " + host + ", started " + started;
    }
  }

  private DirectoryLock(Path dir, Path file, FileChannel channel, FileLock lock, Holder holder) {
    this.dir = dir;
    this.file = file;
    this.channel = channel;
    this.lock = lock;
    this.holder = holder;
  }

  /**
   * Takes the lock on {@code dir}, which must exist, or refuses at once (never waits).
   *
   * @param what   what the directory is to the reader of the refusal, e.g. {@code audit directory}
   * @param advice what to do about a refusal, e.g. {@code Stop that process, or give this proxy its own audit.dir.}
   * @throws DirectoryInUseException if another process, or another owner in this JVM, holds it
   * @throws IOException             if the lock file cannot be created or locked
   */
  public static DirectoryLock acquire(Path dir, String what, String advice) throws IOException {
    Path real = dir.toRealPath();
    Path file = real.resolve(FILE_NAME);
    synchronized (REGISTER) {
      DirectoryLock mine = HELD.get(real);
      if (mine != null) {
        throw refusal(what, real, file, mine.holder, " (this process)", advice);
      }
      FileChannel channel = open(file);
      FileLock lock;
      try {
        lock = channel.tryLock();
      } catch (OverlappingFileLockException heldInThisJvm) {
        KEPT_OPEN.add(channel);
        throw refusal(what, real, file, readHolder(channel), " (this process)", advice);
      } catch (IOException | RuntimeException e) {
        channel.close();
        throw e;
      }
      if (lock == null) {
        Holder other;
        try {
          other = readHolder(channel);
        } finally {
          channel.close(); // this JVM holds no lock on the file, so closing drops nothing
        }
        throw refusal(what, real, file, other, "", advice);
      }
      Holder me = currentProcess();
      try {
        ByteBuffer content = ByteBuffer.wrap(("pid=" + me.pid + "\nhost=" + me.host + "\nstarted=" + me.started + "\n")
            .getBytes(StandardCharsets.UTF_8));
        channel.truncate(0);
        while (content.hasRemaining()) {
          channel.write(content, content.position());
        }
        channel.force(false);
      } catch (IOException | RuntimeException e) {
        channel.close(); // releases the lock too
        throw e;
      }
      DirectoryLock held = new DirectoryLock(real, file, channel, lock, me);
      HELD.put(real, held);
      return held;
    }
  }

  /** The locked directory (its real path). */
  public Path directory() {
    return dir;
  }

  /** The lock file. */
  public Path file() {
    return file;
  }

  /** Releases the lock; the lock file stays. Idempotent. */
  @Override
  public void close() {
    synchronized (REGISTER) {
      if (released) {
        return;
      }
      released = true;
      HELD.remove(dir, this);
      try {
        lock.release();
      } catch (IOException | RuntimeException e) {
        // closing the channel below releases it as well
      }
      try {
        channel.close();
      } catch (IOException e) {
        // nothing left to do: the OS drops the lock with the descriptor, or with the process
      }
    }
  }

  private static FileChannel open(Path file) throws IOException {
    Set<OpenOption> options = Set.of(StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE,
        LinkOption.NOFOLLOW_LINKS);
    if (file.getFileSystem().supportedFileAttributeViews().contains("posix")) {
      return FileChannel.open(file, options, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    }
    return FileChannel.open(file, options);
  }

  private static DirectoryInUseException refusal(String what, Path dir, Path file, Holder holder, String self,
      String advice) {
    String who = holder == null
        ? "another process (its pid is not in the lock file yet, or cannot be read)"
        : holder.describe() + self;
    return new DirectoryInUseException(what + " " + dir + " is in use by " + who + "; lock file " + file + ". "
        + advice, holder);
  }

  /** The holder's details from the file, read through {@code channel}, printable ASCII only; null if none yet. */
  private static Holder readHolder(FileChannel channel) {
    ByteBuffer buffer = ByteBuffer.allocate(MAX_HOLDER_BYTES);
    try {
      while (buffer.hasRemaining() && channel.read(buffer, buffer.position()) > 0) {
        // keep reading
      }
    } catch (IOException e) {
      return null;
    }
    Map<String, String> fields = new LinkedHashMap<>();
    for (String line : new String(buffer.array(), 0, buffer.position(), StandardCharsets.UTF_8).split("\n")) {
      int eq = line.indexOf('=');
      if (eq > 0) {
        fields.put(line.substring(0, eq), printable(line.substring(eq + 1)));
      }
    }
    if (!fields.containsKey("pid")) {
      return null;
    }
    return new Holder(fields.get("pid"), fields.getOrDefault("host", "unknown"), fields.getOrDefault("started", "unknown"));
  }

  /** A lock file is anyone's to write: never echo control characters from it to a terminal. */
  private static String printable(String s) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < s.length() && out.length() < 200; i++) {
      char c = s.charAt(i);
      out.append(c >= 0x20 && c < 0x7f ? c : '?');
    }
    return out.toString();
  }

  private static Holder currentProcess() {
    ProcessHandle self = ProcessHandle.current();
    Instant started = self.info().startInstant().orElseGet(Instant::now).truncatedTo(ChronoUnit.SECONDS);
    return new Holder(Long.toString(self.pid()), printable(hostName()), started.toString());
  }

  private static String hostName() {
    // /proc first: InetAddress.getLocalHost() may wait on a DNS lookup, and this runs before the proxy starts.
    try {
      String name = Files.readString(Path.of("/proc/sys/kernel/hostname"), StandardCharsets.UTF_8).trim();
      if (!name.isEmpty()) {
        return name;
      }
    } catch (IOException | RuntimeException e) {
      // not Linux
    }
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      return "unknown";
    }
  }
}

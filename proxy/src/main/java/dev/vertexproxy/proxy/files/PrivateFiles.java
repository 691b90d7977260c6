package dev.vertexproxy.proxy.files;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Writing the small files that hold secrets or shared state — signing keys, the revocation list, pending device
 * sign-ins, a person's stored session, a credentials file — the one way they must all be written: into a temporary
 * file in the same directory that is mode 0600 from its creation (where the file system has POSIX permissions), flushed
 * to disk, then moved over the target atomically, so a reader (another replica, google-auth) sees the old content or
 * the new, never half of either, and nobody else can read it in between. Stateless; blocking.
 */
public final class PrivateFiles {
  private PrivateFiles() {
  }

  /** Replaces {@code target} with {@code content}, atomically, mode 0600. */
  public static void replace(Path target, byte[] content) throws IOException {
    Path tmp = written(target, content);
    try {
      try {
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING); // same directory: only exotic file systems
      }
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /**
   * Creates {@code target} with {@code content} unless it exists, atomically (a hard link of the temporary file, so
   * two writers racing leave exactly one's content), mode 0600.
   *
   * @return whether this call created it
   */
  public static boolean createIfAbsent(Path target, byte[] content) throws IOException {
    Path tmp = written(target, content);
    try {
      Files.createLink(target, tmp);
      return true;
    } catch (FileAlreadyExistsException e) {
      return false;
    } catch (UnsupportedOperationException e) {
      try {
        Files.move(tmp, target); // no hard links here: not atomic against a racing writer, but never replaces
        return true;
      } catch (FileAlreadyExistsException exists) {
        return false;
      }
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /** The 0600 file mode as a creation attribute, or none where the file system has no POSIX permissions. */
  public static FileAttribute<?>[] ownerOnly() {
    return FileSystems.getDefault().supportedFileAttributeViews().contains("posix")
        ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"))}
        : new FileAttribute<?>[0];
  }

  private static Path written(Path target, byte[] content) throws IOException {
    Path dir = target.toAbsolutePath().getParent();
    Path tmp = Files.createTempFile(dir, "." + target.getFileName() + ".", ".tmp", ownerOnly());
    try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
      ByteBuffer buf = ByteBuffer.wrap(content);
      while (buf.hasRemaining()) {
        out.write(buf);
      }
      out.force(true);
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(tmp);
      throw e;
    }
    return tmp;
  }
}

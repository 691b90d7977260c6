package dev.vertexproxy.proxy.audit;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The verifier's view of a trail's files: {@link AuditFiles}' listing and naming (which include files a reviewer
 * compressed after rotation, {@code audit-*.jsonl.gz}), plus what only verification needs: whether a file is
 * compressed and the name a seal gives it. Stateless and thread-safe.
 */
final class TrailFiles {
  private TrailFiles() {
  }

  /** Every regular file named {@code audit-*.jsonl} or {@code audit-*.jsonl.gz} in {@code dir}, in chain order. */
  static List<Path> list(Path dir) throws IOException {
    return AuditFiles.list(dir);
  }

  static boolean wellNamed(Path file) {
    return AuditFiles.wellNamed(file);
  }

  static boolean compressed(Path file) {
    return file.getFileName().toString().endsWith(".gz");
  }

  /** The first seq from a well-formed name; {@code Long.MAX_VALUE} otherwise (such files sort last). */
  static long firstSeqOf(Path file) {
    return AuditFiles.firstSeqOf(file);
  }

  /** The name a seal record uses for a file: the name it had when written, without a later {@code .gz}. */
  static String sealName(Path file) {
    String name = file.getFileName().toString();
    return compressed(file) ? name.substring(0, name.length() - 3) : name;
  }
}

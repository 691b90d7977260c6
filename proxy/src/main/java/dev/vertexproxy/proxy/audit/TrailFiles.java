package dev.vertexproxy.proxy.audit;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The verifier's listing of a trail: {@code audit-*.jsonl} and, for files a reviewer compressed after rotation,
 * {@code audit-*.jsonl.gz}, in chain order (first seq in the name, numerically, then name). Kept apart from
 * {@link AuditFiles}, the writer's naming, so the one place that knows about {@code .gz} on the reading side is here
 * until the two merge. Stateless and thread-safe.
 */
final class TrailFiles {
  static final Pattern NAME = Pattern.compile("audit-(\\d{8}T\\d{6}Z)-(\\d{1,19})\\.jsonl(\\.gz)?");

  static final Comparator<Path> ORDER = Comparator.comparingLong(TrailFiles::firstSeqOf)
      .thenComparing(path -> path.getFileName().toString());

  private TrailFiles() {
  }

  /** Every regular file named {@code audit-*.jsonl} or {@code audit-*.jsonl.gz} in {@code dir}, in chain order. */
  static List<Path> list(Path dir) throws IOException {
    List<Path> files = new ArrayList<>();
    try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir, "audit-*.{jsonl,jsonl.gz}")) {
      for (Path file : stream) {
        if (Files.isRegularFile(file)) {
          files.add(file);
        }
      }
    }
    files.sort(ORDER);
    return files;
  }

  static boolean wellNamed(Path file) {
    return NAME.matcher(file.getFileName().toString()).matches();
  }

  static boolean compressed(Path file) {
    return file.getFileName().toString().endsWith(".gz");
  }

  /** The first seq from a well-formed name; {@code Long.MAX_VALUE} otherwise (such files sort last). */
  static long firstSeqOf(Path file) {
    Matcher matcher = NAME.matcher(file.getFileName().toString());
    if (!matcher.matches()) {
      return Long.MAX_VALUE;
    }
    try {
      return Long.parseLong(matcher.group(2));
    } catch (NumberFormatException e) {
      return Long.MAX_VALUE;
    }
  }

  /** The name a seal record uses for a file: the name it had when written, without a later {@code .gz}. */
  static String sealName(Path file) {
    String name = file.getFileName().toString();
    return compressed(file) ? name.substring(0, name.length() - 3) : name;
  }
}

package dev.vertexproxy.proxy.audit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Naming, ordering and tail-reading of the audit files ({@code audit-<yyyyMMdd'T'HHmmss'Z'>-<first seq>.jsonl}, or
 * {@code .jsonl.gz} for a file a reviewer compressed after rotation; the writer never compresses).
 *
 * <p>Files are ordered by the first seq in their name (numerically), then by name: unlike the timestamp, the seq
 * cannot go backwards when the wall clock does, and unlike plain name order, {@code -10} sorts after {@code -9}.
 * Stateless and thread-safe.
 */
final class AuditFiles {
  private static final Logger LOG = LoggerFactory.getLogger(AuditFiles.class);
  static final Pattern NAME = Pattern.compile("audit-(\\d{8}T\\d{6}Z)-(\\d{1,19})\\.jsonl(?:\\.gz)?");
  private static final DateTimeFormatter STAMP =
      DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'", Locale.ROOT).withZone(ZoneOffset.UTC);

  static final Comparator<Path> ORDER = Comparator
      .comparingLong(AuditFiles::firstSeqOf)
      .thenComparing(path -> path.getFileName().toString());

  private AuditFiles() {
  }

  static String fileName(Instant openedAt, long firstSeq) {
    return "audit-" + STAMP.format(openedAt) + "-" + firstSeq + ".jsonl";
  }

  /** The first seq from a well-formed name; {@code Long.MAX_VALUE} for names that do not follow the pattern. */
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

  static boolean wellNamed(Path file) {
    return NAME.matcher(file.getFileName().toString()).matches();
  }

  /** Every {@code audit-*.jsonl} and {@code audit-*.jsonl.gz} regular file in {@code dir}, in chain order. */
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

  /**
   * The end of a file: its last complete line (without {@code \n}, null if none) and whether a partial line follows,
   * which then starts at {@code tornOffset} and runs to the end of the file.
   */
  record Tail(byte[] lastCompleteLine, boolean torn, long tornOffset, long size) {
    Tail(byte[] lastCompleteLine, boolean torn) {
      this(lastCompleteLine, torn, -1, -1);
    }
  }

  /** Reads backwards from the end, so resuming costs the same for a 1 KiB file and a 1 GiB one. */
  static Tail readTail(Path file) throws IOException {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = channel.size();
      if (size == 0) {
        return new Tail(null, false);
      }
      boolean torn = readByte(channel, size - 1) != '\n';
      long lastNewline = torn ? findNewlineBackwards(channel, size - 1) : size - 1;
      long tornOffset = torn ? lastNewline + 1 : -1;
      if (lastNewline < 0) {
        return new Tail(null, torn, tornOffset, size);
      }
      long start = findNewlineBackwards(channel, lastNewline) + 1;
      long length = lastNewline - start;
      if (length > Integer.MAX_VALUE - 16) {
        throw new IOException(file.getFileName() + ": last line too long to be an audit record");
      }
      ByteBuffer line = ByteBuffer.allocate((int) length);
      while (line.hasRemaining()) {
        if (channel.read(line, start + line.position()) < 0) {
          throw new IOException(file.getFileName() + ": file shrank while reading");
        }
      }
      return new Tail(line.array(), torn, tornOffset, size);
    }
  }

  /** Hex SHA-256 of {@code length} bytes of {@code file} from {@code offset}, read in chunks. */
  static String sha256Of(Path file, long offset, long length) throws IOException {
    MessageDigest digest;
    try {
      digest = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every Java platform", e);
    }
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      ByteBuffer chunk = ByteBuffer.allocate(64 * 1024);
      long position = offset;
      long end = offset + length;
      while (position < end) {
        chunk.clear().limit((int) Math.min(chunk.capacity(), end - position));
        int read = channel.read(chunk, position);
        if (read < 0) {
          throw new IOException(file.getFileName() + ": file shrank while reading");
        }
        digest.update(chunk.array(), 0, read);
        position += read;
      }
    }
    return HexFormat.of().formatHex(digest.digest());
  }

  /**
   * The partial line the newest non-empty audit file ends with (what a crash in the middle of a write leaves), or null
   * when it ends in a whole line. Only the newest file counts: an older one's partial line was sealed when the writer
   * last started.
   */
  static Seal tornTail(Path dir) throws IOException {
    List<Path> files = list(dir);
    for (int i = files.size() - 1; i >= 0; i--) {
      Path file = files.get(i);
      if (!wellNamed(file) || Files.size(file) == 0) {
        continue;
      }
      Tail tail = readTail(file);
      if (!tail.torn()) {
        return null;
      }
      long bytes = tail.size() - tail.tornOffset();
      return new Seal(file.getFileName().toString(), tail.tornOffset(), bytes,
          sha256Of(file, tail.tornOffset(), bytes), Seal.CRASH);
    }
    return null;
  }

  /**
   * The first record of a file that is not a {@code seal}, or null when there is none or a line before it is not a
   * record. Reads from the start, only as far as needed.
   */
  static ObjectNode firstRecordAfterSeals(Path file) throws IOException {
    try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 64 * 1024)) {
      ByteArrayOutputStream line = new ByteArrayOutputStream(1024);
      int b;
      while ((b = in.read()) >= 0) {
        if (b != '\n') {
          line.write(b);
          continue;
        }
        ObjectNode record;
        try {
          record = AuditRecords.parse(line.toByteArray());
        } catch (IOException e) {
          return null;
        }
        if (!Seal.TYPE.equals(record.path("type").asText())) {
          return record;
        }
        line.reset();
      }
    }
    return null;
  }

  private static int readByte(FileChannel channel, long position) throws IOException {
    ByteBuffer one = ByteBuffer.allocate(1);
    if (channel.read(one, position) != 1) {
      throw new IOException("file shrank while reading");
    }
    return one.get(0);
  }

  /** Position of the last {@code \n} strictly before {@code before}, or -1. */
  private static long findNewlineBackwards(FileChannel channel, long before) throws IOException {
    ByteBuffer chunk = ByteBuffer.allocate(64 * 1024);
    long end = before;
    while (end > 0) {
      long start = Math.max(0, end - chunk.capacity());
      chunk.clear().limit((int) (end - start));
      while (chunk.hasRemaining()) {
        if (channel.read(chunk, start + chunk.position()) < 0) {
          throw new IOException("file shrank while reading");
        }
      }
      for (int i = (int) (end - start) - 1; i >= 0; i--) {
        if (chunk.get(i) == '\n') {
          return start + i;
        }
      }
      end = start;
    }
    return -1;
  }

  /** The last complete record of the newest well-named file that has one, or null for a new trail. */
  static ObjectNode lastRecord(Path dir) throws IOException {
    List<Path> files = list(dir);
    for (int i = files.size() - 1; i >= 0; i--) {
      Path candidate = files.get(i);
      if (!wellNamed(candidate)) {
        continue;
      }
      Tail tail = readTail(candidate);
      if (tail.torn()) {
        LOG.warn("audit file {} ends with a partial record (interrupted write); continuing the chain in a new file",
            candidate.getFileName());
      }
      if (tail.lastCompleteLine() == null) {
        continue;
      }
      ObjectNode record;
      try {
        record = AuditRecords.parse(tail.lastCompleteLine());
      } catch (IOException e) {
        throw new IOException("cannot resume the audit chain: the last record of " + candidate.getFileName()
            + " is not valid JSON (run `audit verify`)", e);
      }
      JsonNode seq = record.get("seq");
      JsonNode hash = record.get("hash");
      if (seq == null || !seq.canConvertToExactIntegral() || seq.asLong() < 1 || hash == null
          || !hash.isTextual() || hash.asText().length() != 64) {
        throw new IOException("cannot resume the audit chain: the last record of " + candidate.getFileName()
            + " has no valid seq and hash (run `audit verify`)");
      }
      return record;
    }
    return null;
  }

  static void createOwnerOnlyDirectory(Path dir) throws IOException {
    if (Files.isDirectory(dir)) {
      return;
    }
    if (posix(dir)) {
      Files.createDirectories(dir);
      Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
    } else {
      Files.createDirectories(dir);
    }
  }

  static FileChannel openOwnerOnly(Path file) throws IOException {
    Set<StandardOpenOption> options = Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    if (posix(file)) {
      return FileChannel.open(file, options, OWNER_ONLY);
    }
    return FileChannel.open(file, options);
  }

  static final FileAttribute<?> OWNER_ONLY =
      PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));

  static boolean posix(Path path) {
    return path.getFileSystem().supportedFileAttributeViews().contains("posix");
  }
}

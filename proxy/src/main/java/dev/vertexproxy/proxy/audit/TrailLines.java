package dev.vertexproxy.proxy.audit;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.zip.GZIPInputStream;

/**
 * The lines of one audit file for the verifier: each with its byte offset, a bound on its length (a line longer than
 * any record is reported, not held in memory), whether it lacked its {@code \n} (a torn tail), and the SHA-256 of a
 * file's remaining bytes (what a seal record names). {@code .jsonl.gz} files are read through gzip; offsets are then
 * offsets in the uncompressed bytes, the same as in the file before it was compressed. Single-threaded.
 */
final class TrailLines implements AutoCloseable {
  /** Far above any record (bodies are captured up to {@code audit.capture.bodies.max_bytes}). */
  static final int MAX_LINE_BYTES = 16 * 1024 * 1024;

  /**
   * One line.
   *
   * @param bytes  the line without {@code \n}; null if it was longer than {@link #MAX_LINE_BYTES}
   * @param offset where the line starts in the file
   * @param length its length without {@code \n}
   * @param torn   true if the file ended before a {@code \n}
   * @param sha256 hex SHA-256 of the line's bytes when torn (what a seal names), else null
   */
  record Line(byte[] bytes, long offset, long length, boolean torn, String sha256) {
  }

  /** The rest of a file from some offset: its length and hex SHA-256. */
  record Rest(long length, String sha256) {
  }

  private final InputStream in;
  private final byte[] buffer = new byte[64 * 1024];
  private int position;
  private int limit;
  private long offset;
  private final ByteArrayOutputStream line = new ByteArrayOutputStream(1024);

  TrailLines(Path file) throws IOException {
    InputStream raw = Files.newInputStream(file);
    try {
      this.in = TrailFiles.compressed(file) ? new GZIPInputStream(raw, 64 * 1024) : raw;
    } catch (IOException e) {
      raw.close();
      throw e;
    }
  }

  /** Offset of the next line's first byte. */
  long offset() {
    return offset;
  }

  /** The next line, or null at the end of the file. */
  Line next() throws IOException {
    line.reset();
    long start = offset;
    long length = 0;
    MessageDigest digest = null;
    while (true) {
      if (position == limit && !fill()) {
        if (length == 0) {
          return null;
        }
        byte[] bytes = digest == null ? line.toByteArray() : null;
        String sha = digest == null ? AuditRecords.sha256Hex(bytes) : HexFormat.of().formatHex(digest.digest());
        return new Line(bytes, start, length, true, sha);
      }
      int newline = indexOfNewline();
      int end = newline < 0 ? limit : newline;
      int chunk = end - position;
      if (digest == null && length + chunk > MAX_LINE_BYTES) {
        digest = sha256();
        digest.update(line.toByteArray());
        line.reset();
      }
      if (digest == null) {
        line.write(buffer, position, chunk);
      } else {
        digest.update(buffer, position, chunk);
      }
      length += chunk;
      offset += chunk;
      position = end;
      if (newline >= 0) {
        position++;
        offset++;
        return new Line(digest == null ? line.toByteArray() : null, start, length, false, null);
      }
    }
  }

  /** Consumes everything from the current offset to the end of the file. */
  Rest rest() throws IOException {
    MessageDigest digest = sha256();
    long length = 0;
    while (position < limit || fill()) {
      digest.update(buffer, position, limit - position);
      length += limit - position;
      offset += limit - position;
      position = limit;
    }
    return new Rest(length, HexFormat.of().formatHex(digest.digest()));
  }

  private int indexOfNewline() {
    for (int i = position; i < limit; i++) {
      if (buffer[i] == '\n') {
        return i;
      }
    }
    return -1;
  }

  private boolean fill() throws IOException {
    int n = in.read(buffer);
    while (n == 0) {
      n = in.read(buffer);
    }
    if (n < 0) {
      return false;
    }
    position = 0;
    limit = n;
    return true;
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every Java platform", e);
    }
  }

  @Override
  public void close() throws IOException {
    in.close();
  }
}

package dev.vertexproxy.proxy.audit;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.PriorityQueue;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.function.Predicate;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import java.util.zip.GZIPInputStream;

/**
 * Reads audit trails' records for search and review ({@code audit query}, {@code audit report}, policy replay):
 * one directory in chain order, or several (one per replica) merged by {@code time}. Reading is not verifying: lines
 * that are not JSON objects, and a partial last line (an interrupted write, not part of the chain), are skipped here
 * and reported by {@link AuditVerifier}.
 *
 * <p>Streaming: one line per directory in memory at a time, whatever the length of the trail; {@code .jsonl.gz} files
 * (compressed by a reviewer after rotation) are read as they are. A byte-level prefilter may reject a line before it
 * is parsed, which is where a selective query saves its time (parsing is most of the cost). Stateless and thread-safe;
 * each stream is single-threaded and must be closed.
 */
public final class AuditReader {
  private static final int CHUNK = 64 * 1024;

  private AuditReader() {
  }

  /**
   * One stored record: the line's bytes exactly as in the file (without its {@code \n}), its parsed form, and the
   * index of the directory it came from (in the order given to {@link #merged}).
   */
  public record Line(byte[] bytes, ObjectNode record, int dir) {
  }

  /**
   * Every parseable record of every audit file in {@code dir}, lazily, in chain order.
   *
   * @throws IOException if the directory cannot be listed; later read errors surface as {@link UncheckedIOException}
   */
  public static Stream<ObjectNode> records(Path dir) throws IOException {
    return lines(dir, 0, null).map(Line::record);
  }

  /**
   * The records of {@code dir} in chain order whose bytes pass {@code prefilter} (null: all), tagged with
   * {@code dirIndex}. Files are opened one at a time, as the stream reaches them.
   */
  public static Stream<Line> lines(Path dir, int dirIndex, Predicate<byte[]> prefilter) throws IOException {
    // Not Stream.flatMap: through iterator() it buffers a whole inner stream (a whole file) before the first element.
    FileRecords records = new FileRecords(AuditFiles.list(dir), dirIndex, prefilter);
    return StreamSupport.stream(Spliterators.spliteratorUnknownSize(records, Spliterator.ORDERED), false)
        .onClose(records::close);
  }

  /**
   * The records of several trails merged by {@code time}, oldest first; within one trail, chain order is kept even
   * where a clock stepped back (a record is never moved before one that precedes it in its own chain). Ties go to
   * the earlier directory. A record without a readable time sorts with the record before it in its chain.
   */
  public static Stream<Line> merged(List<Path> dirs, Predicate<byte[]> prefilter) throws IOException {
    if (dirs.size() == 1) {
      return lines(dirs.get(0), 0, prefilter);
    }
    List<Stream<Line>> streams = new ArrayList<>();
    try {
      for (int i = 0; i < dirs.size(); i++) {
        streams.add(lines(dirs.get(i), i, prefilter));
      }
    } catch (IOException | RuntimeException e) {
      streams.forEach(Stream::close);
      throw e;
    }
    Merge merge = new Merge(streams);
    return StreamSupport.stream(Spliterators.spliteratorUnknownSize(merge, Spliterator.ORDERED), false)
        .onClose(() -> streams.forEach(Stream::close));
  }

  /** Opens an audit file for reading, decompressing a {@code .jsonl.gz}. */
  public static InputStream open(Path file) throws IOException {
    InputStream in = Files.newInputStream(file);
    if (file.getFileName().toString().endsWith(".gz")) {
      try {
        return new GZIPInputStream(in, CHUNK);
      } catch (IOException e) {
        in.close();
        throw e;
      }
    }
    return in;
  }

  /** The records of a list of files, one file open at a time; a line in memory at a time. */
  private static final class FileRecords implements Iterator<Line> {
    private final Iterator<Path> files;
    private final int dirIndex;
    private final Predicate<byte[]> prefilter;
    private Path file;
    private LineSplitter lines;
    private Line next;

    FileRecords(List<Path> files, int dirIndex, Predicate<byte[]> prefilter) {
      this.files = files.iterator();
      this.dirIndex = dirIndex;
      this.prefilter = prefilter;
    }

    @Override
    public boolean hasNext() {
      try {
        while (next == null) {
          if (lines == null) {
            if (!files.hasNext()) {
              return false;
            }
            file = files.next();
            lines = new LineSplitter(open(file));
          }
          byte[] line = lines.next();
          if (line == null) {
            close();
            continue;
          }
          if (lines.torn() || (prefilter != null && !prefilter.test(line))) {
            continue;
          }
          try {
            next = new Line(line, AuditRecords.parse(line), dirIndex);
          } catch (IOException notARecord) {
            // skipped: verification, not search, is where damage is reported
          }
        }
        return true;
      } catch (IOException e) {
        close();
        throw new UncheckedIOException(file.getFileName() + ": " + e.getMessage(), e);
      }
    }

    @Override
    public Line next() {
      if (!hasNext()) {
        throw new NoSuchElementException();
      }
      Line current = next;
      next = null;
      return current;
    }

    void close() {
      if (lines != null) {
        try {
          lines.close();
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        } finally {
          lines = null;
        }
      }
    }
  }

  /** A k-way merge of per-trail streams on each head's time; memory is one record per trail. */
  private static final class Merge implements Iterator<Line> {
    private record Head(Line line, Instant time, Iterator<Line> rest) {
    }

    private final PriorityQueue<Head> heads = new PriorityQueue<>((a, b) -> {
      int byTime = a.time().compareTo(b.time());
      return byTime != 0 ? byTime : Integer.compare(a.line().dir(), b.line().dir());
    });

    Merge(List<Stream<Line>> streams) {
      for (Stream<Line> stream : streams) {
        advance(stream.iterator(), Instant.MIN);
      }
    }

    private void advance(Iterator<Line> rest, Instant previous) {
      if (rest.hasNext()) {
        Line line = rest.next();
        Instant time = timeOf(line.record());
        // never before the record that precedes it in its own chain: a chain's order is kept
        heads.add(new Head(line, time == null || time.isBefore(previous) ? previous : time, rest));
      }
    }

    @Override
    public boolean hasNext() {
      return !heads.isEmpty();
    }

    @Override
    public Line next() {
      Head head = heads.poll();
      if (head == null) {
        throw new NoSuchElementException();
      }
      advance(head.rest(), head.time());
      return head.line();
    }
  }

  /** The record's {@code time}, or null if it has none that parses. */
  public static Instant timeOf(ObjectNode record) {
    String text = record.path("time").asText(null);
    if (text == null) {
      return null;
    }
    try {
      return Instant.parse(text);
    } catch (DateTimeParseException e) {
      return null;
    }
  }

  /**
   * Splits a stream on {@code \n} in 64 KiB chunks (no per-byte call), remembering whether the last line lacked one.
   */
  static final class LineSplitter implements AutoCloseable {
    private final InputStream in;
    private byte[] buffer = new byte[CHUNK];
    private int start;
    private int end;
    private boolean eof;
    private boolean torn;

    LineSplitter(InputStream in) {
      this.in = in;
    }

    /** The next line without its {@code \n}, or null at the end. */
    byte[] next() throws IOException {
      int scanFrom = start;
      while (true) {
        for (int i = scanFrom; i < end; i++) {
          if (buffer[i] == '\n') {
            byte[] line = Arrays.copyOfRange(buffer, start, i);
            start = i + 1;
            return line;
          }
        }
        if (eof) {
          if (start == end) {
            return null;
          }
          byte[] line = Arrays.copyOfRange(buffer, start, end);
          start = end;
          torn = true;
          return line;
        }
        scanFrom = end - start;
        fill();
      }
    }

    /** Moves the unread bytes to the front (growing the buffer for a long line) and reads more. */
    private void fill() throws IOException {
      int unread = end - start;
      if (unread == buffer.length) {
        buffer = Arrays.copyOf(buffer, buffer.length * 2);
      } else if (start > 0) {
        System.arraycopy(buffer, start, buffer, 0, unread);
      }
      start = 0;
      end = unread;
      int n = in.read(buffer, end, buffer.length - end);
      if (n < 0) {
        eof = true;
      } else {
        end += n;
      }
    }

    /** True if the line {@link #next()} just returned ended the stream without a newline. */
    boolean torn() {
      return torn;
    }

    @Override
    public void close() throws IOException {
      in.close();
    }
  }
}

package dev.vertexproxy.proxy.audit;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * Reads an audit trail's records in chain order, for search and review ({@code audit query}, {@code audit report},
 * policy replay). Reading is not verifying: lines that are not JSON objects are skipped here and reported by
 * {@link AuditVerifier}. Stateless and thread-safe; each stream is single-threaded and must be closed.
 */
public final class AuditReader {
  private AuditReader() {
  }

  /**
   * Every parseable record of every {@code audit-*.jsonl} file in {@code dir}, lazily, one line in memory at a time.
   *
   * @throws IOException if the directory cannot be listed; later read errors surface as {@link UncheckedIOException}
   */
  public static Stream<ObjectNode> records(Path dir) throws IOException {
    return AuditFiles.list(dir).stream().flatMap(AuditReader::recordsOf);
  }

  private static Stream<ObjectNode> recordsOf(Path file) {
    AuditVerifier.LineReader lines;
    try {
      lines = new AuditVerifier.LineReader(Files.newInputStream(file));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Iterator<ObjectNode> iterator = new Iterator<>() {
      private ObjectNode next;

      @Override
      public boolean hasNext() {
        try {
          byte[] line;
          while (next == null && (line = lines.next()) != null) {
            try {
              next = AuditRecords.parse(line);
            } catch (IOException notARecord) {
              // skipped: verification, not search, is where damage is reported
            }
          }
          return next != null;
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }

      @Override
      public ObjectNode next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        ObjectNode current = next;
        next = null;
        return current;
      }
    };
    return StreamSupport.stream(Spliterators.spliteratorUnknownSize(iterator, Spliterator.ORDERED), false)
        .onClose(() -> {
          try {
            lines.close();
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        });
  }
}

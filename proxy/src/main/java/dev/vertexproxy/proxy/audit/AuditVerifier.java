package dev.vertexproxy.proxy.audit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Checks an audit directory's hash chain end to end: every {@code audit-*.jsonl} file in chain order (by the first
 * seq in the name), every line a JSON object whose hash recomputes, seqs consecutive from 1, each {@code prev_hash}
 * equal to the previous record's {@code hash}. Stops at the first problem and says where it is and what it means.
 *
 * <p>Streams line by line: memory stays constant however long the trail. What a chain alone cannot show is a cut at
 * the end (the newest records or files deleted); compare {@link VerifyResult#lastSeq()}/{@link
 * VerifyResult#lastHash()} with a value recorded elsewhere for that. Stateless and thread-safe.
 */
public final class AuditVerifier {

  /**
   * The outcome of a verification.
   *
   * @param ok           true if every record verified
   * @param records      records that verified (all of them when {@code ok}; those before the problem otherwise)
   * @param firstProblem null when ok; else {@code <file>:<line> (seq N): <what> — <what it means>}
   * @param lastSeq      seq of the last record that verified (0 if none)
   * @param lastHash     hash of the last record that verified (64 zeros if none)
   */
  public record VerifyResult(
      boolean ok, long records, String firstProblem, long lastSeq, String lastHash, List<String> warnings) {
    public VerifyResult {
      warnings = List.copyOf(warnings);
    }
  }

  private AuditVerifier() {
  }

  /** Verifies the trail in {@code dir}; an unreadable or missing directory is a problem, not an exception. */
  public static VerifyResult verify(Path dir) {
    Chain chain = new Chain();
    List<Path> files;
    try {
      files = AuditFiles.list(dir);
    } catch (NoSuchFileException e) {
      return chain.problem(dir + ": no such directory");
    } catch (IOException e) {
      return chain.problem(dir + ": cannot list the directory: " + e);
    }
    for (Path file : files) {
      String name = file.getFileName().toString();
      if (!AuditFiles.wellNamed(file)) {
        return chain.problem(name + ": not an audit file name (expected audit-<yyyyMMdd'T'HHmmss'Z'>-<seq>.jsonl)"
            + " — a file was added or renamed");
      }
      try (LineReader lines = new LineReader(Files.newInputStream(file))) {
        long lineNumber = 0;
        byte[] line;
        while ((line = lines.next()) != null) {
          lineNumber++;
          if (lines.lastLineTorn()) {
            // An interrupted write leaves a line without its newline; the writer never appends to such a file and
            // continues the chain from the last complete record in a new one. If that is not what follows, the next
            // record's seq/prev_hash check says so; so verification carries on instead of stopping here.
            chain.warnings.add(name + ":" + lineNumber + ": incomplete last line (no newline at the end) — a write"
                + " was interrupted (crash, full disk) or the file was truncated; it is not part of the chain");
            continue;
          }
          String problem = chain.accept(line);
          if (problem != null) {
            return chain.problem(name + ":" + lineNumber + problem);
          }
        }
      } catch (IOException e) {
        return chain.problem(name + ": cannot read: " + e);
      }
    }
    return new VerifyResult(true, chain.records, null, chain.lastSeq, chain.lastHash, chain.warnings);
  }

  /** The running state of the chain check. */
  private static final class Chain {
    long records;
    long lastSeq;
    String lastHash = AuditRecords.GENESIS_HASH;
    final List<String> warnings = new ArrayList<>();

    VerifyResult problem(String description) {
      return new VerifyResult(false, records, description, lastSeq, lastHash, warnings);
    }

    /** Checks one line; returns null if it extends the chain, else the problem after {@code file:line}. */
    String accept(byte[] line) {
      ObjectNode record;
      try {
        record = AuditRecords.parse(line);
      } catch (IOException e) {
        return ": not valid JSON — the record was changed or truncated";
      }
      JsonNode seqNode = record.get("seq");
      String at = seqNode != null && seqNode.canConvertToExactIntegral() ? " (seq " + seqNode.asText() + ")" : "";
      JsonNode hashNode = record.remove("hash");
      if (hashNode == null || !hashNode.isTextual()) {
        return at + ": no hash — the record was changed";
      }
      if (!AuditRecords.hash(record).equals(hashNode.asText())) {
        return at + ": hash mismatch — the record was changed";
      }
      if (at.isEmpty()) {
        return ": no valid seq — the record was changed";
      }
      long seq = seqNode.asLong();
      long expected = lastSeq + 1;
      if (seq > expected) {
        String missing = seq == expected + 1 ? "record " + expected + " was" : "records " + expected + ".." + (seq - 1)
            + " were";
        return at + ": seq " + seq + " follows " + lastSeq + " — " + missing + " removed (or moved)";
      }
      if (seq < expected) {
        return at + ": seq " + seq + " follows " + lastSeq + " — records were reordered or duplicated";
      }
      JsonNode prevHash = record.get("prev_hash");
      if (prevHash == null || !prevHash.asText().equals(lastHash)) {
        return at + ": prev_hash does not match "
            + (lastSeq == 0 ? "the start of the trail (64 zeros)" : "record " + lastSeq)
            + " — records were reordered or removed";
      }
      records++;
      lastSeq = seq;
      lastHash = hashNode.asText();
      return null;
    }
  }

  /** Splits a stream on {@code \n}, remembering whether the last line lacked one. */
  static final class LineReader implements AutoCloseable {
    private final InputStream in;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream(1024);
    private boolean torn;

    LineReader(InputStream in) {
      this.in = new BufferedInputStream(in, 64 * 1024);
    }

    /** The next line without its {@code \n}, or null at the end. */
    byte[] next() throws IOException {
      line.reset();
      int b;
      while ((b = in.read()) != -1) {
        if (b == '\n') {
          return line.toByteArray();
        }
        line.write(b);
      }
      if (line.size() == 0) {
        return null;
      }
      torn = true;
      return line.toByteArray();
    }

    /** True if the line {@link #next()} just returned ended the file without a newline. */
    boolean lastLineTorn() {
      return torn;
    }

    @Override
    public void close() throws IOException {
      in.close();
    }
  }
}

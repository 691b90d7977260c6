package dev.vertexproxy.proxy.audit;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.List;

/**
 * Checks audit directories: the hash chain end to end, and with keys and external checkpoints also that nobody rewrote
 * it and that its end was not cut. One directory holds one chain (one replica); {@link #verify(Path, VerifyOptions)}
 * reports on it: every file in chain order (by the first seq in the name; {@code .jsonl.gz} read through gzip), every
 * line a JSON object whose hash recomputes, seqs consecutive, each {@code prev_hash} the previous record's {@code hash},
 * every record of the directory's chain, every checkpoint signing the record before it (with a given key, when keys
 * are given), every torn line sealed by the file after it, and the tail closed by a shutdown checkpoint or not cut.
 *
 * <p>It does not stop at the first problem: each is named where it is ({@code file:line (seq N): what — what it means})
 * and the chain resynchronizes on the next record, so a reviewer sees every edit at once. Streams line by line: memory
 * stays constant however long the trail. The rules, and what each message means, are in docs/audit.md. Stateless and
 * thread-safe.
 */
public final class AuditVerifier {

  /**
   * The outcome of a verification of the chain alone (callers that need only ok/broken and where).
   *
   * @param ok           true if every record verified
   * @param records      records that verified (all of them when {@code ok}; those before the first problem otherwise)
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

  /**
   * Verifies the chain in {@code dir} without keys or external checkpoints; an unreadable or missing directory is a
   * problem, not an exception.
   */
  public static VerifyResult verify(Path dir) {
    ChainReport report = verify(dir, VerifyOptions.CHAIN_ONLY);
    if (report.ok()) {
      return new VerifyResult(true, report.records(), null, report.lastSeq(), report.lastHash(), report.warnings());
    }
    ChainReport.Verified before = report.beforeFirstProblem();
    return new VerifyResult(false, before.records(), report.firstProblem(), before.lastSeq(), before.lastHash(),
        report.warnings());
  }

  /** Verifies the chain in {@code dir} as {@code options} ask; problems are in the report, never thrown. */
  public static ChainReport verify(Path dir, VerifyOptions options) {
    return new ChainVerifier(dir, options).run();
  }

  /** Splits a stream on {@code \n}, remembering whether the last line lacked one ({@link AuditReader}'s reader). */
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

package dev.vertexproxy.proxy.audit;

import dev.vertexproxy.proxy.audit.ChainReport.Tail;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;

/**
 * How a trail ends, the one thing a hash chain cannot show by itself. The rules (docs/audit.md, "audit verify"):
 * <ul>
 *   <li>{@link Tail#CLOSED}: the last record is a {@code shutdown} checkpoint;
 *   <li>{@link Tail#CUT}: an external checkpoint names a seq beyond the trail's end ("truncated tail: records X..Y
 *       missing"); or the trail does not end with a shutdown checkpoint and its last record is more than the allowed
 *       gap (twice the last checkpoint's {@code interval_s}, or {@link VerifyOptions#maxCheckpointGap()}) after the
 *       last checkpoint — a running writer would have signed since ("checkpoints stopped at seq N");
 *   <li>{@link Tail#OPEN}: otherwise with checkpoints — a running proxy, or one that crashed: the records after the
 *       last checkpoint are reported as not signed yet (a warning);
 *   <li>{@link Tail#UNSIGNED}: no checkpoint at all.
 * </ul>
 * A cut made within the allowed gap of the last checkpoint is indistinguishable from a crash at that point; only an
 * external checkpoints file catches it. Single-threaded.
 */
final class TailCheck {
  private final Findings findings;
  private final ChainLinks links;
  private final VerifyOptions options;
  private long checkpoints;
  private long verified;
  private long lastCheckpointSeq;
  private String lastCheckpointTime;
  private long intervalS = CheckpointCheck.DEFAULT_INTERVAL_S;
  private boolean lastIsShutdown;
  private long unsigned;
  private String lastTime;
  private Tail state = Tail.UNSIGNED;

  TailCheck(Findings findings, ChainLinks links, VerifyOptions options) {
    this.findings = findings;
    this.links = links;
    this.options = options;
  }

  void checkpoint(long seq, String time, CheckpointCheck.Signed signed, boolean signatureVerified) {
    checkpoints++;
    if (signatureVerified) {
      verified++;
    }
    lastCheckpointSeq = seq;
    lastCheckpointTime = time;
    lastTime = time;
    unsigned = 0;
    intervalS = signed == null ? CheckpointCheck.DEFAULT_INTERVAL_S : signed.intervalS();
    lastIsShutdown = signed != null && "shutdown".equals(signed.reason());
  }

  void record(String time) {
    unsigned++;
    lastTime = time;
    lastIsShutdown = false;
  }

  void finish(ExternalCheckpoints external, Path dir) {
    ExternalCheckpoints.Anchor newest = external.newest();
    if (newest != null && newest.seq() > links.lastSeq()) {
      state = Tail.CUT;
      long from = links.lastSeq() + 1;
      String range = from == newest.seq() ? "record " + from : "records " + from + ".." + newest.seq();
      findings.problem(dir + ": truncated tail: " + range + " missing (since " + (lastTime == null ? "the start"
          : lastTime) + ") — the external checkpoint " + newest.where() + " (" + newest.time() + ") signed seq "
          + newest.seq() + ", the trail ends at seq " + links.lastSeq(), links.verified());
      return;
    }
    if (checkpoints == 0) {
      state = Tail.UNSIGNED;
      return;
    }
    if (lastIsShutdown) {
      state = Tail.CLOSED;
      return;
    }
    Duration allowed = options.maxCheckpointGap() != null ? options.maxCheckpointGap()
        : Duration.ofSeconds(2 * intervalS);
    Duration gap = between(lastCheckpointTime, lastTime);
    if (gap != null && gap.compareTo(allowed) > 0) {
      state = Tail.CUT;
      findings.problem(dir + ": checkpoints stopped at seq " + lastCheckpointSeq + " (" + lastCheckpointTime + ") — the"
          + " tail may have been cut: " + unsigned + " records follow it over " + gap + " (more than " + allowed
          + ") and the trail does not end with a shutdown checkpoint", links.verified());
      return;
    }
    state = Tail.OPEN;
    if (unsigned > 0) {
      findings.warning(unsigned + " records after the last checkpoint (seq " + lastCheckpointSeq + ", "
          + lastCheckpointTime + ") are not signed yet — the proxy is running, or stopped without a shutdown"
          + " checkpoint (crash); a cut there would not show without --checkpoints");
    } else {
      findings.warning("the trail ends at a checkpoint that is not a shutdown one (seq " + lastCheckpointSeq + ", "
          + lastCheckpointTime + ") — the proxy is running, or stopped without a shutdown checkpoint (crash)");
    }
  }

  private static Duration between(String from, String to) {
    if (from == null || to == null) {
      return null;
    }
    try {
      return Duration.between(Instant.parse(from), Instant.parse(to));
    } catch (DateTimeParseException e) {
      return null;
    }
  }

  long checkpoints() {
    return checkpoints;
  }

  long verified() {
    return verified;
  }

  long lastCheckpointSeq() {
    return lastCheckpointSeq;
  }

  String lastCheckpointTime() {
    return lastCheckpointTime;
  }

  long unsigned() {
    return checkpoints == 0 ? links.records() : unsigned;
  }

  Tail state() {
    return state;
  }
}

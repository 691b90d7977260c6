package dev.vertexproxy.proxy.audit;

import java.nio.file.Path;
import java.util.List;

/**
 * What {@link AuditVerifier#verify(Path, VerifyOptions)} found in one audit directory (one chain).
 *
 * @param dir                 the directory
 * @param chainId             the chain's id ({@code chain-id} file, else the records' {@code chain_id}); "" for a legacy
 *                            trail whose records carry none
 * @param ok                  true if there is no problem (warnings do not count)
 * @param files               audit files read
 * @param records             complete records of this chain read (each counted once, damaged or not)
 * @param firstSeq            seq of the first record (0 if none): above 1 only after retention
 * @param lastSeq             seq of the last record (0 if none)
 * @param lastHash            hash of the last record (64 zeros if none)
 * @param checkpoints         checkpoint records seen
 * @param checkpointsVerified checkpoints whose signature verified with one of the given keys
 * @param lastCheckpointSeq   seq of the last checkpoint record (0 if none)
 * @param lastCheckpointTime  its {@code time} (null if none)
 * @param unsignedRecords     records after the last checkpoint (all of them when there is none)
 * @param tail                how the trail ends
 * @param sealed              torn lines that a later seal record accounts for
 * @param problems            what is wrong, in trail order, each {@code file:line (seq N): what — what it means}
 * @param warnings            what a reviewer should know but does not break the chain
 * @param notes               facts worth printing (retention start, sealed lines, unverified checkpoints)
 * @param beforeFirstProblem  the chain as far as it verified before the first problem; null when ok
 */
public record ChainReport(Path dir, String chainId, boolean ok, int files, long records, long firstSeq, long lastSeq,
    String lastHash, long checkpoints, long checkpointsVerified, long lastCheckpointSeq, String lastCheckpointTime,
    long unsignedRecords, Tail tail, long sealed, List<String> problems, List<String> warnings, List<String> notes,
    Verified beforeFirstProblem) {

  /** How the trail ends. */
  public enum Tail {
    /** The last record is a {@code shutdown} checkpoint: nothing after it can have been cut unnoticed. */
    CLOSED,
    /** Records follow the last checkpoint, within the allowed gap: a running (or crashed) proxy's trail. */
    OPEN,
    /** Checkpoints stopped too long before the last record, or an external checkpoint lies beyond the end. */
    CUT,
    /** No checkpoint at all (checkpoints not configured, or a legacy trail): the end cannot be checked. */
    UNSIGNED
  }

  /** The chain up to (not including) the first problem: how many records verified and the last good seq and hash. */
  public record Verified(long records, long lastSeq, String lastHash) {
  }

  public ChainReport {
    problems = List.copyOf(problems);
    warnings = List.copyOf(warnings);
    notes = List.copyOf(notes);
  }

  /** The first problem, or null when ok. */
  public String firstProblem() {
    return problems.isEmpty() ? null : problems.get(0);
  }
}

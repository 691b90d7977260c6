package dev.vertexproxy.proxy.audit;

import java.nio.file.Path;
import java.security.PublicKey;
import java.time.Duration;
import java.util.List;

/**
 * What {@link AuditVerifier#verify(Path, VerifyOptions)} checks beyond the hash chain.
 *
 * @param keys                the Ed25519 public keys a checkpoint may be signed with; empty: signatures are not checked
 *                            (and a trail without checkpoints passes). Given: every checkpoint must verify with one of
 *                            them and the trail must hold at least one
 * @param externalCheckpoints files of checkpoint lines kept where the proxy's host cannot write
 *                            ({@code audit.checkpoint.external.file}); a checkpoint there beyond the trail's end means
 *                            its tail was cut
 * @param maxCheckpointGap    how far the last record may lie after the last checkpoint in a trail that did not end with
 *                            a shutdown checkpoint; null: twice that checkpoint's {@code interval_s}
 */
public record VerifyOptions(List<PublicKey> keys, List<Path> externalCheckpoints, Duration maxCheckpointGap) {
  /** The hash chain only: no keys, no external checkpoints. */
  public static final VerifyOptions CHAIN_ONLY = new VerifyOptions(List.of(), List.of(), null);

  public VerifyOptions {
    keys = List.copyOf(keys);
    externalCheckpoints = List.copyOf(externalCheckpoints);
    if (maxCheckpointGap != null && (maxCheckpointGap.isNegative() || maxCheckpointGap.isZero())) {
      throw new IllegalArgumentException("maxCheckpointGap: " + maxCheckpointGap + " (expected: > 0)");
    }
  }
}

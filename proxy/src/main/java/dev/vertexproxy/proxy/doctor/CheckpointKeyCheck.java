package dev.vertexproxy.proxy.doctor;

import dev.vertexproxy.proxy.audit.Checkpoints;
import dev.vertexproxy.proxy.config.AuditConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * {@code audit.checkpoint}: the signing key loads as Ed25519 and only its owner can read it, and the external anchor
 * file's directory is writable. Without checkpoints the trail still chains, but a rewrite of the whole chain or a cut
 * tail cannot be told from the real thing: a warning, with how to switch them on. Never prints key material, only the
 * key id a reviewer matches against the public key they hold.
 */
final class CheckpointKeyCheck implements Check {
  static final String CHECK = "audit checkpoints";

  private final AuditConfig audit;

  CheckpointKeyCheck(AuditConfig audit) {
    this.audit = audit;
  }

  @Override
  public List<CheckResult> run() {
    AuditConfig.Checkpoint checkpoint = audit.checkpoint();
    if (checkpoint == null) {
      return List.of(CheckResult.warn(CHECK, "audit.checkpoint", "not configured: the chain shows an edited or removed"
              + " record, but not a rewritten chain or a cut tail",
          "vertex-proxy audit keygen --out checkpoint-ed25519.pem, then audit.checkpoint: { key_file:"
              + " checkpoint-ed25519.pem } and give reviewers checkpoint-ed25519.pem.pub"));
    }
    List<CheckResult> rows = new ArrayList<>();
    Path keyFile = checkpoint.keyFile();
    String fix = "vertex-proxy audit keygen --out " + keyFile + " (or openssl genpkey -algorithm ed25519 -out " + keyFile
        + ")";
    try {
      Checkpoints.SigningKey key = Checkpoints.readPrivate(keyFile);
      rows.add(CheckResult.pass(CHECK, keyFile.toString(), "Ed25519 key " + key.keyId() + ", a checkpoint every "
          + checkpoint.interval().toSeconds() + "s; reviewers verify with its public key (audit verify --key)"));
      Set<PosixFilePermission> mode = posixMode(keyFile);
      if (mode != null && (mode.contains(PosixFilePermission.GROUP_READ) || mode.contains(PosixFilePermission.OTHERS_READ))) {
        rows.add(CheckResult.warn(CHECK, keyFile.toString(), "readable by other users: whoever reads it can sign a"
            + " rewritten chain", "chmod 600 " + keyFile));
      }
    } catch (IOException e) {
      rows.add(CheckResult.fail(CHECK, keyFile.toString(), e.getMessage(), fix));
    }
    Path external = checkpoint.externalFile();
    if (external != null) {
      Path parent = external.toAbsolutePath().getParent();
      if (parent == null || !Files.isDirectory(parent) || !Files.isWritable(parent)) {
        rows.add(CheckResult.fail(CHECK, external.toString(), "the external anchor's directory " + parent
            + " is missing or not writable", "mount the anchor (a bucket with a retention lock) at " + parent));
      } else {
        rows.add(CheckResult.pass(CHECK, external.toString(), "external anchor directory is writable"));
      }
    }
    return rows;
  }

  private static Set<PosixFilePermission> posixMode(Path file) {
    try {
      return Files.getPosixFilePermissions(file);
    } catch (IOException | UnsupportedOperationException e) {
      return null;
    }
  }
}

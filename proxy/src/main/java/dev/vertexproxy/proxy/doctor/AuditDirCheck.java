package dev.vertexproxy.proxy.doctor;

import dev.vertexproxy.proxy.lock.DirectoryInUseException;
import dev.vertexproxy.proxy.lock.DirectoryLock;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code audit.dir}: exists (or can be created where it is to be), is writable (a probe file is created and deleted),
 * and can be locked the way {@code AuditLog} locks it. Held by a running proxy is a warning: that is fine when it is
 * this replica. Nothing is created when the directory does not exist yet: {@code serve} creates it (0700).
 */
final class AuditDirCheck implements Check {
  static final String CHECK = "audit dir";

  private final Path dir;

  AuditDirCheck(Path dir) {
    this.dir = dir;
  }

  @Override
  public List<CheckResult> run() {
    return List.of(check());
  }

  private CheckResult check() {
    String target = dir.toString();
    String ownFix = "give the user the proxy runs as its own writable audit.dir: mkdir -p " + dir + " && chown USER "
        + dir + " && chmod 700 " + dir;
    if (!Files.exists(dir)) {
      Path existing = dir.toAbsolutePath().getParent();
      while (existing != null && !Files.exists(existing)) {
        existing = existing.getParent();
      }
      if (existing == null || !Files.isDirectory(existing)) {
        return CheckResult.fail(CHECK, target, "cannot be created: " + existing + " is not a directory", ownFix);
      }
      if (!Files.isWritable(existing)) {
        return CheckResult.fail(CHECK, target, "cannot be created: " + existing + " is not writable", ownFix);
      }
      return CheckResult.pass(CHECK, target, "does not exist yet; serve creates it (" + existing + " is writable)");
    }
    if (!Files.isDirectory(dir)) {
      return CheckResult.fail(CHECK, target, "exists but is not a directory", ownFix);
    }
    try {
      Path probe = Files.createTempFile(dir, ".vertex-proxy-doctor-", ".probe");
      Files.delete(probe);
    } catch (IOException | SecurityException e) {
      return CheckResult.fail(CHECK, target, "not writable: " + e.getMessage(), ownFix);
    }
    try (DirectoryLock lock = DirectoryLock.acquire(dir, "audit directory", "")) {
      return CheckResult.pass(CHECK, target, "writable and lockable (" + lock.file().getFileName() + ")");
    } catch (DirectoryInUseException e) {
      return CheckResult.warn(CHECK, target, "held by a running proxy (fine if that is this replica): "
          + e.getMessage().strip(), "if no proxy should run here, stop the holder or give this one its own audit.dir");
    } catch (IOException e) {
      return CheckResult.fail(CHECK, target, "cannot be locked: " + e.getMessage(),
          "audit.dir must be on a filesystem with working file locks (not every network filesystem has them)");
    }
  }
}

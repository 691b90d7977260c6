package dev.vertexproxy.proxy.lock;

import java.nio.file.Path;

/**
 * Run in a second JVM by the tests: tries to take the lock on {@code args[0]}; exits 0 when it got it (and releases it
 * by exiting), 3 with the refusal on stderr when the directory is held.
 */
public final class LockProbe {
  private LockProbe() {
  }

  public static void main(String[] args) throws Exception {
    try (DirectoryLock lock = DirectoryLock.acquire(Path.of(args[0]), "test directory", "Probe advice.")) {
      System.out.println("acquired " + lock.file());
    } catch (DirectoryInUseException e) {
      System.err.println(e.getMessage());
      System.exit(3);
    }
  }
}

package dev.vertexproxy.proxy.lock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.vertexproxy.proxy.testing.JavaProcess;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The directory lock against a real second JVM ({@link LockProbe}) and against a second owner in this JVM. A refusal
 * inside one JVM must not open the lock file: POSIX drops a process's lock when any descriptor of the file closes, so
 * each in-JVM refusal below is followed by a second process that must still be refused.
 */
class DirectoryLockTest {
  private static final Duration CHILD_TIMEOUT = Duration.ofSeconds(60);
  private static final String PID = Long.toString(ProcessHandle.current().pid());

  @TempDir
  Path tmp;

  private Path dir() throws Exception {
    return Files.createDirectories(tmp.resolve("held"));
  }

  private JavaProcess.Result probe(Path dir) throws Exception {
    JavaProcess.Result result = JavaProcess.run(tmp.resolve("probe"), CHILD_TIMEOUT, LockProbe.class, dir.toString());
    assertThat(result.timedOut()).as(result.toString()).isFalse();
    return result;
  }

  @Test
  void theHolderWritesWhoItIsAndAnotherProcessIsRefusedWithThatUntilItReleases() throws Exception {
    Path dir = dir();
    JavaProcess.Result refused;
    try (DirectoryLock lock = DirectoryLock.acquire(dir, "test directory", "Advice.")) {
      assertThat(lock.file()).isEqualTo(dir.toRealPath().resolve(DirectoryLock.FILE_NAME));
      refused = probe(dir);
      assertThat(refused.exit()).as(refused.toString()).isEqualTo(3);
      assertThat(refused.stderr())
          .startsWith("test directory " + dir.toRealPath() + " is in use by pid " + PID + " on host ")
          .contains(", started " + ProcessHandle.current().info().startInstant().orElseThrow().toString().substring(0, 16))
          .contains("lock file " + lock.file() + ". Probe advice.");
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(lock.file()))).isEqualTo("rw-------");
    }
    JavaProcess.Result after = probe(dir);
    assertThat(after.exit()).as(after.toString()).isZero();
    assertThat(Files.readString(dir.resolve(DirectoryLock.FILE_NAME)))
        .as("the file stays, now naming the last holder").startsWith("pid=" + after.pid() + "\n").contains("\nhost=")
        .contains("\nstarted=");
  }

  @Test
  @SuppressWarnings("try") // `first` is held for its lock alone: the body checks what others see meanwhile
  void aSecondOwnerInThisJvmIsRefusedWithoutReleasingTheFirstOnesLock() throws Exception {
    Path dir = dir();
    try (DirectoryLock first = DirectoryLock.acquire(dir, "test directory", "Advice.")) {
      assertThatThrownBy(() -> DirectoryLock.acquire(dir, "test directory", "Advice."))
          .isInstanceOfSatisfying(DirectoryInUseException.class, e -> {
            assertThat(e.holder().pid()).isEqualTo(PID);
            assertThat(e.getMessage()).contains("in use by pid " + PID).contains("(this process)");
          });
      // the same directory under another spelling is the same directory
      assertThatThrownBy(() -> DirectoryLock.acquire(dir.resolve("..").resolve("held"), "test directory", "Advice."))
          .isInstanceOf(DirectoryInUseException.class);
      JavaProcess.Result other = probe(dir);
      assertThat(other.exit()).as("the OS lock survived the in-JVM refusals: " + other).isEqualTo(3);
    }
    DirectoryLock.acquire(dir, "test directory", "Advice.").close(); // released: free to take again
  }

  @Test
  void anOsLockHeldElsewhereInThisJvmIsARefusalToo() throws Exception {
    Path dir = dir();
    Path file = dir.resolve(DirectoryLock.FILE_NAME);
    Files.writeString(file, "pid=4242\nhost=elsewhere\nstarted=2026-05-01T12:00:00Z\n");
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE);
        FileLock foreign = channel.lock()) {
      assertThatThrownBy(() -> DirectoryLock.acquire(dir, "test directory", "Advice."))
          .isInstanceOf(DirectoryInUseException.class)
          .hasMessageContaining("in use by pid 4242 on host elsewhere, started 2026-05-01T12:00:00Z (this process)");
      assertThat(foreign.isValid()).isTrue();
      JavaProcess.Result other = probe(dir);
      assertThat(other.exit()).as("the foreign lock survived: " + other).isEqualTo(3);
      assertThat(other.stderr()).contains("pid 4242");
    }
  }

  @Test
  void aLockFileLeftByADeadProcessIsTakenOver() throws Exception {
    Path dir = dir();
    Path file = dir.resolve(DirectoryLock.FILE_NAME);
    Files.writeString(file, "pid=999999999\nhost=gone\nstarted=2020-01-01T00:00:00Z\nand a much longer tail than ours\n");
    try (DirectoryLock lock = DirectoryLock.acquire(dir, "test directory", "Advice.")) {
      assertThat(lock.directory()).isEqualTo(dir.toRealPath());
    }
    String now = Files.readString(file);
    assertThat(now).startsWith("pid=" + PID + "\n").doesNotContain("gone").doesNotContain("tail");
    assertThat(Instant.parse(now.substring(now.indexOf("started=") + 8).trim())).isBeforeOrEqualTo(Instant.now());
  }

  @Test
  void aRefusalNeverEchoesControlCharactersFromTheLockFile() throws Exception {
    Path dir = dir();
    Path file = dir.resolve(DirectoryLock.FILE_NAME);
    Files.writeString(file, "pid=1\u001b[2J\nhost=x\u0007y\nstarted=z\n");
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE);
        FileLock foreign = channel.lock()) {
      assertThatThrownBy(() -> DirectoryLock.acquire(dir, "test directory", "Advice."))
          .isInstanceOfSatisfying(DirectoryInUseException.class, e -> assertThat(e.getMessage())
              .contains("pid 1?[2J on host x?y").doesNotContain("\u001b").doesNotContain("\u0007"));
      assertThat(foreign.isValid()).as("the refusal leaves the foreign holder's lock alone").isTrue();
    }
  }

  @Test
  void aMissingDirectoryIsAnErrorNotALock() {
    assertThatThrownBy(() -> DirectoryLock.acquire(tmp.resolve("absent"), "test directory", "Advice."))
        .isInstanceOf(NoSuchFileException.class);
  }
}

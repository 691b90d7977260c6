package dev.vertexproxy.proxy.crash;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The proxy, a real second JVM, is killed with SIGKILL under load and restarted on the same audit directory, again and
 * again. Whatever a client saw answered must be on disk, the chain must verify, and a torn last line must be a warning
 * or sealed, never a failure. {@code -Dcrash.kills=N} (default 3 per mode) and {@code -Dcrash.seed=S} replay a run;
 * {@code scripts/crash-test} runs it with 20 kills per mode and prints the figures, also written to
 * {@code target/crash-test/}.
 */
class CrashTest {
  private static final int KILLS = Integer.getInteger("crash.kills", 3);
  private static final int CLIENTS = Integer.getInteger("crash.clients", 8);

  @TempDir
  static Path work;
  static CrashHarness harness;

  @BeforeAll
  static void start() throws Exception {
    harness = CrashHarness.start(work);
  }

  @AfterAll
  static void stop() {
    if (harness != null) {
      harness.close();
    }
  }

  @Test
  void groupCommitLosesNoAnsweredRecordAcrossKills() throws Exception {
    CrashHarness.Run run = runAndReport("group_commit");
    assertHolds(run);
  }

  @Test
  void syncLosesNoAnsweredRecordAndForwardsNothingUndecidedAcrossKills() throws Exception {
    CrashHarness.Run run = runAndReport("sync");
    assertHolds(run);
    assertThat(run.missingDecision()).as("allowed calls answered without their decision record on disk\n" + run.report())
        .isEmpty();
  }

  private static CrashHarness.Run runAndReport(String durability) throws Exception {
    long seed = Long.getLong("crash.seed", ThreadLocalRandom.current().nextLong());
    System.out.println("crash test " + durability + ": seed " + seed + " (replay with -Dcrash.seed=" + seed + ")");
    CrashHarness.Run run = harness.run(durability, KILLS, seed, CLIENTS);
    String report = run.report();
    System.out.print(report);
    Path reports = Path.of("target", "crash-test");
    Files.createDirectories(reports);
    Files.writeString(reports.resolve(durability + ".txt"), report, StandardCharsets.UTF_8);
    return run;
  }

  private static void assertHolds(CrashHarness.Run run) {
    String report = run.report();
    assertThat(run.answers()).as(report).hasSizeGreaterThan(run.kills() * 10);
    assertThat(run.missingExchange()).as("answered calls without their exchange record on disk\n" + report).isEmpty();
    assertThat(run.duplicated()).as(report).isEmpty();
    assertThat(run.trail().brokenLines()).as("lines in the middle of a file that are not records\n" + report).isEmpty();
    // the JVM ends a SIGTERM it handled (hooks run, the drain done) with 128 + 15
    assertThat(run.finalExit()).as("the graceful stop after the last restart\n" + report).isIn(0, 143);
    assertThat(run.verify().exit()).as("audit verify\n" + report).isZero();
  }
}

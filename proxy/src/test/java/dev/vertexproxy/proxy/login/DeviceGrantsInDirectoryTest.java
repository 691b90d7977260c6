package dev.vertexproxy.proxy.login;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vertexproxy.policy.Caller;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Device grants shared by replicas through one directory: each replica is its own store object on the same directory,
 * as each proxy process is, and the CLI's start, the person's approval and the CLI's polls land on different ones.
 */
class DeviceGrantsInDirectoryTest {
  private static final Instant T0 = Instant.parse("2026-03-01T10:00:00Z");
  private static final DeviceGrants.Approval ALICE = new DeviceGrants.Approval(
      new Caller("humans", "alice", Map.of("email", "alice@example.com", "groups", List.of("ml-team"))),
      T0.plus(Duration.ofHours(8)), "sess-1", T0.minusSeconds(30));

  @TempDir
  Path dir;

  @Test
  void aGrantStartedOnOneReplicaIsApprovedOnAnotherAndRedeemedOnceAcrossAll() throws Exception {
    DeviceGrants a = new DeviceGrantsInDirectory(dir);
    DeviceGrants b = new DeviceGrantsInDirectory(dir);
    DeviceGrants c = new DeviceGrantsInDirectory(dir);
    DeviceGrants.Grant g = a.start("192.0.2.1", T0).orElseThrow();
    assertThat(b.pending(g.userCode(), T0.plusSeconds(1))).isPresent();
    assertThat(c.poll(g.deviceCode(), T0.plusSeconds(5))).isInstanceOf(DeviceGrants.Pending.class);
    assertThat(b.approve(g.userCode(), ALICE, T0.plusSeconds(6))).isTrue();
    assertThat(c.approve(g.userCode(), ALICE, T0.plusSeconds(6))).as("decided once, whichever replica").isFalse();
    assertThat(a.poll(g.deviceCode(), T0.plusSeconds(10))).isEqualTo(new DeviceGrants.Approved(ALICE));
    assertThat(c.poll(g.deviceCode(), T0.plusSeconds(15))).isInstanceOf(DeviceGrants.Replayed.class);
  }

  @Test
  void theSharedFileIsPrivateAndHoldsNoDeviceCode() throws Exception {
    DeviceGrants a = new DeviceGrantsInDirectory(dir);
    DeviceGrants.Grant g = a.start("192.0.2.1", T0).orElseThrow();
    a.approve(g.userCode(), ALICE, T0.plusSeconds(1));
    Path file = dir.resolve(DeviceGrantsInDirectory.FILE);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
    assertThat(Files.readString(file)).doesNotContain(g.deviceCode()).contains(g.userCode()).contains("alice");
  }

  @Test
  void slowDownIsCountedAcrossReplicas() {
    DeviceGrants a = new DeviceGrantsInDirectory(dir);
    DeviceGrants b = new DeviceGrantsInDirectory(dir);
    DeviceGrants.Grant g = a.start("192.0.2.1", T0).orElseThrow();
    assertThat(a.poll(g.deviceCode(), T0.plusSeconds(5))).isInstanceOf(DeviceGrants.Pending.class);
    assertThat(b.poll(g.deviceCode(), T0.plusSeconds(6))).isInstanceOf(DeviceGrants.SlowDown.class);
  }

  @Test
  void concurrentApprovalsAndPollsFromManyReplicasYieldExactlyOneSession() throws Exception {
    List<DeviceGrants> replicas = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      replicas.add(new DeviceGrantsInDirectory(dir));
    }
    DeviceGrants.Grant g = replicas.get(0).start("192.0.2.1", T0).orElseThrow();
    replicas.get(1).approve(g.userCode(), ALICE, T0.plusSeconds(1));
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<DeviceGrants.Poll>> polls = new ArrayList<>();
      for (int i = 0; i < 32; i++) {
        DeviceGrants r = replicas.get(i % replicas.size());
        polls.add(pool.submit(() -> r.poll(g.deviceCode(), T0.plusSeconds(10))));
      }
      int approved = 0;
      for (Future<DeviceGrants.Poll> p : polls) {
        approved += p.get() instanceof DeviceGrants.Approved ? 1 : 0;
      }
      assertThat(approved).isEqualTo(1);
    } finally {
      pool.shutdownNow();
    }
  }
}

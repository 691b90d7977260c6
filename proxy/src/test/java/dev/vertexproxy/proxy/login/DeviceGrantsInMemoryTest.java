package dev.vertexproxy.proxy.login;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vertexproxy.policy.Caller;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The device grants' life: pending → approved or denied → redeemed once; expiry, pacing, bounds and guessing. */
class DeviceGrantsInMemoryTest {
  private static final Instant T0 = Instant.parse("2026-03-01T10:00:00Z");
  private static final DeviceGrants.Approval ALICE = new DeviceGrants.Approval(
      new Caller("humans", "alice", Map.of("email", "alice@example.com")), T0.plus(Duration.ofHours(8)), "sess-1", T0);

  private final DeviceGrantsInMemory grants = new DeviceGrantsInMemory();

  private DeviceGrants.Grant start(Instant at) {
    return grants.start("192.0.2.1", at).orElseThrow();
  }

  @Test
  void aGrantIsPendingUntilApprovedThenRedeemedExactlyOnce() {
    DeviceGrants.Grant g = start(T0);
    assertThat(g.userCode()).matches("[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}");
    assertThat(g.deviceCode()).hasSizeGreaterThanOrEqualTo(43);
    assertThat(g.expiresAt()).isEqualTo(T0.plus(DeviceGrants.LIFETIME));
    assertThat(grants.poll(g.deviceCode(), T0.plusSeconds(5))).isInstanceOf(DeviceGrants.Pending.class);
    DeviceGrants.Grant found = grants.pending(g.userCode().toLowerCase().replace("-", " "), T0.plusSeconds(6)).orElseThrow();
    assertThat(found).isEqualTo(new DeviceGrants.Grant(null, g.userCode(), T0, "192.0.2.1", g.expiresAt()));
    assertThat(grants.approve(g.userCode(), ALICE, T0.plusSeconds(7))).isTrue();
    assertThat(grants.approve(g.userCode(), ALICE, T0.plusSeconds(7))).as("decided once").isFalse();
    assertThat(grants.pending(g.userCode(), T0.plusSeconds(8))).isEmpty();
    assertThat(grants.poll(g.deviceCode(), T0.plusSeconds(10))).isEqualTo(new DeviceGrants.Approved(ALICE));
    assertThat(grants.poll(g.deviceCode(), T0.plusSeconds(20))).isInstanceOf(DeviceGrants.Replayed.class);
    assertThat(grants.poll(g.deviceCode(), T0.plusSeconds(599))).isInstanceOf(DeviceGrants.Replayed.class);
  }

  @Test
  void aDeniedGrantSaysSoAndNeverYieldsASession() {
    DeviceGrants.Grant g = start(T0);
    assertThat(grants.deny(g.userCode(), T0.plusSeconds(1))).isTrue();
    assertThat(grants.approve(g.userCode(), ALICE, T0.plusSeconds(2))).isFalse();
    assertThat(grants.poll(g.deviceCode(), T0.plusSeconds(5))).isInstanceOf(DeviceGrants.Denied.class);
    assertThat(grants.poll(g.deviceCode(), T0.plusSeconds(10))).isInstanceOf(DeviceGrants.Denied.class);
  }

  @Test
  void anExpiredGrantCannotBeApprovedAndItsPollSaysExpiredUntilItIsForgotten() {
    DeviceGrants.Grant g = start(T0);
    Instant expiry = g.expiresAt();
    assertThat(grants.approve(g.userCode(), ALICE, expiry)).isFalse();
    assertThat(grants.pending(g.userCode(), expiry)).isEmpty();
    assertThat(grants.poll(g.deviceCode(), expiry)).isInstanceOf(DeviceGrants.Expired.class);
    start(expiry.plus(DeviceGrants.LIFETIME)); // a start sweeps what expired a lifetime ago
    assertThat(grants.poll(g.deviceCode(), expiry.plus(DeviceGrants.LIFETIME))).isInstanceOf(DeviceGrants.Unknown.class);
  }

  @Test
  void pollingSoonerThanTheIntervalIsSlowDownAndAddsFiveSecondsForThatGrant() {
    DeviceGrants.Grant g = start(T0);
    assertThat(grants.poll(g.deviceCode(), T0.plusSeconds(5))).isInstanceOf(DeviceGrants.Pending.class);
    assertThat(grants.poll(g.deviceCode(), T0.plusSeconds(7)))
        .isEqualTo(new DeviceGrants.SlowDown(Duration.ofSeconds(10)));
    assertThat(grants.poll(g.deviceCode(), T0.plusSeconds(12))).as("10 s after the last poll is due, not 5")
        .isEqualTo(new DeviceGrants.SlowDown(Duration.ofSeconds(15)));
    assertThat(grants.poll(g.deviceCode(), T0.plusSeconds(27))).isInstanceOf(DeviceGrants.Pending.class);
    grants.approve(g.userCode(), ALICE, T0.plusSeconds(28));
    assertThat(grants.poll(g.deviceCode(), T0.plusSeconds(30))).as("even an approved grant waits its turn")
        .isInstanceOf(DeviceGrants.SlowDown.class);
  }

  @Test
  void unknownDeviceCodesAreUnknown() {
    start(T0);
    assertThat(grants.poll("made-up", T0)).isInstanceOf(DeviceGrants.Unknown.class);
    assertThat(grants.poll(null, T0)).isInstanceOf(DeviceGrants.Unknown.class);
    assertThat(grants.pending("BCDF-GHJK", T0)).isEmpty();
    assertThat(grants.approve("", ALICE, T0)).isFalse();
  }

  @Test
  void pendingGrantsAreBoundedPerSourceAndOverall() {
    for (int i = 0; i < DeviceGrantsInMemory.MAX_PER_SOURCE; i++) {
      assertThat(grants.start("198.51.100.7", T0)).isPresent();
    }
    assertThat(grants.start("198.51.100.7", T0)).isEmpty();
    assertThat(grants.start("198.51.100.8", T0)).isPresent();
    for (int i = DeviceGrantsInMemory.MAX_PER_SOURCE + 1; i < DeviceGrantsInMemory.MAX_GRANTS; i++) {
      assertThat(grants.start("203.0.113." + (i % 250) + "-" + i, T0)).isPresent();
    }
    assertThat(grants.start("192.0.2.99", T0)).isEmpty();
    assertThat(grants.start("192.0.2.99", T0.plus(DeviceGrants.LIFETIME.multipliedBy(2)))).as("after the sweep")
        .isPresent();
  }

  @Test
  void userCodesAreDistinctAndFromTheUnambiguousAlphabet() {
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < 500; i++) {
      String code = grants.start("10.0.0." + (i % 200) + "/" + i, T0).orElseThrow().userCode();
      assertThat(seen.add(code)).isTrue();
      assertThat(code.replace("-", "")).doesNotContainPattern("[AEIOUY0-9]");
    }
  }

  @Test
  void guessesAreBoundedPerWhoAndWindow() {
    for (int i = 0; i < DeviceGrantsInMemory.MAX_MISSES; i++) {
      assertThat(grants.guessAllowed("ip:192.0.2.1", T0.plusSeconds(i))).isTrue();
      grants.missed("ip:192.0.2.1", T0.plusSeconds(i));
    }
    assertThat(grants.guessAllowed("ip:192.0.2.1", T0.plusSeconds(60))).isFalse();
    assertThat(grants.guessAllowed("ip:192.0.2.2", T0.plusSeconds(60))).isTrue();
    assertThat(grants.guessAllowed("ip:192.0.2.1", T0.plus(DeviceGrantsInMemory.MISS_WINDOW))).isTrue();
  }
}

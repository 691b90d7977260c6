package dev.vertexproxy.proxy.login;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class LoginStateReplaysTest {
  private static final Instant NOW = Instant.parse("2026-03-01T10:00:00Z");
  private static final Instant EXP = NOW.plus(Duration.ofMinutes(10));

  @Test
  void anAttemptIsTakenOnceUntilItExpires() {
    LoginStateReplays replays = new LoginStateReplays(100);
    assertThat(replays.take("s1", EXP, NOW)).isTrue();
    assertThat(replays.take("s1", EXP, NOW.plusSeconds(1))).isFalse();
    assertThat(replays.take("s2", EXP, NOW.plusSeconds(1))).isTrue();
    assertThat(replays.take("s1", EXP, EXP.minusMillis(1))).isFalse();
  }

  @Test
  void expiredAttemptsAreForgotten() {
    LoginStateReplays replays = new LoginStateReplays(100);
    replays.take("s1", EXP, NOW);
    replays.take("s2", EXP.plusSeconds(5), NOW.plusSeconds(5));
    assertThat(replays.size()).isEqualTo(2);
    replays.take("s3", EXP.plusSeconds(600), EXP.plusSeconds(1));
    assertThat(replays.size()).as("s1 expired, s2 and s3 remain").isEqualTo(2);
  }

  @Test
  void beyondCapacityTheOldestGoFirst() {
    LoginStateReplays replays = new LoginStateReplays(2);
    replays.take("a", EXP, NOW);
    replays.take("b", EXP, NOW);
    replays.take("c", EXP, NOW);
    assertThat(replays.size()).isEqualTo(2);
    assertThat(replays.take("c", EXP, NOW)).isFalse();
    assertThat(replays.take("a", EXP, NOW)).as("forgotten").isTrue();
  }
}

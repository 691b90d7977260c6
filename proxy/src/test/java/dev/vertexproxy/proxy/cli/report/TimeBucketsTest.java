package dev.vertexproxy.proxy.cli.report;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class TimeBucketsTest {
  private static final Instant T0 = Instant.parse("2026-05-01T00:00:00Z");

  @Test
  void aShortPeriodIsCountedPerMinuteWithEmptyBucketsKept() {
    TimeBuckets buckets = new TimeBuckets();
    buckets.add(T0.plusSeconds(5), false);
    buckets.add(T0.plusSeconds(59), true);
    buckets.add(T0.plusSeconds(180), false);
    List<TimeBuckets.Bucket> series = buckets.series(T0, T0.plusSeconds(200), 60);
    assertThat(series).extracting(TimeBuckets.Bucket::calls).containsExactly(2L, 0L, 0L, 1L);
    assertThat(series).extracting(TimeBuckets.Bucket::denied).containsExactly(1L, 0L, 0L, 0L);
    assertThat(series.get(0).step()).isEqualTo(Duration.ofMinutes(1));
  }

  @Test
  void aYearOfMinutesIsRegroupedInBoundedMemoryWithoutLosingACall() {
    TimeBuckets buckets = new TimeBuckets();
    long minutes = 365L * 24 * 60;
    for (long m = 0; m < minutes; m += 7) {
      buckets.add(T0.plusSeconds(m * 60), m % 2 == 0);
    }
    List<TimeBuckets.Bucket> series = buckets.series(T0, T0.plusSeconds(minutes * 60 - 1), 60);
    assertThat(series.size()).isBetween(2, 60);
    assertThat(series.get(0).step()).isEqualTo(Duration.ofDays(7)); // 53 weeks fit in 60 buckets
    long expected = (minutes + 6) / 7;
    assertThat(series.stream().mapToLong(TimeBuckets.Bucket::calls).sum()).isEqualTo(expected);
    assertThat(series.stream().mapToLong(TimeBuckets.Bucket::denied).sum()).isEqualTo((expected + 1) / 2);
    assertThat(buckets.series(T0.plusSeconds(10), T0, 60)).isEmpty();
  }

  @Test
  void theStepIsTheSmallestThatFitsThePeriod() {
    TimeBuckets buckets = new TimeBuckets();
    buckets.add(T0, false);
    assertThat(buckets.series(T0, T0.plus(Duration.ofHours(10)), 60).get(0).step()).isEqualTo(Duration.ofMinutes(15));
    assertThat(buckets.series(T0, T0.plus(Duration.ofDays(30)), 60).get(0).step()).isEqualTo(Duration.ofDays(1));
  }
}

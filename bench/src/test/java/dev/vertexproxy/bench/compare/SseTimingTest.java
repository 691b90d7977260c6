package dev.vertexproxy.bench.compare;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** SseTiming against the stub pacing its events 20 ms apart: counts and relations only, never a time bound. */
class SseTimingTest {
  private static final String STREAM = "/v1/projects/p/locations/us-central1/publishers/google/models/m"
      + ":streamGenerateContent?alt=sse";

  @Test
  void everyStreamGivesOneFirstEventAndOneGapPerFurtherEvent() throws Exception {
    try (StubUpstream stub = StubUpstream.start("--threads", "1", "--sse-events", "5", "--sse-gap-ms", "20")) {
      SseTiming.Result r = SseTiming.execute(Cli.parse(new String[] {"--url", "http://127.0.0.1:" + stub.port() + STREAM,
          "--body-file", "/dev/null", "--streams", "6"}, SseTiming.OPTIONS));
      assertThat(r.json).containsEntry("streams", 6).containsEntry("completed", 6);
      assertThat(r.firstEvent.size()).isEqualTo(6);
      assertThat(r.gaps.size()).isEqualTo(6 * (5 - 1));
      assertThat(Arrays.stream(r.gaps.values()).min().orElseThrow()).isNotNegative();
      assertThat(Arrays.stream(r.firstEvent.values()).min().orElseThrow()).isNotNegative();
      @SuppressWarnings("unchecked")
      Map<String, Object> events = (Map<String, Object>) r.json.get("events");
      assertThat(events).containsEntry("total", 30L).containsEntry("min_per_stream", 5L).containsEntry("max_per_stream", 5L);
      @SuppressWarnings("unchecked")
      Map<String, Object> errors = (Map<String, Object>) r.json.get("errors");
      assertThat(errors).containsEntry("total", 0L);
      // sequential streams on one keep-alive connection
      assertThat(stub.counts()).containsEntry("connections", 1L).containsEntry("streams", 6L);
    }
  }

  @Test
  void theQueryStringSetsTheEventsPerStreamWarmUpStreamsAreNotTimedAndARefusedStreamIsAnError() throws Exception {
    try (StubUpstream stub = StubUpstream.start("--threads", "1", "--sse-gap-ms", "1")) {
      String base = "http://127.0.0.1:" + stub.port();
      SseTiming.Result r = SseTiming.execute(Cli.parse(new String[] {"--url", base + STREAM + "&bench_events=3",
          "--method", "POST", "--streams", "2", "--warmup-streams", "1"}, SseTiming.OPTIONS));
      // the warm-up stream runs but is not timed
      assertThat(r.json).containsEntry("streams", 2).containsEntry("warmup_streams", 1).containsEntry("completed", 3);
      assertThat(r.firstEvent.size()).isEqualTo(2);
      assertThat(r.gaps.size()).isEqualTo(2 * 2);
      SseTiming.Result refused = SseTiming.execute(Cli.parse(new String[] {"--url", base + "/nothing/here",
          "--method", "POST", "--streams", "2"}, SseTiming.OPTIONS));
      assertThat(refused.json).containsEntry("completed", 0);
      assertThat(refused.firstEvent.size()).isZero();
      @SuppressWarnings("unchecked")
      Map<String, Object> errors = (Map<String, Object>) refused.json.get("errors");
      assertThat(errors).containsEntry("total", 2L).containsEntry("status", Map.of("404", 2L));
    }
  }
}

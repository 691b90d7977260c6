package dev.vertexproxy.proxy.audit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

class RecordFilterTest {
  private static final Instant SINCE = Instant.parse("2026-05-01T12:00:00Z");
  private static final Instant UNTIL = Instant.parse("2026-05-01T13:00:00Z");

  private static boolean passes(Predicate<byte[]> prefilter, String line) {
    return prefilter.test(line.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void theTimePrefilterSkipsOnlyLinesTheParsedWindowWouldRejectToo() throws Exception {
    Predicate<byte[]> bytes = RecordFilter.timeWindowBytes(SINCE, UNTIL);
    Predicate<ObjectNode> parsed = RecordFilter.window(SINCE, UNTIL);
    List<String> lines = List.of(
        "{\"seq\":1,\"time\":\"2026-05-01T11:59:59.999Z\"}",
        "{\"seq\":2,\"time\":\"2026-05-01T12:00:00.000Z\"}",
        "{\"seq\":3,\"time\":\"2026-05-01T12:59:59.999Z\"}",
        "{\"seq\":4,\"time\":\"2026-05-01T13:00:00.000Z\"}",
        "{\"seq\":5,\"time\":\"2026-05-01T12:30:00Z\"}", // not the writer's shape: decided after parsing
        "{\"caller\":{\"claims\":{\"time\":\"2020-01-01T00:00:00.000Z\"}},\"time\":\"2026-05-01T12:30:00.000Z\"}",
        "{\"caller\":{\"claims\":{\"time\":\"2026-05-01T12:30:00.000Z\"}},\"time\":\"2030-01-01T00:00:00.000Z\"}",
        "{\"seq\":8,\"time\":\"2026-05-01T12:3");
    for (String line : lines) {
      boolean kept;
      try {
        kept = parsed.test(AuditRecords.parse(line.getBytes(StandardCharsets.UTF_8)));
      } catch (IOException notJson) {
        kept = false;
      }
      if (kept) {
        assertThat(passes(bytes, line)).as(line).isTrue();
      }
    }
    assertThat(passes(bytes, lines.get(0))).isFalse();
    assertThat(passes(bytes, lines.get(1))).isTrue();
    assertThat(passes(bytes, lines.get(3))).isFalse(); // until is exclusive
    assertThat(passes(bytes, lines.get(5))).isTrue(); // two times in the line: left to the parser
    assertThat(RecordFilter.timeWindowBytes(null, null)).isNull();
  }

  @Test
  void aSubMillisecondUntilNeverSkipsARecordBeforeIt() {
    Predicate<byte[]> bytes = RecordFilter.timeWindowBytes(null, Instant.parse("2026-05-01T12:00:00.000500Z"));
    assertThat(passes(bytes, "{\"time\":\"2026-05-01T12:00:00.000Z\"}")).isTrue();
    assertThat(passes(bytes, "{\"time\":\"2026-05-01T12:00:00.001Z\"}")).isFalse();
  }

  @Test
  void literalsAreThePlainPiecesBetweenWildcards() {
    assertThat(RecordFilter.literalsOf("gemini-2.5-*")).containsExactly("gemini-2.5-");
    assertThat(RecordFilter.literalsOf("project_path:acme/*:ref_type:*")).containsExactly("project_path:acme/",
        ":ref_type:");
    assertThat(RecordFilter.literalsOf("a*b?c")).isEmpty(); // too short to be worth a scan
    assertThat(RecordFilter.literalsOf("bob \"the\" builder")).isEmpty(); // JSON escapes the quotes
    assertThat(RecordFilter.literalsOf("zoë@acme")).isEmpty(); // non-ASCII may be escaped by another writer
    assertThat(RecordFilter.literalsOf(null)).isEmpty();
    Predicate<byte[]> all = RecordFilter.containingAll(List.of("deny", "gemini-2.5-"));
    assertThat(passes(all, "{\"decision\":\"deny\",\"model\":\"gemini-2.5-pro\"}")).isTrue();
    assertThat(passes(all, "{\"decision\":\"allow\",\"model\":\"gemini-2.5-pro\"}")).isFalse();
    assertThat(RecordFilter.containingAll(List.of())).isNull();
  }
}

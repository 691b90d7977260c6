package dev.vertexproxy.bench.compare;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class SseEventsTest {
  private static int feed(SseEvents parser, String text) {
    ByteBuf buf = Unpooled.copiedBuffer(text, StandardCharsets.UTF_8);
    try {
      return parser.feed(buf);
    } finally {
      buf.release();
    }
  }

  @Test
  void anEventEndsAtTheBlankLineWhereverTheBytesAreSplit() {
    String two = "data: {\"a\":1}\r\n\r\ndata: {\"b\":2}\n\n";
    for (int cut = 0; cut <= two.length(); cut++) {
      SseEvents parser = new SseEvents();
      int first = feed(parser, two.substring(0, cut));
      assertThat(first + feed(parser, two.substring(cut))).as("cut at %d", cut).isEqualTo(2);
    }
  }

  @Test
  void blankLinesWithoutDataAndAnUnfinishedEventAreNotEvents() {
    SseEvents parser = new SseEvents();
    assertThat(feed(parser, "\r\n\r\n\n")).isZero();
    assertThat(feed(parser, "data: one\ndata: two\n")).isZero();
    assertThat(feed(parser, "\n")).isEqualTo(1);
  }
}

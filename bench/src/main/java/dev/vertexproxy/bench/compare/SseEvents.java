package dev.vertexproxy.bench.compare;

import io.netty.buffer.ByteBuf;

/**
 * Finds where server-sent events end in a response body as its bytes arrive: an event is complete at the blank line
 * after at least one non-blank line ({@code \n\n} or {@code \r\n\r\n}), however the body was split into chunks and
 * reads. Only boundaries are found; the events themselves are not decoded, so counting costs one pass over the bytes.
 * One instance per response, on one thread.
 */
final class SseEvents {
  private int lineLength;
  private int eventLines;

  /** How many events the readable bytes of {@code buf} complete (the buffer's indexes are left as they are). */
  int feed(ByteBuf buf) {
    int completed = 0;
    for (int i = buf.readerIndex(), end = buf.writerIndex(); i < end; i++) {
      byte b = buf.getByte(i);
      if (b == '\n') {
        if (lineLength > 0) {
          eventLines++;
        } else if (eventLines > 0) {
          completed++;
          eventLines = 0;
        }
        lineLength = 0;
      } else if (b != '\r') {
        lineLength++;
      }
    }
    return completed;
  }
}

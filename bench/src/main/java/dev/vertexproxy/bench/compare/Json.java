package dev.vertexproxy.bench.compare;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.util.Map;

/** One JSON object per line on stdout: the only thing {@code scripts/bench} parses; diagnostics go to stderr. */
final class Json {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private Json() {
  }

  static String line(Map<String, ?> object) {
    try {
      return MAPPER.writeValueAsString(object);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  static void print(PrintStream out, Map<String, ?> object) {
    synchronized (out) {
      out.println(line(object));
      out.flush();
    }
  }
}

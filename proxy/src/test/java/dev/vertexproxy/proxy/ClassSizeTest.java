package dev.vertexproxy.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * No source file of the core is over 400 lines. A class that long has usually taken on a second job, and the reader
 * can no longer hold it at once; the rule was an acceptance point of the architecture work, and merges broke it
 * without anyone noticing until this test. Over the limit, split along a seam the class already has — do not raise the
 * limit or squeeze lines.
 */
class ClassSizeTest {
  private static final Path MAIN_SOURCES = Path.of("src", "main", "java");
  private static final int MAX_LINES = 400;

  @Test
  void noMainSourceFileIsOverFourHundredLines() throws IOException {
    assertThat(MAIN_SOURCES).as("run from the proxy module's directory").isDirectory();
    List<Path> sources;
    try (Stream<Path> files = Files.walk(MAIN_SOURCES)) {
      sources = files.filter(f -> f.toString().endsWith(".java")).sorted().toList();
    }
    assertThat(sources).hasSizeGreaterThan(20);
    List<String> tooLong = new ArrayList<>();
    for (Path source : sources) {
      int lines = Files.readAllLines(source, StandardCharsets.UTF_8).size();
      if (lines > MAX_LINES) {
        tooLong.add(source + ": " + lines + " lines");
      }
    }
    assertThat(tooLong).as("main sources over %d lines (split them along a seam they already have)", MAX_LINES)
        .isEmpty();
  }
}

package dev.vertexproxy.proxy.docs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vertexproxy.proxy.testing.Examples;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The SDK snippets in docs/gitlab-ci.md are the examples' code, character for character, so the code the tests run is
 * the code the docs show.
 *
 * <p>In the docs, a snippet is the fenced block right after a {@code <!-- example: examples/... -->} line; in the example
 * file, it is the lines between {@code [START gitlab_ci_doc]} and {@code [END gitlab_ci_doc]}, less their common
 * indentation. Every example file with such a region must be shown, and every SDK code block in the guide must come
 * from an example.
 */
class ExamplesInDocsTest {
  static final String GUIDE = "docs/gitlab-ci.md";
  static final Pattern MARKER = Pattern.compile("^<!-- example: (examples/\\S+) -->$");
  static final Pattern FENCE = Pattern.compile("^```(\\w*)$");
  static final Set<String> SDK_LANGUAGES = Set.of("java", "javascript", "js", "python");
  static final String START = "[START gitlab_ci_doc]";
  static final String END = "[END gitlab_ci_doc]";
  /** A marker is a comment line of its own ({@code //} or {@code #}), so prose that names the markers is no region. */
  static final Pattern START_LINE = Pattern.compile("^\\s*(//|#) \\[START gitlab_ci_doc]$");
  static final Pattern END_LINE = Pattern.compile("^\\s*(//|#) \\[END gitlab_ci_doc]$");

  record Snippet(String file, String language, String code, int line) {}

  /** Every fenced block of the guide, with the example file named on the line before it (or null). */
  static List<Snippet> snippets(List<String> lines) {
    List<Snippet> out = new ArrayList<>();
    String pendingFile = null;
    for (int i = 0; i < lines.size(); i++) {
      Matcher marker = MARKER.matcher(lines.get(i));
      if (marker.matches()) {
        pendingFile = marker.group(1);
        continue;
      }
      Matcher fence = FENCE.matcher(lines.get(i));
      if (fence.matches()) {
        int start = i + 1;
        int end = start;
        while (end < lines.size() && !lines.get(end).equals("```")) {
          end++;
        }
        assertThat(end).as("%s:%d: unclosed code block", GUIDE, i + 1).isLessThan(lines.size());
        out.add(new Snippet(pendingFile, fence.group(1), String.join("\n", lines.subList(start, end)), i + 1));
        pendingFile = null;
        i = end;
      } else if (!lines.get(i).isBlank()) {
        pendingFile = null; // a marker names the block right after it, nothing further down
      }
    }
    return out;
  }

  /** The documented region of an example file, less its common indentation. */
  static String region(Path file) throws IOException {
    List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    int start = -1;
    int end = -1;
    for (int i = 0; i < lines.size(); i++) {
      if (START_LINE.matcher(lines.get(i)).matches()) {
        assertThat(start).as("%s: two %s markers", file, START).isEqualTo(-1);
        start = i + 1;
      } else if (END_LINE.matcher(lines.get(i)).matches()) {
        end = i;
      }
    }
    assertThat(start).as("%s: no %s marker", file, START).isPositive();
    assertThat(end).as("%s: no %s marker after %s", file, END, START).isGreaterThanOrEqualTo(start);
    List<String> region = lines.subList(start, end);
    int indent = region.stream().filter(l -> !l.isBlank()).mapToInt(l -> l.length() - l.stripLeading().length()).min().orElse(0);
    return String.join("\n", region.stream().map(l -> l.isBlank() ? "" : l.substring(indent)).toList());
  }

  static Set<String> examplesWithARegion(Path root) throws IOException {
    Set<String> out = new TreeSet<>();
    try (Stream<Path> files = Files.walk(root.resolve("examples"))) {
      for (Path f : files.filter(Files::isRegularFile).filter(f -> !f.toString().contains("node_modules")).toList()) {
        if (Files.readAllLines(f, StandardCharsets.UTF_8).stream().anyMatch(l -> START_LINE.matcher(l).matches())) {
          out.add(root.relativize(f).toString());
        }
      }
    }
    return out;
  }

  @Test
  void everyDocumentedSnippetIsItsExamplesRegion() throws IOException {
    Path root = Examples.repoRoot();
    List<Snippet> snippets = snippets(Files.readAllLines(root.resolve(GUIDE), StandardCharsets.UTF_8));
    Map<String, Snippet> shown = new LinkedHashMap<>();
    for (Snippet s : snippets) {
      if (s.file() == null) {
        assertThat(s.language()).as("%s:%d: a %s block not taken from examples/ (put an <!-- example: ... --> line before it)",
            GUIDE, s.line(), s.language()).isNotIn(SDK_LANGUAGES);
        continue;
      }
      Path file = root.resolve(s.file());
      assertThat(file).as("%s:%d names a missing example", GUIDE, s.line()).isRegularFile();
      assertThat(s.code()).as("%s:%d differs from %s (the example is what the tests run: copy its region here)",
          GUIDE, s.line(), s.file()).isEqualTo(region(file));
      assertThat(shown.put(s.file(), s)).as("%s shown twice", s.file()).isNull();
    }
    assertThat(shown.keySet()).as("examples with a documented region, each shown once in " + GUIDE)
        .containsExactlyInAnyOrderElementsOf(examplesWithARegion(root));
    assertThat(shown.keySet()).as("the SDKs the guide promises").contains(
        "examples/java/dev/vertexproxy/examples/GenAiThroughProxy.java",
        "examples/node/generate.mjs",
        "examples/python/genai_through_proxy.py",
        "examples/python/vertexai_through_proxy.py");
  }

  @Test
  void aMarkerNamesOnlyTheBlockRightAfterIt() {
    List<String> guide = List.of(
        "<!-- example: examples/node/generate.mjs -->", "```javascript", "const a = 1;", "", "a();", "```",
        "<!-- example: examples/python/genai_through_proxy.py -->", "prose in between", "```python", "print('x')", "```",
        "```yaml", "a: 1", "```");
    List<Snippet> s = snippets(guide);
    assertThat(s).extracting(Snippet::file).containsExactly("examples/node/generate.mjs", null, null);
    assertThat(s.get(0).code()).isEqualTo("const a = 1;\n\na();");
    assertThat(s).extracting(Snippet::language).containsExactly("javascript", "python", "yaml");
  }
}

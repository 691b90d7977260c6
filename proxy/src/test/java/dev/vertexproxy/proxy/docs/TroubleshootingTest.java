package dev.vertexproxy.proxy.docs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vertexproxy.proxy.reason.Reason;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * docs/troubleshooting.md has one section for every reason in the closed catalog, and no other, each with the
 * reason's HTTP status, what it means and how to fix it; its links go to pages that exist.
 */
class TroubleshootingTest {
  private static final Path DOCS = Path.of("..", "docs");
  private static final Pattern SECTION = Pattern.compile("^### `([a-z-]+)` — (\\d{3}|Vertex's status)$");
  private static final Pattern LINK = Pattern.compile("\\]\\(([a-z-]+\\.md)(#[a-z-]+)?\\)");

  @Test
  void everyReasonHasASectionWithItsStatusWhatItMeansAndAFix() throws Exception {
    Map<String, List<String>> sections = sections();

    assertThat(sections.keySet()).containsExactlyInAnyOrderElementsOf(
        Arrays.stream(Reason.values()).map(Reason::code).toList());
    for (Reason r : Reason.values()) {
      List<String> body = sections.get(r.code());
      String status = body.get(0);
      if (r == Reason.ALLOWED) {
        assertThat(status).isEqualTo("Vertex's status");
      } else {
        assertThat(status).as(r.code()).isEqualTo(Integer.toString(r.httpStatus()));
      }
      String text = String.join("\n", body.subList(1, body.size()));
      assertThat(text).as(r.code()).contains("**Means:**").containsPattern("\\*\\*Fix( \\([a-z ]+\\))?:\\*\\*");
    }
  }

  @Test
  void linksPointAtPagesThatExist() throws Exception {
    Matcher m = LINK.matcher(Files.readString(DOCS.resolve("troubleshooting.md"), StandardCharsets.UTF_8));
    int links = 0;
    while (m.find()) {
      assertThat(DOCS.resolve(m.group(1))).as(m.group()).exists();
      links++;
    }
    assertThat(links).isPositive();
  }

  /** Reason code → [status, lines of its section...]. */
  private static Map<String, List<String>> sections() throws Exception {
    Map<String, List<String>> out = new LinkedHashMap<>();
    List<String> current = null;
    for (String line : Files.readAllLines(DOCS.resolve("troubleshooting.md"), StandardCharsets.UTF_8)) {
      Matcher m = SECTION.matcher(line);
      if (m.matches()) {
        current = new ArrayList<>(List.of(m.group(2)));
        assertThat(out.put(m.group(1), current)).as("second section for %s", m.group(1)).isNull();
      } else if (line.startsWith("#")) {
        current = null;
      } else if (current != null) {
        current.add(line);
      }
    }
    return out;
  }
}

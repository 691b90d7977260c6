package dev.vertexproxy.proxy.cli;

import static dev.vertexproxy.proxy.cli.AuditTrails.run;
import static org.assertj.core.api.Assertions.assertThat;

import dev.vertexproxy.proxy.audit.AuditEvent;
import dev.vertexproxy.proxy.cli.AuditTrails.Ev;
import dev.vertexproxy.proxy.cli.AuditTrails.Run;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code audit report} counts calls and denials per model, calls naming none apart, in every format. */
class AuditReportByModelTest {
  private static final String HOSTILE = "<b>x</b>|*y*";

  @TempDir
  Path tmp;
  Path trail;

  @BeforeEach
  void writeTrail() throws Exception {
    trail = tmp.resolve("trail");
    AuditTrails.write(trail, List.<AuditEvent>of(
        Ev.at(1, "r1").event(),
        Ev.at(2, "r2").event(),
        Ev.at(3, "r3").call("publishers.models.generateContent", "gemini-2.5-pro").denied("model-not-granted").event(),
        Ev.at(4, "r4").call("publishers.models.generateContent", "gemini-2.5-pro").denied("model-not-granted").event(),
        Ev.at(5, "r5").call("publishers.models.generateContent", "gemini-2.5-pro").event(),
        Ev.at(6, "r6").call("endpoints.predict", null).event(),
        Ev.at(7, "r7").call("publishers.models.generateContent", HOSTILE).denied("model-not-granted").event()));
  }

  @Test
  void textListsEachModelWithItsCallsAndDenials() {
    Run text = run("report", trail.toString(), "--until", "2026-05-01T20:00:00Z");
    assertThat(text.exit()).as(text.err()).isZero();
    assertThat(text.out()).containsPattern("Calls by model\n"
        + "\\s+3\\s+2 denied  gemini-2.5-pro\n"
        + "\\s+2\\s+0 denied  gemini-2.5-flash\n"
        + "\\s+1\\s+0 denied  - \\(names no model\\)\n"
        + "\\s+1\\s+1 denied  ");
  }

  @Test
  void markdownAndHtmlHaveTheTableWithTheModelEscaped() throws Exception {
    Run md = run("report", trail.toString(), "--until", "2026-05-01T20:00:00Z", "--format", "markdown");
    assertThat(md.exit()).as(md.err()).isZero();
    assertThat(md.out()).contains("| model | calls | denied |").contains("| gemini-2.5-pro | 3 | 2 |")
        .contains("| - (names no model) | 1 | 0 |").doesNotContain("<b>x</b>");
    Path page = tmp.resolve("report.html");
    Run html = run("report", trail.toString(), "--until", "2026-05-01T20:00:00Z", "--html", page.toString());
    assertThat(html.exit()).as(html.err()).isZero();
    String text = Files.readString(page, StandardCharsets.UTF_8);
    assertThat(text).contains("<h2>Calls by model</h2>").contains("&lt;b&gt;x&lt;/b&gt;").doesNotContain("<b>x</b>");
  }
}

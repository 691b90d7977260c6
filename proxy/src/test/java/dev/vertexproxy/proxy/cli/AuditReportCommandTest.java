package dev.vertexproxy.proxy.cli;

import static dev.vertexproxy.proxy.cli.AuditTrails.run;
import static org.assertj.core.api.Assertions.assertThat;

import dev.vertexproxy.proxy.audit.AuditEvent;
import dev.vertexproxy.proxy.cli.AuditTrails.Ev;
import dev.vertexproxy.proxy.cli.AuditTrails.Run;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuditReportCommandTest {
  private static final String HOSTILE = "<script>alert(1)</script>|*bold*_x_`code`[link](http://evil.example)";

  @TempDir
  Path tmp;
  Path a;
  Path b;

  /**
   * Replica a: alice (seen before the period) and a CI job; replica b: a hostile subject first seen in the period, a
   * denial, an outage and the decision records of durability sync (which must not count a call twice).
   */
  @BeforeEach
  void writeTrails() throws Exception {
    a = tmp.resolve("replica-a");
    b = tmp.resolve("replica-b");
    List<AuditEvent> onA = new ArrayList<>();
    onA.add(Ev.at(0, "a-before").who("corp", "alice@acme.example").rule("people-gemini",
        "people@acme-ml-prod.iam.gserviceaccount.com").event());
    for (int i = 0; i < 5; i++) {
      onA.add(Ev.at(60 + i, "a-ci-" + i).event());
    }
    onA.add(Ev.at(70, "a-alice").who("corp", "alice@acme.example").call("publishers.models.generateContent",
        "gemini-2.5-pro").rule("people-gemini", "people@acme-ml-prod.iam.gserviceaccount.com").event());
    AuditTrails.write(a, onA);

    List<AuditEvent> onB = new ArrayList<>();
    Ev hostile = Ev.at(61, "b-hostile").who("corp", HOSTILE).denied("identity-not-matched");
    hostile.type = "decision";
    onB.add(hostile.event());
    hostile.type = null;
    onB.add(hostile.event());
    onB.add(Ev.at(62, "b-outage").unavailable("credentials-unavailable", 503).event());
    onB.add(Ev.at(63, "b-ci").rule("forecasting-ci-gemini", "people@acme-ml-prod.iam.gserviceaccount.com").event());
    AuditTrails.write(b, onB);
  }

  private Run report(String... extra) {
    List<String> args = new ArrayList<>(List.of("report", a.toString(), b.toString(), "--since", "2026-05-01T13:00:00Z"));
    args.addAll(List.of(extra));
    return run(args.toArray(String[]::new));
  }

  @Test
  void textCountsCallsOnceAndSaysWhoIsNewWhoUsedWhichAccountAndWhatFailed() {
    Run text = report();
    assertThat(text.exit()).as(text.err()).isZero();
    assertThat(text.out())
        .contains("Records in period: 10 (2026-05-01T13:00:00.000Z .. 2026-05-01T13:10:00.000Z)")
        .contains("Calls in period: 9 (1 denied)") // the decision record is not a second call
        .containsPattern("Chain \\S+ \\(\\S+replica-a\\): intact, 7 records in the trail \\(last seq 7, hash [0-9a-f]{64}\\)")
        .containsPattern("Chain \\S+ \\(\\S+replica-b\\): intact, 4 records in the trail")
        .containsPattern("\n\\s+7\\s+0 denied  gitlab project_path:acme/ml/forecasting:ref_type:branch:ref:main"
            + "  publishers.models.generateContent  gemini-2.5-flash\n")
        .contains("First seen in this period (2 of 3 identities)")
        .containsPattern("2026-05-01T13:00:00.000Z  gitlab project_path:acme/ml/forecasting\\S+  \\(7 calls\\)")
        .doesNotContainPattern("First seen[^\n]*\n(  [^\n]*\n)*  [^\n]*alice")
        .containsPattern("\n\\s+6  gemini@acme-ml-prod.iam.gserviceaccount.com\n\\s+6  gitlab project_path")
        .containsPattern("\n\\s+2  people@acme-ml-prod.iam.gserviceaccount.com\n\\s+1  corp alice@acme.example\n"
            + "\\s+1  gitlab project_path")
        .containsPattern("Errors and unavailability \\(outcome reason\\)\n\\s+1  unavailable credentials-unavailable\n");
  }

  @Test
  void markdownEscapesEveryCallerChosenValue() {
    Run md = report("--format", "markdown");
    assertThat(md.exit()).as(md.err()).isZero();
    assertThat(md.out()).startsWith("# Audit report\n")
        .contains("| chain | directory | verifies |")
        .doesNotContain("<script>", "*bold*", "](http")
        .contains("corp &lt;script&gt;alert\\(1\\)&lt;/script&gt;\\|\\*bold\\*\\_x\\_\\`code\\`\\[link\\]\\(http://evil.example\\)");
    // every table row has as many unescaped cell separators as its header
    int columns = -1;
    for (String line : md.out().split("\n")) {
      if (!line.startsWith("|")) {
        columns = -1;
        continue;
      }
      int separators = line.replace("\\|", "").replaceAll("[^|]", "").length();
      if (columns < 0) {
        columns = separators;
      }
      assertThat(separators).as(line).isEqualTo(columns);
    }
    assertThat(md.out()).containsPattern("\\| corp alice@acme\\.example \\| 2026-05-01T13:10:00\\.000Z \\| 1 \\| yes, since"
        + " 2026-05-01T12:00:00\\.000Z \\|");
  }

  @Test
  void htmlIsOneSelfContainedPageWithEveryValueEscaped() throws Exception {
    Path page = tmp.resolve("report.html");
    Run run = report("--html", page.toString());
    assertThat(run.exit()).as(run.err()).isZero();
    String html = Files.readString(page, StandardCharsets.UTF_8);
    assertThat(html).startsWith("<!DOCTYPE html>")
        .contains("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline';"
            + " img-src data:\">")
        .contains("<svg id=\"chart-calls\"", "<svg id=\"chart-identities\"", "<svg id=\"chart-denials\"")
        .contains("&lt;script&gt;alert(1)&lt;/script&gt;")
        .doesNotContain("<script", "src=\"http", "href=", "@import", "url(");
    assertThat(Pattern.compile("<circle class=\"point\"").matcher(html).results().count()).isGreaterThan(1);
    Matcher denials = Pattern.compile("<svg id=\"chart-denials\".*?</svg>", Pattern.DOTALL).matcher(html);
    assertThat(denials.find()).isTrue();
    assertThat(denials.group()).contains("class=\"bar\"", "identity-not-matched");
    assertThat(Files.exists(tmp.resolve("report.html.tmp"))).isFalse();
  }

  @Test
  void theDenialListIsCappedWithTheQueryForTheRest() throws Exception {
    Path many = tmp.resolve("many");
    List<AuditEvent> events = new ArrayList<>();
    for (int i = 0; i < 205; i++) {
      events.add(Ev.at(i, "d-" + i).who("corp", "mallory").denied("method-not-granted").event());
    }
    AuditTrails.write(many, events);
    Run text = run("report", many.toString(), "--until", "2026-05-01T20:00:00Z");
    assertThat(text.out()).contains("Denials (205)")
        .contains("... and 5 more: vertex-proxy audit query " + many + " --decision deny --type exchange --until "
            + "2026-05-01T20:00:00Z");
    assertThat(text.out().lines().filter(l -> l.contains("request d-")).count()).isEqualTo(200);
  }

  @Test
  void aChainThatDoesNotVerifyFailsTheReportAndIsNamed() throws Exception {
    Path file;
    try (Stream<Path> files = Files.list(b)) {
      file = files.filter(p -> p.getFileName().toString().startsWith("audit-")).findFirst().orElseThrow();
    }
    String text = Files.readString(file, StandardCharsets.UTF_8);
    Files.writeString(file, text.replace("\"status\":503", "\"status\":200"));
    Path page = tmp.resolve("r.html");
    Run run = report("--html", page.toString());
    assertThat(run.exit()).isEqualTo(1);
    assertThat(run.out()).containsPattern("replica-a\\): intact").containsPattern("replica-b\\): BROKEN — .*hash mismatch");
    assertThat(Files.readString(page)).contains("<tr class=\"bad\">");
    assertThat(run("report", a.toString()).exit()).isZero();
  }

  @Test
  void anEmptyPeriodStillRendersEveryPart() throws Exception {
    Path page = tmp.resolve("empty.html");
    Run run = run("report", a.toString(), "--since", "2030-01-01", "--html", page.toString(), "--format", "markdown");
    assertThat(run.exit()).isZero();
    assertThat(run.out()).contains("- Records in period: 0\n", "## Denials (0)", "None: every allowed call was answered.");
    assertThat(Files.readString(page)).contains("no calls in this period", "none in this period");
    assertThat(run("report", a.toString(), "--format", "yaml").exit()).isEqualTo(2);
    assertThat(run("report", a.toString(), "--html", tmp.resolve("no/such/dir/r.html").toString()).exit()).isEqualTo(1);
  }
}

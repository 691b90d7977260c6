package dev.vertexproxy.proxy.cli.replay;

import dev.vertexproxy.proxy.cli.replay.ReplayReport.Changes;
import dev.vertexproxy.proxy.cli.replay.ReplayReport.Example;
import dev.vertexproxy.proxy.cli.replay.ReplayReport.Group;
import dev.vertexproxy.proxy.cli.replay.ReplayReport.GroupKey;
import dev.vertexproxy.proxy.cli.replay.ReplayReport.Skip;
import dev.vertexproxy.proxy.cli.replay.ReplayReport.Verdict;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The report for a person reading a merge request's job log: totals first, then each change grouped. Stateless. */
public final class ReplayText {
  private ReplayText() {
  }

  public static void print(ReplayReport report, String draftFile, PrintWriter out) {
    out.println("replayed " + report.replayed() + " requests under " + draftFile + " (" + report.draftVersion() + ")");
    List<String> versions = new ArrayList<>();
    report.recordedVersions().forEach((v, n) -> versions.add(v + " (" + n + ")"));
    out.println("recorded under policy " + (versions.isEmpty() ? "-" : String.join(", ", versions)));
    out.printf("  unchanged      %8d%n", report.unchanged());
    out.printf("  newly denied   %8d%n", report.newlyDenied().count());
    out.printf("  newly allowed  %8d%n", report.newlyAllowed().count());
    out.printf("  rule changed   %8d  (same verdict, another rule or reason)%n", report.ruleChangedSameVerdict());
    out.printf("  undecidable    %8d  (the draft would decide on a claim the trail holds redacted)%n",
        report.undecidable().count());
    if (report.undecidableDenied() > 0) {
      out.printf("    of which %d were denied when recorded: the draft may allow them (fails --fail-on-widen)%n",
          report.undecidableDenied());
    }
    List<String> skips = new ArrayList<>();
    for (Map.Entry<Skip, Long> e : report.skipped().entrySet()) {
      if (e.getValue() > 0) {
        skips.add(e.getKey().key() + " " + e.getValue());
      }
    }
    out.println("skipped " + report.skippedTotal() + (skips.isEmpty() ? "" : ": " + String.join(", ", skips)));
    if (report.brokenLines() > 0) {
      out.println("broken lines " + report.brokenLines() + " (not JSON records; audit verify names them)");
    }
    changes(out, "newly denied", report.newlyDenied());
    changes(out, "newly allowed", report.newlyAllowed());
    changes(out, "undecidable", report.undecidable());
  }

  private static void changes(PrintWriter out, String title, Changes changes) {
    if (changes.count() == 0) {
      return;
    }
    out.println();
    out.println(title + " (" + changes.count() + "):");
    for (Group g : changes.groups()) {
      out.println("  " + printable(identity(g.key())));
      out.println("    " + printable(g.key().method() + (g.key().model() == null ? "" : " model " + g.key().model()))
          + ": " + g.count());
      for (Example e : g.examples()) {
        out.println("      " + printable(e.requestId() + " " + e.time() + " " + e.httpMethod() + " " + e.path()));
        out.println("        " + printable(verdict(e.recorded()) + " -> "
            + (e.draft() == null ? "?" : verdict(e.draft()))));
      }
    }
    if (changes.ungrouped() > 0) {
      out.println("  and " + changes.ungrouped() + " more in groups past the first " + ReplayReport.MAX_GROUPS);
    }
  }

  /** Control characters in a recorded value (a claim is the token issuer's text) must not drive the terminal. */
  static String printable(String text) {
    StringBuilder s = new StringBuilder(text.length());
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      s.append(c < 0x20 || (c >= 0x7f && c < 0xa0) ? '?' : c);
    }
    return s.toString();
  }

  private static String identity(GroupKey k) {
    StringBuilder s = new StringBuilder(k.issuer()).append(' ').append(k.subject());
    List<String> pins = new ArrayList<>();
    if (k.projectPath() != null) {
      pins.add("project_path " + k.projectPath());
    }
    if (k.namespacePath() != null) {
      pins.add("namespace_path " + k.namespacePath());
    }
    return pins.isEmpty() ? s.toString() : s.append(" (").append(String.join(", ", pins)).append(')').toString();
  }

  private static String verdict(Verdict v) {
    return v.decision() + " " + (v.rule() == null ? "-" : v.rule()) + " (" + v.reason() + ")";
  }
}

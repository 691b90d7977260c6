package dev.vertexproxy.proxy.cli.report;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The report as plain text, for a terminal or a scheduled job's log. Values are written as recorded except that
 * control characters (a caller-chosen subject could carry terminal escapes) are shown as {@code ?}.
 */
public final class TextReport {
  private TextReport() {
  }

  public static void write(ReportData d, PrintWriter out) {
    out.printf("Audit report for %s%n", d.dirs().stream().map(Path::toString).collect(Collectors.joining(", ")));
    out.printf("Period: %s .. %s%n", d.since() == null ? "(start)" : d.since(), d.until() == null ? "(end)" : d.until());
    out.printf("Records in period: %d%s%n", d.records, d.records == 0 ? "" : " (" + d.first + " .. " + d.last + ")");
    for (ReportData.Chain chain : d.chains) {
      String name = d.chains.size() == 1 && chain.chainId().isEmpty() ? "Chain" : "Chain "
          + (chain.chainId().isEmpty() ? chain.dir().toString() : safe(chain.chainId()) + " (" + chain.dir() + ")");
      out.println(chain.verify().ok()
          ? String.format("%s: intact, %d records in the trail (last seq %d, hash %s)%s", name,
              chain.verify().records(), chain.verify().lastSeq(), chain.verify().lastHash(),
              chain.verify().warnings().isEmpty() ? "" : ", " + chain.verify().warnings().size() + " warning(s)")
          : name + ": BROKEN — " + chain.verify().firstProblem());
    }
    out.printf("Calls in period: %d (%d denied)%n", d.calls, d.denied);
    counts(out, "By decision", d.byDecision);
    counts(out, "By outcome", d.byOutcome);
    counts(out, "By reason", d.byReason);
    counts(out, "By method", d.byMethod);
    counts(out, "By caller (issuer subject)", d.byCaller);
    if (!d.byProjectPath.isEmpty()) {
      counts(out, "By project_path claim", d.byProjectPath);
    }

    out.printf("%nCalls by model%n");
    for (Map.Entry<String, ReportData.Calls> e : d.rankedModels()) {
      out.printf("  %8d  %6d denied  %s%n", e.getValue().calls, e.getValue().denied,
          e.getKey().isEmpty() ? "- (names no model)" : safe(e.getKey()));
    }

    out.printf("%nCalls by identity, method and model%n");
    for (Map.Entry<ReportData.CallKey, ReportData.Calls> e : d.rankedCalls()) {
      out.printf("  %8d  %6d denied  %s  %s  %s%n", e.getValue().calls, e.getValue().denied, safe(e.getKey().identity()),
          safe(e.getKey().method()), e.getKey().model().isEmpty() ? "-" : safe(e.getKey().model()));
    }

    out.printf("%nDenials (%d)%n", d.denied);
    for (ReportData.Denial x : d.denials) {
      out.println(safe(String.format("  %s  seq %s  %s  %s %s  %s  %s  request %s", x.time(), x.seq(), x.status(),
          x.httpMethod(), x.method(), x.reason(), x.identity(), x.requestId())));
    }
    if (d.denied > d.denials.size()) {
      out.printf("  ... and %d more: %s%n", d.denied - d.denials.size(), Queries.denials(d));
    }

    List<Map.Entry<String, ReportData.Identity>> fresh = d.newIdentities();
    out.printf("%nFirst seen in this period (%d of %d identities)%n", fresh.size(), d.identities.size());
    for (Map.Entry<String, ReportData.Identity> e : fresh) {
      out.printf("  %s  %s  (%d calls)%n", e.getValue().firstInPeriod, safe(e.getKey()), e.getValue().calls);
    }

    out.printf("%nService accounts used%n");
    for (Map.Entry<String, ReportData.Account> e : d.accounts.entrySet()) {
      out.printf("  %8d  %s%n", e.getValue().calls, safe(e.getKey()));
      for (Map.Entry<String, Long> who : ReportData.topIdentities(e.getValue())) {
        out.printf("            %6d  %s%n", who.getValue(), safe(who.getKey()));
      }
      int more = e.getValue().identities.size() - ReportData.IDENTITIES_PER_ACCOUNT;
      if (more > 0) {
        out.printf("            ... and %d more identities%n", more);
      }
    }

    counts(out, "Errors and unavailability (outcome reason)", d.troubles);
    out.flush();
  }

  private static void counts(PrintWriter out, String title, Map<String, Long> counts) {
    out.printf("%n%s%n", title);
    for (Map.Entry<String, Long> e : ReportData.ranked(counts)) {
      out.printf("  %8d  %s%n", e.getValue(), safe(e.getKey()));
    }
  }

  /** Control characters as {@code ?}: nothing a caller chose may steer the reader's terminal. */
  static String safe(String value) {
    StringBuilder b = new StringBuilder(value.length());
    value.codePoints().forEach(c -> b.appendCodePoint(Character.isISOControl(c) || bidi(c) ? '?' : c));
    return b.toString();
  }

  static boolean bidi(int c) {
    return (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) || c == 0x200e || c == 0x200f || c == 0x061c;
  }
}

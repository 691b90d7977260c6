package dev.vertexproxy.proxy.cli.report;

import java.io.PrintWriter;
import java.util.List;
import java.util.Map;

/**
 * The report as GitHub-flavoured Markdown, to paste into an access-review ticket. Subjects, claims and paths are the
 * caller's to choose, so every value is escaped for a table cell: Markdown punctuation with a backslash, {@code |}
 * (which would split the cell) included, {@code < > &} as entities (GitHub renders inline HTML), line breaks as
 * spaces. Numbers and the report's own words are written as they are.
 */
public final class MarkdownReport {
  private MarkdownReport() {
  }

  public static void write(ReportData d, PrintWriter out) {
    out.println("# Audit report");
    out.println();
    out.printf("- Trails: %s%n", String.join(", ", d.dirs().stream().map(p -> code(p.toString())).toList()));
    out.printf("- Period: %s .. %s%n", d.since() == null ? "(start)" : d.since(), d.until() == null ? "(end)" : d.until());
    out.printf("- Records in period: %d%s%n", d.records, d.records == 0 ? "" : " (" + esc(d.first) + " .. "
        + esc(d.last) + ")");
    out.printf("- Calls: %d, denied: %d, identities: %d (%d first seen in this period)%n", d.calls, d.denied,
        d.identities.size(), d.newIdentities().size());

    section(out, "Chains");
    header(out, "chain", "directory", "verifies", "records in trail", "in period", "last seq", "last hash");
    for (ReportData.Chain c : d.chains) {
      row(out, c.chainId().isEmpty() ? "(none)" : esc(c.chainId()), code(c.dir().toString()),
          c.verify().ok() ? "yes" : "**NO**: " + esc(c.verify().firstProblem()), c.verify().records(),
          c.recordsInPeriod(), c.verify().lastSeq(), code(c.verify().lastHash()));
    }

    section(out, "Calls by model");
    header(out, "model", "calls", "denied");
    for (Map.Entry<String, ReportData.Calls> e : d.rankedModels()) {
      row(out, e.getKey().isEmpty() ? "- (names no model)" : esc(e.getKey()), e.getValue().calls, e.getValue().denied);
    }

    section(out, "Calls by identity, method and model");
    header(out, "identity", "method", "model", "calls", "denied");
    for (Map.Entry<ReportData.CallKey, ReportData.Calls> e : d.rankedCalls()) {
      row(out, esc(e.getKey().identity()), esc(e.getKey().method()),
          e.getKey().model().isEmpty() ? "-" : esc(e.getKey().model()), e.getValue().calls, e.getValue().denied);
    }

    section(out, "Denials (" + d.denied + ")");
    if (!d.denials.isEmpty()) {
      header(out, "time", "identity", "call", "model or resource", "reason", "status", "request id");
      for (ReportData.Denial x : d.denials) {
        row(out, esc(x.time()), esc(x.identity()), esc((x.httpMethod() + " " + x.method()).trim()), esc(x.target()),
            esc(x.reason()), esc(x.status()), code(x.requestId()));
      }
    }
    if (d.denied > d.denials.size()) {
      out.printf("%n%d more not listed: `%s`%n", d.denied - d.denials.size(), Queries.denials(d).replace("`", "'"));
    }
    if (!d.deniedByReason.isEmpty()) {
      out.println();
      header(out, "reason", "denials");
      for (Map.Entry<String, Long> e : ReportData.ranked(d.deniedByReason)) {
        row(out, esc(e.getKey()), e.getValue());
      }
    }

    List<Map.Entry<String, ReportData.Identity>> fresh = d.newIdentities();
    section(out, "Identities first seen in this period (" + fresh.size() + " of " + d.identities.size() + ")");
    header(out, "identity", "first call", "calls", "seen before the period");
    for (Map.Entry<String, ReportData.Identity> e : d.identities.entrySet()) {
      ReportData.Identity i = e.getValue();
      row(out, esc(e.getKey()), esc(i.firstInPeriod), i.calls, i.seenBefore ? "yes, since " + esc(i.firstEver) : "**no**");
    }

    section(out, "Service accounts used");
    header(out, "service account", "calls", "identities");
    for (Map.Entry<String, ReportData.Account> e : d.accounts.entrySet()) {
      StringBuilder who = new StringBuilder();
      for (Map.Entry<String, Long> i : ReportData.topIdentities(e.getValue())) {
        who.append(who.length() == 0 ? "" : "<br>").append(esc(i.getKey())).append(" (").append(i.getValue()).append(')');
      }
      int more = e.getValue().identities.size() - ReportData.IDENTITIES_PER_ACCOUNT;
      if (more > 0) {
        who.append("<br>and ").append(more).append(" more");
      }
      row(out, esc(e.getKey()), e.getValue().calls, who);
    }

    section(out, "Errors and unavailability");
    if (d.troubles.isEmpty()) {
      out.println("None: every allowed call was answered.");
    } else {
      header(out, "outcome", "reason", "calls");
      for (Map.Entry<String, Long> e : ReportData.ranked(d.troubles)) {
        String[] parts = e.getKey().split(" ", 2);
        row(out, esc(parts[0]), esc(parts.length > 1 ? parts[1] : ""), e.getValue());
      }
    }
    out.flush();
  }

  private static void section(PrintWriter out, String title) {
    out.printf("%n## %s%n%n", title);
  }

  private static void header(PrintWriter out, String... names) {
    out.println("| " + String.join(" | ", names) + " |");
    out.println("|" + "---|".repeat(names.length));
  }

  private static void row(PrintWriter out, Object... cells) {
    StringBuilder line = new StringBuilder("|");
    for (Object cell : cells) {
      line.append(' ').append(cell).append(" |");
    }
    out.println(line);
  }

  /** A value as literal text in a table cell. */
  static String esc(String value) {
    if (value == null) {
      return "";
    }
    StringBuilder b = new StringBuilder(value.length() + 8);
    value.codePoints().forEach(c -> {
      switch (c) {
        case '<' -> b.append("&lt;");
        case '>' -> b.append("&gt;");
        case '&' -> b.append("&amp;");
        case '\n', '\r', '\t' -> b.append(' ');
        default -> {
          if ("\\`*_{}[]()#!|~$".indexOf(c) >= 0) {
            b.append('\\');
          }
          b.appendCodePoint(Character.isISOControl(c) || TextReport.bidi(c) ? '?' : c);
        }
      }
    });
    return b.toString();
  }

  /** A value known to be plain (a path, a hash, a generated id) as code; anything else is escaped instead. */
  static String code(String value) {
    return value != null && value.matches("[A-Za-z0-9._/:@=+-]+") ? "`" + value + "`" : esc(value);
  }
}

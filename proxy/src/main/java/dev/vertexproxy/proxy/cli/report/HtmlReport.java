package dev.vertexproxy.proxy.cli.report;

import java.util.List;
import java.util.Map;

/**
 * The report as one self-contained HTML page, to attach to a review or open from a bucket: inline CSS, charts as
 * inline SVG ({@link SvgCharts}), no script, font, image or stylesheet from anywhere, and a Content-Security-Policy
 * that forbids them ({@code default-src 'none'}), so a page that lands in a browser can neither run nor fetch
 * anything. Every recorded value is HTML-escaped: a subject like {@code <script>} is shown as text.
 */
public final class HtmlReport {
  static final String CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";
  private static final int TOP = 10;

  private HtmlReport() {
  }

  public static String render(ReportData d) {
    StringBuilder h = new StringBuilder(64 * 1024);
    h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
        .append("<meta http-equiv=\"Content-Security-Policy\" content=\"").append(CSP).append("\">")
        .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
        .append("<title>vertex-proxy audit report</title><style>").append(STYLE).append("</style></head><body>\n");
    h.append("<h1>Audit report</h1><dl class=\"summary\">");
    term(h, "Trails", String.join(", ", d.dirs().stream().map(Object::toString).toList()));
    term(h, "Period", (d.since() == null ? "(start)" : d.since().toString()) + " .. "
        + (d.until() == null ? "(end)" : d.until().toString()));
    term(h, "Records in period", d.records + (d.records == 0 ? "" : " (" + d.first + " .. " + d.last + ")"));
    term(h, "Calls", d.calls + " (" + d.denied + " denied)");
    term(h, "Identities", d.identities.size() + " (" + d.newIdentities().size() + " first seen in this period)");
    h.append("</dl>\n");

    h.append("<h2>Chains</h2>");
    table(h, List.of("chain", "directory", "verifies", "records in trail", "in period", "last seq", "last hash"));
    for (ReportData.Chain c : d.chains) {
      h.append("<tr").append(c.verify().ok() ? "" : " class=\"bad\"").append('>');
      cells(h, c.chainId().isEmpty() ? "(none)" : c.chainId(), c.dir().toString(),
          c.verify().ok() ? "yes" : "NO: " + c.verify().firstProblem(), c.verify().records(), c.recordsInPeriod(),
          c.verify().lastSeq());
      h.append("<td><code>").append(esc(c.verify().lastHash())).append("</code></td></tr>");
    }
    h.append("</table>\n");

    h.append("<h2>Calls over time</h2>").append(SvgCharts.overTime("chart-calls", d.series()));
    h.append("<h2>Top identities</h2>").append(SvgCharts.bars("chart-identities", "Top identities by calls",
        top(ReportData.ranked(d.byCaller)), SvgCharts.BAR));
    h.append("<h2>Denials by reason</h2>").append(SvgCharts.bars("chart-denials", "Denials by reason",
        top(ReportData.ranked(d.deniedByReason)), SvgCharts.DENIED));

    h.append("\n<h2>Calls by model</h2>");
    table(h, List.of("model", "calls", "denied"));
    for (Map.Entry<String, ReportData.Calls> e : d.rankedModels()) {
      h.append("<tr>");
      cells(h, e.getKey().isEmpty() ? "- (names no model)" : e.getKey(), e.getValue().calls, e.getValue().denied);
      h.append("</tr>");
    }
    h.append("</table>\n");

    h.append("\n<h2>Calls by identity, method and model</h2>");
    table(h, List.of("identity", "method", "model", "calls", "denied"));
    for (Map.Entry<ReportData.CallKey, ReportData.Calls> e : d.rankedCalls()) {
      h.append("<tr>");
      cells(h, e.getKey().identity(), e.getKey().method(), e.getKey().model().isEmpty() ? "-" : e.getKey().model(),
          e.getValue().calls, e.getValue().denied);
      h.append("</tr>");
    }
    h.append("</table>\n");

    h.append("<h2>Denials (").append(d.denied).append(")</h2>");
    table(h, List.of("time", "identity", "call", "model or resource", "reason", "status", "request id"));
    for (ReportData.Denial x : d.denials) {
      h.append("<tr>");
      cells(h, x.time(), x.identity(), (x.httpMethod() + " " + x.method()).trim(), x.target(), x.reason(), x.status(),
          x.requestId());
      h.append("</tr>");
    }
    h.append("</table>");
    if (d.denied > d.denials.size()) {
      h.append("<p>").append(d.denied - d.denials.size()).append(" more not listed: <code>")
          .append(esc(Queries.denials(d))).append("</code></p>");
    }

    h.append("\n<h2>Identities in this period</h2>");
    table(h, List.of("identity", "first call", "calls", "seen before the period"));
    for (Map.Entry<String, ReportData.Identity> e : d.identities.entrySet()) {
      ReportData.Identity i = e.getValue();
      h.append("<tr").append(i.seenBefore ? "" : " class=\"new\"").append('>');
      cells(h, e.getKey(), i.firstInPeriod, i.calls, i.seenBefore ? "yes, since " + i.firstEver : "no — new");
      h.append("</tr>");
    }
    h.append("</table>\n");

    h.append("<h2>Service accounts used</h2>");
    table(h, List.of("service account", "calls", "identities"));
    for (Map.Entry<String, ReportData.Account> e : d.accounts.entrySet()) {
      h.append("<tr>");
      cells(h, e.getKey(), e.getValue().calls);
      h.append("<td>");
      for (Map.Entry<String, Long> i : ReportData.topIdentities(e.getValue())) {
        h.append(esc(i.getKey())).append(" (").append(i.getValue()).append(")<br>");
      }
      int more = e.getValue().identities.size() - ReportData.IDENTITIES_PER_ACCOUNT;
      if (more > 0) {
        h.append("and ").append(more).append(" more");
      }
      h.append("</td></tr>");
    }
    h.append("</table>\n");

    h.append("<h2>Errors and unavailability</h2>");
    if (d.troubles.isEmpty()) {
      h.append("<p>None: every allowed call was answered.</p>");
    } else {
      table(h, List.of("outcome", "reason", "calls"));
      for (Map.Entry<String, Long> e : ReportData.ranked(d.troubles)) {
        String[] parts = e.getKey().split(" ", 2);
        h.append("<tr>");
        cells(h, parts[0], parts.length > 1 ? parts[1] : "", e.getValue());
        h.append("</tr>");
      }
      h.append("</table>");
    }
    return h.append("\n</body></html>\n").toString();
  }

  private static List<Map.Entry<String, Long>> top(List<Map.Entry<String, Long>> ranked) {
    return ranked.subList(0, Math.min(TOP, ranked.size()));
  }

  private static void term(StringBuilder h, String name, String value) {
    h.append("<dt>").append(esc(name)).append("</dt><dd>").append(esc(value)).append("</dd>");
  }

  private static void table(StringBuilder h, List<String> headers) {
    h.append("<table><tr>");
    headers.forEach(name -> h.append("<th>").append(esc(name)).append("</th>"));
    h.append("</tr>");
  }

  private static void cells(StringBuilder h, Object... values) {
    for (Object value : values) {
      boolean number = value instanceof Number;
      h.append(number ? "<td class=\"n\">" : "<td>").append(esc(String.valueOf(value))).append("</td>");
    }
  }

  /** Text for HTML content and attribute values: {@code & < > " '} as entities, control characters as U+FFFD. */
  static String esc(String value) {
    if (value == null) {
      return "";
    }
    StringBuilder b = new StringBuilder(value.length() + 16);
    value.codePoints().forEach(c -> {
      switch (c) {
        case '&' -> b.append("&amp;");
        case '<' -> b.append("&lt;");
        case '>' -> b.append("&gt;");
        case '"' -> b.append("&quot;");
        case '\'' -> b.append("&#39;");
        default -> b.appendCodePoint(c < 0x20 && c != '\t' || c >= 0x7f && c <= 0x9f ? 0xfffd : c);
      }
    });
    return b.toString();
  }

  private static final String STYLE = "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;color:#111827;"
      + "margin:24px auto;max-width:1100px;padding:0 16px}h1{font-size:24px}h2{font-size:18px;margin-top:28px}"
      + "table{border-collapse:collapse;margin:8px 0;width:100%}th,td{border:1px solid #d1d5db;padding:4px 8px;"
      + "text-align:left;vertical-align:top;overflow-wrap:anywhere}th{background:#f3f4f6}td.n{text-align:right;"
      + "font-variant-numeric:tabular-nums}tr.bad td{background:#fee2e2}tr.new td{background:#fef9c3}"
      + "dl.summary{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px}dt{font-weight:600}dd{margin:0}"
      + "svg{display:block;max-width:100%;height:auto;border:1px solid #e5e7eb}code{font-size:12px}";
}

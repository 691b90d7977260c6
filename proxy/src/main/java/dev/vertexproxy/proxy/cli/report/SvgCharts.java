package dev.vertexproxy.proxy.cli.report;

import java.time.Duration;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The report's charts as inline SVG, drawn here so the page needs no script, font or image from anywhere: calls over
 * time (a line with a point per bucket, denials beside it) and horizontal bar charts. Every label goes through
 * {@link HtmlReport#esc}: identities and reasons are the caller's text. Stateless.
 */
final class SvgCharts {
  static final String CALLS = "#2563eb";
  static final String DENIED = "#dc2626";
  static final String BAR = "#0d9488";
  private static final int WIDTH = 760;
  private static final DateTimeFormatter DAY = DateTimeFormatter.ofPattern("yyyy-MM-dd", Locale.ROOT)
      .withZone(ZoneOffset.UTC);
  private static final DateTimeFormatter MINUTE = DateTimeFormatter.ofPattern("MM-dd HH:mm", Locale.ROOT)
      .withZone(ZoneOffset.UTC);

  private SvgCharts() {
  }

  /** Calls and denials per bucket; an empty period draws the axes and says so. */
  static String overTime(String id, List<TimeBuckets.Bucket> buckets) {
    int height = 260;
    int left = 56;
    int right = 48; // room for the last time label, centred on the last point
    int top = 24;
    int bottom = 48;
    double plotW = WIDTH - left - right;
    double plotH = height - top - bottom;
    long max = Math.max(1, buckets.stream().mapToLong(TimeBuckets.Bucket::calls).max().orElse(0));
    StringBuilder svg = open(id, WIDTH, height, "Calls over time");
    svg.append(axes(left, top, plotW, plotH));
    svg.append(text(left - 6, top + 4, "end", Long.toString(max)));
    svg.append(text(left - 6, top + plotH + 4, "end", "0"));
    if (buckets.isEmpty()) {
      svg.append(text(left + plotW / 2, top + plotH / 2, "middle", "no calls in this period"));
      return svg.append("</svg>").toString();
    }
    double dx = buckets.size() == 1 ? 0 : plotW / (buckets.size() - 1);
    StringBuilder calls = new StringBuilder();
    StringBuilder denied = new StringBuilder();
    StringBuilder points = new StringBuilder();
    boolean days = buckets.get(0).step().compareTo(Duration.ofDays(1)) >= 0;
    for (int i = 0; i < buckets.size(); i++) {
      TimeBuckets.Bucket b = buckets.get(i);
      double x = left + (buckets.size() == 1 ? plotW / 2 : i * dx);
      double yCalls = top + plotH - plotH * b.calls() / max;
      double yDenied = top + plotH - plotH * b.denied() / max;
      calls.append(i == 0 ? "M" : " L").append(f(x)).append(',').append(f(yCalls));
      denied.append(i == 0 ? "M" : " L").append(f(x)).append(',').append(f(yDenied));
      String when = (days ? DAY : MINUTE).format(b.start());
      points.append("<circle class=\"point\" cx=\"").append(f(x)).append("\" cy=\"").append(f(yCalls))
          .append("\" r=\"3\" fill=\"").append(CALLS).append("\"><title>").append(HtmlReport.esc(when)).append(": ")
          .append(b.calls()).append(" calls, ").append(b.denied()).append(" denied</title></circle>");
      if (b.denied() > 0) {
        points.append("<circle class=\"point denied\" cx=\"").append(f(x)).append("\" cy=\"").append(f(yDenied))
            .append("\" r=\"3\" fill=\"").append(DENIED).append("\"/>");
      }
      int every = Math.max(1, buckets.size() / 6);
      if (i % every == 0) {
        svg.append(text(x, top + plotH + 18, "middle", when));
      }
    }
    svg.append("<path d=\"").append(calls).append("\" fill=\"none\" stroke=\"").append(CALLS)
        .append("\" stroke-width=\"2\"/>");
    svg.append("<path d=\"").append(denied).append("\" fill=\"none\" stroke=\"").append(DENIED)
        .append("\" stroke-width=\"2\" stroke-dasharray=\"4 3\"/>");
    svg.append(points);
    svg.append(text(left, height - 8, "start", "bucket: " + human(buckets.get(0).step())
        + " (UTC) — solid: calls, dashed: denied"));
    return svg.append("</svg>").toString();
  }

  /** One horizontal bar per entry, longest first as given; labels shortened to fit. */
  static String bars(String id, String title, List<Map.Entry<String, Long>> entries, String color) {
    int rowH = 26;
    int left = 300;
    int right = 70;
    int top = 12;
    int height = top * 2 + Math.max(1, entries.size()) * rowH;
    double plotW = WIDTH - left - right;
    long max = Math.max(1, entries.stream().mapToLong(Map.Entry::getValue).max().orElse(0));
    StringBuilder svg = open(id, WIDTH, height, title);
    if (entries.isEmpty()) {
      svg.append(text(WIDTH / 2.0, top + rowH / 2.0 + 4, "middle", "none in this period"));
    }
    for (int i = 0; i < entries.size(); i++) {
      Map.Entry<String, Long> e = entries.get(i);
      double y = top + i * rowH;
      double w = Math.max(2, plotW * e.getValue() / max);
      svg.append(text(left - 8, y + rowH / 2.0 + 4, "end", shorten(ReportData.shortIdentity(e.getKey()), 44)));
      svg.append("<rect class=\"bar\" x=\"").append(left).append("\" y=\"").append(f(y + 4)).append("\" width=\"")
          .append(f(w)).append("\" height=\"").append(rowH - 8).append("\" fill=\"").append(color).append("\"><title>")
          .append(HtmlReport.esc(e.getKey())).append(": ").append(e.getValue()).append("</title></rect>");
      svg.append(text(left + w + 6, y + rowH / 2.0 + 4, "start", Long.toString(e.getValue())));
    }
    return svg.append("</svg>").toString();
  }

  private static StringBuilder open(String id, int width, int height, String title) {
    return new StringBuilder(4096).append("<svg id=\"").append(id).append("\" xmlns=\"http://www.w3.org/2000/svg\"")
        .append(" width=\"").append(width).append("\" height=\"").append(height).append("\" viewBox=\"0 0 ")
        .append(width).append(' ').append(height).append("\" role=\"img\" aria-label=\"").append(HtmlReport.esc(title))
        .append("\"><rect x=\"0\" y=\"0\" width=\"").append(width).append("\" height=\"").append(height)
        .append("\" fill=\"#ffffff\"/>");
  }

  private static String axes(int left, int top, double w, double h) {
    return "<path d=\"M" + left + "," + top + " L" + left + "," + f(top + h) + " L" + f(left + w) + "," + f(top + h)
        + "\" fill=\"none\" stroke=\"#6b7280\" stroke-width=\"1\"/>";
  }

  private static String text(double x, double y, String anchor, String value) {
    return "<text x=\"" + f(x) + "\" y=\"" + f(y) + "\" text-anchor=\"" + anchor
        + "\" font-size=\"12\" fill=\"#111827\">" + HtmlReport.esc(value) + "</text>";
  }

  static String shorten(String value, int max) {
    int[] cps = value.codePoints().toArray();
    if (cps.length <= max) {
      return value;
    }
    int head = (max - 1) / 2;
    int tail = max - 1 - head;
    return new String(cps, 0, head) + "…" + new String(cps, cps.length - tail, tail);
  }

  private static String human(Duration step) {
    if (step.toDays() >= 1) {
      return step.toDays() + (step.toDays() == 1 ? " day" : " days");
    }
    if (step.toHours() >= 1) {
      return step.toHours() + (step.toHours() == 1 ? " hour" : " hours");
    }
    return step.toMinutes() + (step.toMinutes() == 1 ? " minute" : " minutes");
  }

  private static String f(double v) {
    return String.format(Locale.ROOT, "%.1f", v);
  }
}

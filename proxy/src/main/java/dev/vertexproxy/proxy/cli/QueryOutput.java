package dev.vertexproxy.proxy.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vertexproxy.proxy.audit.AuditReader;
import dev.vertexproxy.proxy.audit.RecordFilter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How {@code audit query} prints a record, one at a time (nothing is held back, so output starts at once and memory
 * stays flat). Every value that reaches a terminal or a spreadsheet came from a caller (a subject, a claim, a path),
 * so the table replaces control and bidirectional-override characters, and the CSV defuses cells a spreadsheet would
 * run as a formula.
 */
abstract class QueryOutput {
  final PrintWriter out;

  QueryOutput(PrintWriter out) {
    this.out = out;
  }

  static QueryOutput of(AuditQueryCommand.Format format, PrintWriter out) {
    return switch (format) {
      case table -> new Table(out);
      case csv -> new Csv(out);
      case json -> new Json(out);
    };
  }

  void header() {
  }

  abstract void write(AuditReader.Line line);

  /** The records as stored: the very bytes of the line, which are what the hash covers. */
  static final class Json extends QueryOutput {
    Json(PrintWriter out) {
      super(out);
    }

    @Override
    void write(AuditReader.Line line) {
      out.write(new String(line.bytes(), StandardCharsets.UTF_8));
      out.write('\n');
    }
  }

  /** One aligned line per record, for a person; long values are shortened in the middle. */
  static final class Table extends QueryOutput {
    private static final String ROW = "%-24s %-36s %-34s %-30s %-8s %-24s %6s %s%n";
    private static final Pattern GITLAB_SUBJECT = Pattern.compile("project_path:(.+):ref_type:[^:]+:ref:(.+)");

    Table(PrintWriter out) {
      super(out);
    }

    @Override
    void header() {
      out.printf(ROW, "TIME", "CALLER", "METHOD", "MODEL/RESOURCE", "DECISION", "RULE", "STATUS", "REQUEST_ID");
    }

    @Override
    void write(AuditReader.Line line) {
      ObjectNode r = line.record();
      String type = RecordFilter.typeOf(r);
      String method = switch (type) {
        case "exchange" -> text(r, "method");
        case "decision" -> text(r, "method") + " (decided)";
        default -> "(" + type + " seq " + r.path("seq").asText("?") + ")";
      };
      String target = r.hasNonNull("model") ? text(r, "model") : text(r, "resource");
      out.printf(ROW, cell(text(r, "time"), 24), cell(caller(r), 36), cell(method, 34), cell(target, 30),
          cell(text(r, "decision"), 8), cell(text(r, "rule"), 24), cell(text(r, "status"), 6),
          cell(text(r, "request_id"), 40));
    }

    /** {@code issuer:subject}, a GitLab job's subject as {@code issuer:project@ref}; "-" for no caller. */
    static String caller(ObjectNode r) {
      JsonNode caller = r.path("caller");
      if (!caller.isObject()) {
        return "-";
      }
      String subject = caller.path("subject").asText("?");
      Matcher gitlab = GITLAB_SUBJECT.matcher(subject);
      if (gitlab.matches()) {
        subject = gitlab.group(1) + "@" + gitlab.group(2);
      }
      return caller.path("issuer").asText("?") + ":" + subject;
    }

    private static String text(ObjectNode r, String key) {
      JsonNode node = r.get(key);
      return node == null || node.isNull() || !node.isValueNode() ? "-" : node.asText();
    }

    /** Safe for a terminal and at most {@code width} characters: the start and the end, which tell values apart. */
    static String cell(String value, int width) {
      String safe = printable(value);
      if (safe.codePointCount(0, safe.length()) <= width) {
        return safe;
      }
      int[] cps = safe.codePoints().toArray();
      int head = (width - 1) / 2;
      int tail = width - 1 - head;
      return new String(cps, 0, head) + "…" + new String(cps, cps.length - tail, tail);
    }

    /** Control characters (ESC starts terminal sequences) and bidi overrides (they reorder what is shown) as '?'. */
    static String printable(String value) {
      StringBuilder b = null;
      for (int i = 0; i < value.length(); i++) {
        char c = value.charAt(i);
        boolean unsafe = c < 0x20 || (c >= 0x7f && c <= 0x9f) || (c >= 0x202a && c <= 0x202e)
            || (c >= 0x2066 && c <= 0x2069) || c == 0x200e || c == 0x200f || c == 0x061c;
        if (unsafe && b == null) {
          b = new StringBuilder(value.length()).append(value, 0, i);
        }
        if (b != null) {
          b.append(unsafe ? '?' : c);
        }
      }
      return b == null ? value : b.toString();
    }
  }

  /** RFC 4180: a header row, CRLF line ends, quotes where needed; fixed columns whatever the record holds. */
  static final class Csv extends QueryOutput {
    static final List<String> COLUMNS = List.of("time", "request_id", "chain_id", "seq", "type", "issuer", "subject",
        "source_ip", "http_method", "method", "model", "resource", "project", "location", "decision", "outcome", "rule",
        "reason", "google_principal", "status", "duration_ms", "bytes_in", "bytes_out");

    Csv(PrintWriter out) {
      super(out);
    }

    @Override
    void header() {
      out.write(String.join(",", COLUMNS));
      out.write("\r\n");
    }

    @Override
    void write(AuditReader.Line line) {
      ObjectNode r = line.record();
      StringBuilder row = new StringBuilder(256);
      for (int i = 0; i < COLUMNS.size(); i++) {
        String column = COLUMNS.get(i);
        JsonNode node = switch (column) {
          case "issuer", "subject" -> r.path("caller").get(column);
          case "type" -> r.has("type") ? r.get("type") : null;
          default -> r.get(column);
        };
        if (i > 0) {
          row.append(',');
        }
        if (column.equals("type") && node == null) {
          row.append("exchange");
        } else if (node != null && !node.isNull() && node.isValueNode()) {
          row.append(node.isNumber() ? node.asText() : field(node.asText()));
        }
      }
      out.write(row.append("\r\n").toString());
    }

    /**
     * A text cell: a leading {@code = + - @}, tab or CR gets a {@code '} so a spreadsheet shows it instead of running
     * it as a formula (subjects and claims are the caller's to choose); quoted if it holds a comma, quote, CR or LF.
     */
    static String field(String value) {
      String cell = value;
      if (!cell.isEmpty() && "=+-@\t\r".indexOf(cell.charAt(0)) >= 0) {
        cell = "'" + cell;
      }
      if (cell.indexOf(',') >= 0 || cell.indexOf('"') >= 0 || cell.indexOf('\r') >= 0 || cell.indexOf('\n') >= 0) {
        return '"' + cell.replace("\"", "\"\"") + '"';
      }
      return cell;
    }
  }
}

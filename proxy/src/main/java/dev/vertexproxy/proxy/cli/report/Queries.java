package dev.vertexproxy.proxy.cli.report;

import java.nio.file.Path;

/** The {@code audit query} commands a report points to for what it does not list in full. */
final class Queries {
  private Queries() {
  }

  /** Every denial of the report's period. */
  static String denials(ReportData d) {
    StringBuilder command = new StringBuilder("vertex-proxy audit query");
    for (Path dir : d.dirs()) {
      command.append(' ').append(quoted(dir.toString()));
    }
    command.append(" --decision deny --type exchange");
    if (d.since() != null) {
      command.append(" --since ").append(d.since());
    }
    if (d.until() != null) {
      command.append(" --until ").append(d.until());
    }
    return command.toString();
  }

  /** POSIX-shell single quotes where a path needs them. */
  static String quoted(String value) {
    return value.matches("[A-Za-z0-9._/:=@+-]+") ? value : "'" + value.replace("'", "'\\''") + "'";
  }
}

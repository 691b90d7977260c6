package dev.vertexproxy.proxy.doctor;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Locale;

/**
 * What the doctor found: the rows in order, whether the configuration loaded at all, and both renderings — a table
 * for people, one JSON document for tools. Immutable.
 *
 * @param checks the rows
 * @param loaded whether proxy.yaml and the policy loaded (the other checks ran)
 */
public record DoctorReport(List<CheckResult> checks, boolean loaded) {
  private static final ObjectMapper JSON = new ObjectMapper();

  public DoctorReport {
    checks = List.copyOf(checks);
  }

  /** Nothing failed (warnings and skips do not count). */
  public boolean ok() {
    return loaded && checks.stream().noneMatch(c -> c.status() == CheckResult.Status.FAIL);
  }

  /** 0 when nothing failed, 1 when a check failed, 2 when the configuration or policy does not load. */
  public int exitCode() {
    return !loaded ? 2 : ok() ? 0 : 1;
  }

  /** {@code {"ok":bool,"checks":[{"check","target","status","detail","fix"}]}}, on one line. */
  public String json() {
    ObjectNode root = JSON.createObjectNode();
    root.put("ok", ok());
    ArrayNode rows = root.putArray("checks");
    for (CheckResult c : checks) {
      ObjectNode row = rows.addObject();
      row.put("check", c.check());
      row.put("target", c.target());
      row.put("status", c.status().name());
      row.put("detail", c.detail());
      row.put("fix", c.fix());
    }
    try {
      return JSON.writeValueAsString(root);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a tree of strings always serialises", e);
    }
  }

  /** A table (check, target, status, detail), each fix on the line below its row, then a one-line summary. */
  public String table() {
    int checkWidth = "CHECK".length();
    int targetWidth = "TARGET".length();
    for (CheckResult c : checks) {
      checkWidth = Math.max(checkWidth, c.check().length());
      targetWidth = Math.max(targetWidth, Math.min(c.target().length(), 60));
    }
    String format = "%-" + checkWidth + "s  %-" + targetWidth + "s  %-6s %s%n";
    StringBuilder out = new StringBuilder(String.format(Locale.ROOT, format, "CHECK", "TARGET", "STATUS", "DETAIL"));
    int[] counts = new int[CheckResult.Status.values().length];
    for (CheckResult c : checks) {
      counts[c.status().ordinal()]++;
      out.append(String.format(Locale.ROOT, format, c.check(), c.target(), c.status(), c.detail()));
      if (c.fix() != null) {
        out.append(" ".repeat(checkWidth + 2)).append("fix: ").append(c.fix()).append('\n');
      }
    }
    out.append(String.format(Locale.ROOT, "%n%d checks: %d passed, %d warnings, %d failed, %d skipped%s%n", checks.size(),
        counts[CheckResult.Status.PASS.ordinal()], counts[CheckResult.Status.WARN.ordinal()],
        counts[CheckResult.Status.FAIL.ordinal()], counts[CheckResult.Status.SKIP.ordinal()],
        loaded ? "" : " (the configuration does not load: nothing else was checked)"));
    return out.toString();
  }
}

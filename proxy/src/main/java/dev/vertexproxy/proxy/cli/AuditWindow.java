package dev.vertexproxy.proxy.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vertexproxy.proxy.audit.AuditReader;
import java.time.Instant;
import picocli.CommandLine.Option;

/** The time window {@code query} and {@code report} share (a picocli mixin). */
final class AuditWindow {
  @Option(names = "--since", paramLabel = "TIME", converter = AuditCommand.TimeConverter.class,
      description = "Records at or after TIME: RFC 3339 (2026-05-01T12:00:00Z), a date (2026-05-01, UTC) or an age"
          + " (30m, 24h, 7d).")
  Instant since;

  @Option(names = "--until", paramLabel = "TIME", converter = AuditCommand.TimeConverter.class,
      description = "Records before TIME (same forms as --since).")
  Instant until;

  boolean contains(ObjectNode record) {
    if (since == null && until == null) {
      return true;
    }
    Instant time = AuditReader.timeOf(record);
    return time != null && (since == null || !time.isBefore(since)) && (until == null || time.isBefore(until));
  }

  /** Whether a record's time is before the window (a record without a time is not). */
  boolean before(Instant time) {
    return since != null && time != null && time.isBefore(since);
  }
}

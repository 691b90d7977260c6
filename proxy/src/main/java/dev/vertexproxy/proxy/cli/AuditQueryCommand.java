package dev.vertexproxy.proxy.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vertexproxy.proxy.audit.AuditReader;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.concurrent.Callable;
import java.util.function.Predicate;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ExitCode;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code vertex-proxy audit query}: the records that match, oldest first. */
@Command(name = "query", mixinStandardHelpOptions = true,
    description = "Print the records that match every given filter, oldest first.")
final class AuditQueryCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Parameters(index = "0", paramLabel = "DIR", description = "The audit directory.")
  Path dir;

  @CommandLine.Mixin
  AuditWindow window;

  @Option(names = "--request-id", paramLabel = "ID",
      description = "request_id is ID (the x-vertex-proxy-request-id header and error.details of every refusal).")
  String requestId;

  @Option(names = "--subject", paramLabel = "GLOB", description = "caller.subject matches GLOB (* and ?).")
  String subject;

  @Option(names = "--issuer", paramLabel = "NAME", description = "caller.issuer is NAME.")
  String issuer;

  @Option(names = "--decision", paramLabel = "allow|deny", description = "decision is allow or deny.")
  AuditCommand.Decision decision;

  @Option(names = "--outcome", paramLabel = "allowed|refused|unavailable|failed",
      description = "outcome is allowed, refused, unavailable or failed.")
  AuditCommand.OutcomeOption outcome;

  @Option(names = "--method", paramLabel = "GLOB", description = "method matches GLOB, e.g. 'endpoints.*'.")
  String method;

  @Option(names = "--project", paramLabel = "P", description = "project is P.")
  String project;

  @Option(names = "--reason", paramLabel = "R", description = "reason is R, e.g. method-not-granted.")
  String reason;

  @Option(names = "--status", paramLabel = "N", description = "HTTP status is N.")
  Integer status;

  @Option(names = "--limit", paramLabel = "N", description = "Stop after N records.")
  Long limit;

  @Option(names = "--format", paramLabel = "json|table", defaultValue = "json",
      description = "json: the records as stored, one per line (default); table: one aligned line per record.")
  AuditCommand.Format format;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    if (!AuditCommand.requireDirectory(dir, err)) {
      return ExitCode.USAGE;
    }
    if (limit != null && limit < 0) {
      err.println("--limit: " + limit + " (expected: >= 0)");
      return ExitCode.USAGE;
    }
    Predicate<ObjectNode> filter = window::contains;
    filter = filter.and(text(null, "request_id", exact(requestId)));
    filter = filter.and(text("caller", "subject", glob(subject)));
    filter = filter.and(text("caller", "issuer", exact(issuer)));
    filter = filter.and(text(null, "decision", exact(decision == null ? null : decision.name().toLowerCase())));
    filter = filter.and(text(null, "outcome", exact(outcome == null ? null : outcome.name())));
    filter = filter.and(text(null, "method", glob(method)));
    filter = filter.and(text(null, "project", exact(project)));
    filter = filter.and(text(null, "reason", exact(reason)));
    filter = filter.and(text(null, "status", exact(status == null ? null : status.toString())));
    if (format == AuditCommand.Format.table) {
      out.println(tableRow("TIME", "SEQ", "DECISION", "STATUS", "REASON", "METHOD", "SUBJECT"));
    }
    long printed = 0;
    try (Stream<ObjectNode> records = AuditReader.records(dir)) {
      Iterator<ObjectNode> matching = records.filter(filter).iterator();
      while ((limit == null || printed < limit) && matching.hasNext()) {
        ObjectNode record = matching.next();
        out.println(format == AuditCommand.Format.table ? tableRow(record) : AuditCommand.JSON.writeValueAsString(record));
        printed++;
      }
    } catch (IOException | UncheckedIOException e) {
      err.println("cannot read " + dir + ": " + e.getMessage());
      return 1;
    }
    out.flush();
    return ExitCode.OK;
  }

  private static Predicate<String> exact(String wanted) {
    return wanted == null ? null : wanted::equals;
  }

  private static Predicate<String> glob(String glob) {
    return glob == null ? null : AuditCommand.globPattern(glob).asMatchPredicate();
  }

  /** A filter on a text field ({@code parent.key} or top-level {@code key}); absent fields never match. */
  private static Predicate<ObjectNode> text(String parent, String key, Predicate<String> test) {
    if (test == null) {
      return record -> true;
    }
    return record -> {
      JsonNode node = parent == null ? record.get(key) : record.path(parent).get(key);
      return node != null && !node.isNull() && test.test(node.asText());
    };
  }

  private static String tableRow(ObjectNode r) {
    return tableRow(r.path("time").asText(""), r.path("seq").asText(""), r.path("decision").asText("-"),
        r.path("status").asText(""), r.path("reason").asText("-"), r.path("method").asText("-"),
        r.path("caller").path("subject").asText("-"));
  }

  private static String tableRow(String... cells) {
    return String.format("%-24s %8s %-8s %6s %-24s %-40s %s", (Object[]) cells);
  }
}

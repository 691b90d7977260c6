package dev.vertexproxy.proxy.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vertexproxy.proxy.audit.AuditReader;
import dev.vertexproxy.proxy.audit.RecordFilter;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
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

/**
 * {@code vertex-proxy audit query DIR…}: the records that match every filter, oldest first; several directories (one
 * per replica) are merged by time. Streams: memory stays constant however long the trails, and a selective filter
 * whose value is plain text (a request id, a subject without wildcards) skips non-matching lines before parsing them.
 */
@Command(name = "query", mixinStandardHelpOptions = true,
    description = "Print the records that match every given filter, oldest first; several DIRs (one per replica) are"
        + " merged by time. The writer's own records (checkpoint, seal, retention) are shown only with --type.")
final class AuditQueryCommand implements Callable<Integer> {
  enum Format { table, json, csv }

  @Spec
  CommandSpec spec;

  @Parameters(arity = "1..*", paramLabel = "DIR", description = "Audit directories (audit.dir), one per replica.")
  List<Path> dirs;

  @CommandLine.Mixin
  AuditWindow window;

  @Option(names = "--request-id", paramLabel = "ID",
      description = "request_id is ID (the x-vertex-proxy-request-id header and error.details of every refusal).")
  String requestId;

  @Option(names = "--subject", paramLabel = "GLOB", description = "caller.subject matches GLOB (* and ?).")
  String subject;

  @Option(names = "--issuer", paramLabel = "NAME", description = "caller.issuer is NAME.")
  String issuer;

  @Option(names = "--claim", paramLabel = "KEY=GLOB",
      description = "caller.claims.KEY matches GLOB (a list claim: any element); repeatable, all must match.")
  List<String> claims = new ArrayList<>();

  @Option(names = "--decision", paramLabel = "allow|deny", description = "decision is allow or deny.")
  AuditCommand.Decision decision;

  @Option(names = "--outcome", paramLabel = "allowed|refused|unavailable|failed",
      description = "outcome is allowed, refused, unavailable or failed.")
  AuditCommand.OutcomeOption outcome;

  @Option(names = "--method", paramLabel = "GLOB", description = "method matches GLOB, e.g. 'endpoints.*'.")
  String method;

  @Option(names = "--model", paramLabel = "GLOB", description = "model matches GLOB, e.g. 'gemini-2.5-*'.")
  String model;

  @Option(names = "--resource", paramLabel = "GLOB", description = "resource matches GLOB.")
  String resource;

  @Option(names = "--rule", paramLabel = "NAME|GLOB", description = "rule (the policy rule that decided) matches.")
  String rule;

  @Option(names = "--service-account", paramLabel = "EMAIL|GLOB",
      description = "google_principal (the service account Google saw) matches.")
  String serviceAccount;

  @Option(names = "--project", paramLabel = "P", description = "project is P.")
  String project;

  @Option(names = "--reason", paramLabel = "R", description = "reason is R, e.g. method-not-granted.")
  String reason;

  @Option(names = "--status", paramLabel = "N", description = "HTTP status is N.")
  Integer status;

  @Option(names = "--chain", paramLabel = "ID", description = "chain_id is ID (\"\" for records without one).")
  String chain;

  @Option(names = "--type", paramLabel = "TYPE", split = ",",
      description = "exchange, decision, checkpoint, seal, retention or all; repeatable or comma-separated"
          + " (default: exchange,decision).")
  List<String> types = new ArrayList<>();

  @Option(names = "--limit", paramLabel = "N", description = "Stop after N records.")
  Long limit;

  @Option(names = "--format", paramLabel = "table|json|csv",
      description = "table: one aligned line per record (default at a terminal); json: the records as stored, one per"
          + " line (default otherwise); csv: fixed columns with a header, safe to open in a spreadsheet.")
  Format format;

  private static final Set<String> KNOWN_TYPES = Set.of("exchange", "decision", "checkpoint", "seal", "retention");

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    for (Path dir : dirs) {
      if (!AuditCommand.requireDirectory(dir, err)) {
        return ExitCode.USAGE;
      }
    }
    if (limit != null && limit < 0) {
      err.println("--limit: " + limit + " (expected: >= 0)");
      return ExitCode.USAGE;
    }
    Predicate<ObjectNode> filter;
    try {
      filter = filter();
    } catch (IllegalArgumentException e) {
      err.println(e.getMessage());
      return ExitCode.USAGE;
    }
    QueryOutput output = QueryOutput.of(format == null ? defaultFormat(System.console() != null) : format, out);
    output.header();
    long printed = 0;
    try (Stream<AuditReader.Line> records = AuditReader.merged(dirs, prefilter())) {
      Iterator<AuditReader.Line> matching = records.filter(line -> filter.test(line.record())).iterator();
      while ((limit == null || printed < limit) && matching.hasNext()) {
        output.write(matching.next());
        printed++;
      }
    } catch (IOException | UncheckedIOException e) {
      out.flush();
      err.println("cannot read the audit trail: " + e.getMessage());
      return 1;
    }
    out.flush();
    return ExitCode.OK;
  }

  /** A table for a person at a terminal; JSON lines for a pipe (jq) or a file. */
  static Format defaultFormat(boolean terminal) {
    return terminal ? Format.table : Format.json;
  }

  private Predicate<ObjectNode> filter() {
    Predicate<ObjectNode> filter = RecordFilter.window(window.since, window.until);
    filter = filter.and(RecordFilter.types(types()));
    filter = filter.and(RecordFilter.field(null, "request_id", RecordFilter.exact(requestId)));
    filter = filter.and(RecordFilter.field("caller", "subject", RecordFilter.glob(subject)));
    filter = filter.and(RecordFilter.field("caller", "issuer", RecordFilter.exact(issuer)));
    filter = filter.and(RecordFilter.field(null, "decision",
        RecordFilter.exact(decision == null ? null : decision.name())));
    filter = filter.and(RecordFilter.field(null, "outcome", RecordFilter.exact(outcome == null ? null : outcome.name())));
    filter = filter.and(RecordFilter.field(null, "method", RecordFilter.glob(method)));
    filter = filter.and(RecordFilter.field(null, "model", RecordFilter.glob(model)));
    filter = filter.and(RecordFilter.field(null, "resource", RecordFilter.glob(resource)));
    filter = filter.and(RecordFilter.field(null, "rule", RecordFilter.glob(rule)));
    filter = filter.and(RecordFilter.field(null, "google_principal", RecordFilter.glob(serviceAccount)));
    filter = filter.and(RecordFilter.field(null, "project", RecordFilter.exact(project)));
    filter = filter.and(RecordFilter.field(null, "reason", RecordFilter.exact(reason)));
    filter = filter.and(RecordFilter.field(null, "status", RecordFilter.exact(status == null ? null : status.toString())));
    if (chain != null) {
      filter = filter.and(record -> RecordFilter.chainOf(record).equals(chain));
    }
    for (String claim : claims) {
      int eq = claim.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("--claim: '" + claim + "' (expected: KEY=GLOB, e.g. project_path=acme/ml/*)");
      }
      filter = filter.and(RecordFilter.claim(claim.substring(0, eq), RecordFilter.glob(claim.substring(eq + 1))));
    }
    return filter;
  }

  /** The types to show: null for all. */
  private Set<String> types() {
    if (types.isEmpty()) {
      return RecordFilter.CALLER_TYPES;
    }
    Set<String> wanted = new LinkedHashSet<>();
    for (String type : types) {
      String t = type.trim().toLowerCase(Locale.ROOT);
      if (t.equals("all")) {
        return null;
      }
      if (!KNOWN_TYPES.contains(t)) {
        throw new IllegalArgumentException("--type: '" + type
            + "' (expected: exchange, decision, checkpoint, seal, retention or all)");
      }
      wanted.add(t);
    }
    return wanted;
  }

  /**
   * Skips lines before parsing them (parsing is most of a query's time): a line outside the time window, or without
   * the plain text every filter value must contain. The parsed filter still decides every line that passes.
   */
  private Predicate<byte[]> prefilter() {
    List<String> literals = new ArrayList<>();
    for (String exact : new String[] {requestId, issuer, project, reason, decision == null ? null : decision.name(),
        outcome == null ? null : outcome.name(), status == null ? null : status.toString(), chain}) {
      literals.addAll(RecordFilter.literalsOf(exact)); // pieces of an exact value are in it too
    }
    for (String glob : new String[] {subject, method, model, resource, rule, serviceAccount}) {
      literals.addAll(RecordFilter.literalsOf(glob));
    }
    for (String claim : claims) {
      int eq = claim.indexOf('=');
      literals.addAll(RecordFilter.literalsOf(claim.substring(0, eq)));
      literals.addAll(RecordFilter.literalsOf(claim.substring(eq + 1)));
    }
    Predicate<byte[]> text = RecordFilter.containingAll(literals);
    Predicate<byte[]> time = RecordFilter.timeWindowBytes(window.since, window.until);
    return text == null ? time : time == null ? text : time.and(text);
  }
}

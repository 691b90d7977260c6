package dev.vertexproxy.proxy.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vertexproxy.proxy.audit.AuditReader;
import dev.vertexproxy.proxy.audit.AuditVerifier;
import dev.vertexproxy.proxy.audit.AuditVerifier.VerifyResult;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ExitCode;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code vertex-proxy audit verify|query|report DIR}: the compliance reviewer's tools over an audit directory.
 * Exit codes: 0 done (and, for verify/report, the chain is intact), 1 the chain is broken, 2 usage error or no such
 * directory. Output goes to the command line's {@code getOut()}/{@code getErr()} writers.
 */
@Command(name = "audit", mixinStandardHelpOptions = true,
    description = "Verify, search and summarize the hash-chained audit trail.",
    subcommands = {AuditCommand.Verify.class, AuditCommand.Query.class, AuditCommand.Report.class})
public final class AuditCommand implements Callable<Integer> {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getErr());
    return ExitCode.USAGE;
  }

  @Command(name = "verify", mixinStandardHelpOptions = true,
      description = "Recompute every hash and check that seqs are dense and each prev_hash links to the record before.")
  static final class Verify implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "DIR", description = "The audit directory (audit.dir in proxy.yaml).")
    Path dir;

    @Override
    public Integer call() {
      PrintWriter out = spec.commandLine().getOut();
      PrintWriter err = spec.commandLine().getErr();
      if (!requireDirectory(dir, err)) {
        return ExitCode.USAGE;
      }
      VerifyResult result = AuditVerifier.verify(dir);
      for (String warning : result.warnings()) {
        err.printf("warning: %s%n", warning);
      }
      err.flush();
      if (result.ok()) {
        out.printf("ok: %d records, chain intact (last seq %d, hash %s)%n",
            result.records(), result.lastSeq(), result.lastHash());
        out.flush();
        return ExitCode.OK;
      }
      err.printf("chain broken: %s%n", result.firstProblem());
      err.printf("(%d records verified before it; last good seq %d, hash %s)%n",
          result.records(), result.lastSeq(), result.lastHash());
      err.flush();
      return 1;
    }
  }

  /** The time window {@code query} and {@code report} share (a picocli mixin). */
  static final class Window {
    @Option(names = "--since", paramLabel = "TIME", converter = TimeConverter.class,
        description = "Records at or after TIME: RFC 3339 (2026-05-01T12:00:00Z), a date (2026-05-01, UTC) or an age"
            + " (30m, 24h, 7d).")
    Instant since;

    @Option(names = "--until", paramLabel = "TIME", converter = TimeConverter.class,
        description = "Records before TIME (same forms as --since).")
    Instant until;

    boolean contains(ObjectNode record) {
      if (since == null && until == null) {
        return true;
      }
      Instant time;
      try {
        time = Instant.parse(record.path("time").asText());
      } catch (DateTimeParseException e) {
        return false;
      }
      return (since == null || !time.isBefore(since)) && (until == null || time.isBefore(until));
    }
  }

  @Command(name = "query", mixinStandardHelpOptions = true,
      description = "Print the records that match every given filter, oldest first.")
  static final class Query implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "DIR", description = "The audit directory.")
    Path dir;

    @CommandLine.Mixin
    Window window;

    @Option(names = "--request-id", paramLabel = "ID",
        description = "request_id is ID (the x-vertex-proxy-request-id header and error.details of every refusal).")
    String requestId;

    @Option(names = "--subject", paramLabel = "GLOB", description = "caller.subject matches GLOB (* and ?).")
    String subject;

    @Option(names = "--issuer", paramLabel = "NAME", description = "caller.issuer is NAME.")
    String issuer;

    @Option(names = "--decision", paramLabel = "allow|deny", description = "decision is allow or deny.")
    Decision decision;

    @Option(names = "--outcome", paramLabel = "allowed|refused|unavailable|failed",
        description = "outcome is allowed, refused, unavailable or failed.")
    OutcomeOption outcome;

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
    Format format;

    @Override
    public Integer call() {
      PrintWriter out = spec.commandLine().getOut();
      PrintWriter err = spec.commandLine().getErr();
      if (!requireDirectory(dir, err)) {
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
      if (format == Format.table) {
        out.println(tableRow("TIME", "SEQ", "DECISION", "STATUS", "REASON", "METHOD", "SUBJECT"));
      }
      long printed = 0;
      try (Stream<ObjectNode> records = AuditReader.records(dir)) {
        Iterator<ObjectNode> matching = records.filter(filter).iterator();
        while ((limit == null || printed < limit) && matching.hasNext()) {
          ObjectNode record = matching.next();
          out.println(format == Format.table ? tableRow(record) : JSON.writeValueAsString(record));
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
      return glob == null ? null : globPattern(glob).asMatchPredicate();
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

  @Command(name = "report", mixinStandardHelpOptions = true,
      description = "Summarize a period for review: totals by decision, reason, method and caller, every denial,"
          + " and whether the chain verifies. Exits 1 if it does not.")
  static final class Report implements Callable<Integer> {
    private static final int DENIALS_SHOWN = 200;

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "DIR", description = "The audit directory.")
    Path dir;

    @CommandLine.Mixin
    Window window;

    @Override
    public Integer call() {
      PrintWriter out = spec.commandLine().getOut();
      PrintWriter err = spec.commandLine().getErr();
      if (!requireDirectory(dir, err)) {
        return ExitCode.USAGE;
      }
      Map<String, Long> byDecision = new HashMap<>();
      Map<String, Long> byOutcome = new HashMap<>();
      Map<String, Long> byReason = new HashMap<>();
      Map<String, Long> byMethod = new HashMap<>();
      Map<String, Long> bySubject = new HashMap<>();
      Map<String, Long> byProjectPath = new HashMap<>();
      List<String> denials = new ArrayList<>();
      long total = 0;
      long denied = 0;
      String first = null;
      String last = null;
      try (Stream<ObjectNode> records = AuditReader.records(dir)) {
        for (Iterator<ObjectNode> it = records.filter(window::contains).iterator(); it.hasNext(); ) {
          ObjectNode r = it.next();
          total++;
          String time = r.path("time").asText("?");
          first = first == null ? time : first;
          last = time;
          JsonNode caller = r.path("caller");
          String who = caller.isObject()
              ? caller.path("issuer").asText("?") + " " + caller.path("subject").asText("?")
              : "(unauthenticated)";
          byDecision.merge(r.path("decision").asText("(none)"), 1L, Long::sum);
          byOutcome.merge(r.path("outcome").asText("(none)"), 1L, Long::sum);
          byReason.merge(r.path("reason").asText("(none)"), 1L, Long::sum);
          byMethod.merge(r.path("method").asText("(no method)"), 1L, Long::sum);
          bySubject.merge(who, 1L, Long::sum);
          JsonNode projectPath = caller.path("claims").path("project_path");
          if (projectPath.isTextual()) {
            byProjectPath.merge(projectPath.asText(), 1L, Long::sum);
          }
          if ("deny".equals(r.path("decision").asText())) {
            denied++;
            if (denials.size() < DENIALS_SHOWN) {
              denials.add(String.format("  %s  seq %s  %s  %s %s  %s  %s", time, r.path("seq").asText(),
                  r.path("status").asText(), r.path("http_method").asText(""), r.path("method").asText("-"),
                  r.path("reason").asText("-"), who));
            }
          }
        }
      } catch (IOException | UncheckedIOException e) {
        err.println("cannot read " + dir + ": " + e.getMessage());
        return 1;
      }
      VerifyResult chain = AuditVerifier.verify(dir);

      out.printf("Audit report for %s%n", dir);
      out.printf("Period: %s .. %s%n", window.since == null ? "(start)" : window.since,
          window.until == null ? "(end)" : window.until);
      out.printf("Records in period: %d%s%n", total, total == 0 ? "" : " (" + first + " .. " + last + ")");
      out.println(chain.ok()
          ? String.format("Chain: intact, %d records in the trail (last seq %d, hash %s)",
              chain.records(), chain.lastSeq(), chain.lastHash())
          : "Chain: BROKEN — " + chain.firstProblem());
      printCounts(out, "By decision", byDecision);
      printCounts(out, "By outcome", byOutcome);
      printCounts(out, "By reason", byReason);
      printCounts(out, "By method", byMethod);
      printCounts(out, "By caller (issuer subject)", bySubject);
      if (!byProjectPath.isEmpty()) {
        printCounts(out, "By project_path claim", byProjectPath);
      }
      out.printf("%nDenials (%d)%n", denied);
      denials.forEach(out::println);
      if (denied > denials.size()) {
        out.printf("  ... and %d more: audit query %s --decision deny%n", denied - denials.size(), dir);
      }
      out.flush();
      return chain.ok() ? ExitCode.OK : 1;
    }

    private static void printCounts(PrintWriter out, String title, Map<String, Long> counts) {
      out.printf("%n%s%n", title);
      counts.entrySet().stream()
          .sorted(Map.Entry.<String, Long>comparingByValue(Comparator.reverseOrder())
              .thenComparing(Map.Entry.comparingByKey()))
          .forEach(entry -> out.printf("  %8d  %s%n", entry.getValue(), entry.getKey()));
    }
  }

  enum Decision { allow, deny }

  /** The values of a record's {@code outcome} (see {@link dev.vertexproxy.proxy.reason.Outcome}). */
  enum OutcomeOption { allowed, refused, unavailable, failed }

  enum Format { json, table }

  private static boolean requireDirectory(Path dir, PrintWriter err) {
    if (!Files.isDirectory(dir)) {
      err.println(dir + ": no such directory");
      err.flush();
      return false;
    }
    return true;
  }

  /** Shell-style glob: {@code *} any run of characters (slashes included), {@code ?} one character. */
  static Pattern globPattern(String glob) {
    StringBuilder regex = new StringBuilder();
    Matcher parts = Pattern.compile("[*?]|[^*?]+").matcher(glob);
    while (parts.find()) {
      String part = parts.group();
      regex.append(part.equals("*") ? ".*" : part.equals("?") ? "." : Pattern.quote(part));
    }
    return Pattern.compile(regex.toString(), Pattern.DOTALL);
  }

  /** RFC 3339 instants, UTC dates, or ages like 30m/24h/7d counted back from now. */
  static final class TimeConverter implements CommandLine.ITypeConverter<Instant> {
    private static final Clock CLOCK = Clock.systemUTC();
    private static final Pattern AGE = Pattern.compile("(\\d+)([smhd])");

    @Override
    public Instant convert(String value) {
      Matcher age = AGE.matcher(value);
      if (age.matches()) {
        long amount = Long.parseLong(age.group(1));
        Duration duration = switch (age.group(2)) {
          case "s" -> Duration.ofSeconds(amount);
          case "m" -> Duration.ofMinutes(amount);
          case "h" -> Duration.ofHours(amount);
          default -> Duration.ofDays(amount);
        };
        return CLOCK.instant().minus(duration);
      }
      try {
        return Instant.parse(value);
      } catch (DateTimeParseException notAnInstant) {
        try {
          return LocalDate.parse(value).atStartOfDay(ZoneOffset.UTC).toInstant();
        } catch (DateTimeParseException notADate) {
          throw new CommandLine.TypeConversionException(
              "'" + value + "' (expected: RFC 3339 like 2026-05-01T12:00:00Z, a date like 2026-05-01, or 24h/7d)");
        }
      }
    }
  }
}

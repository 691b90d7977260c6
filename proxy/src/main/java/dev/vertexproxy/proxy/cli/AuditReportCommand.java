package dev.vertexproxy.proxy.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vertexproxy.proxy.audit.AuditReader;
import dev.vertexproxy.proxy.audit.AuditVerifier;
import dev.vertexproxy.proxy.audit.AuditVerifier.VerifyResult;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ExitCode;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code vertex-proxy audit report}: a period summarized for an access review. */
@Command(name = "report", mixinStandardHelpOptions = true,
    description = "Summarize a period for review: totals by decision, reason, method and caller, every denial,"
        + " and whether the chain verifies. Exits 1 if it does not.")
final class AuditReportCommand implements Callable<Integer> {
  private static final int DENIALS_SHOWN = 200;

  @Spec
  CommandSpec spec;

  @Parameters(index = "0", paramLabel = "DIR", description = "The audit directory.")
  Path dir;

  @CommandLine.Mixin
  AuditWindow window;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    if (!AuditCommand.requireDirectory(dir, err)) {
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

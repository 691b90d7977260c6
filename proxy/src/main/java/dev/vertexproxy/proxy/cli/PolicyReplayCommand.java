package dev.vertexproxy.proxy.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vertexproxy.policy.Policy;
import dev.vertexproxy.proxy.audit.AuditReader;
import dev.vertexproxy.proxy.cli.replay.Replay;
import dev.vertexproxy.proxy.cli.replay.ReplayReport;
import dev.vertexproxy.proxy.cli.replay.ReplayText;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code vertex-proxy policy replay --audit DIR… --policy DRAFT}: re-decides every request the trails recorded under a
 * draft policy and reports what would change, before the draft is merged. Streams the trails (several directories,
 * one per replica, merged by time; rotated and {@code .jsonl.gz} files included), so memory stays flat however long
 * they are. A line that is not a JSON record is counted and reported, never fatal.
 *
 * <p>Exit codes: 0 no request's verdict changes; 1 some verdict changes (with {@code --fail-on-widen}: 1 if and only
 * if some request is newly allowed, or was denied and cannot be re-decided because the draft looks at a claim the trail
 * holds redacted, so a draft that only narrows passes the gate); 2 the input could not be used (an
 * invalid draft, a directory that does not exist or cannot be read).
 */
@Command(name = "replay", mixinStandardHelpOptions = true,
    description = "Re-decide the requests recorded in audit trails under a draft policy and report what would change:"
        + " newly denied and newly allowed requests by identity, method and model, with examples.")
final class PolicyReplayCommand extends PolicyCommand.PolicyLoadingCommand {
  @Option(names = "--audit", required = true, paramLabel = "DIR",
      description = "An audit directory (audit.dir); repeat for one per replica.")
  List<Path> dirs;

  @Option(names = "--policy", required = true, paramLabel = "DRAFT", description = "The draft policy file.")
  Path draftFile;

  @Option(names = "--fail-on-widen",
      description = "Exit 1 if and only if some request would be newly allowed, or was denied and cannot be re-decided"
          + " (a merge request gate).")
  boolean failOnWiden;

  @Option(names = "--json", description = "Print the report as one JSON object (documented in docs/policy.md).")
  boolean json;

  @Option(names = "--examples", paramLabel = "N", defaultValue = "" + Replay.DEFAULT_EXAMPLES,
      description = "Examples per group (default: ${DEFAULT-VALUE}).")
  int examples;

  @CommandLine.Mixin
  AuditWindow window;

  @Override
  public Integer call() {
    PrintWriter out = out();
    PrintWriter err = err();
    if (examples < 0) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--examples: " + examples + " (expected: >= 0)");
    }
    for (Path dir : dirs) {
      if (!AuditCommand.requireDirectory(dir, err)) {
        return PolicyCommand.UNUSABLE;
      }
    }
    Policy draft = load(draftFile);
    if (draft == null) {
      return PolicyCommand.UNUSABLE;
    }
    Replay replay = new Replay(draft, router(), examples);
    AtomicLong lines = new AtomicLong();
    long parsed = 0;
    try (Stream<AuditReader.Line> records = AuditReader.merged(dirs, bytes -> lines.incrementAndGet() > 0)) {
      Iterator<AuditReader.Line> it = records.iterator();
      while (it.hasNext()) {
        AuditReader.Line line = it.next();
        parsed++;
        if (window.contains(line.record())) {
          replay.accept(line.record());
        }
      }
    } catch (IOException | UncheckedIOException e) {
      err.println("cannot read the audit trail: " + e.getMessage());
      return PolicyCommand.UNUSABLE;
    }
    ReplayReport report = replay.finish();
    report.brokenLines(lines.get() - parsed);
    if (json) {
      try {
        out.println(new ObjectMapper().writerWithDefaultPrettyPrinter()
            .writeValueAsString(report.toJson(draftFile.toString())));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    } else {
      ReplayText.print(report, draftFile.toString(), out);
    }
    out.flush();
    if (failOnWiden) {
      // a request denied then and undecidable now may be allowed by the draft: the gate cannot pass what it cannot prove
      return report.newlyAllowed().count() > 0 || report.undecidableDenied() > 0 ? PolicyCommand.NEGATIVE : PolicyCommand.OK;
    }
    return report.verdictChanged() ? PolicyCommand.NEGATIVE : PolicyCommand.OK;
  }
}

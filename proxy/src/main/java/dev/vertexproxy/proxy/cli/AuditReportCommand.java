package dev.vertexproxy.proxy.cli;

import dev.vertexproxy.proxy.audit.AuditReader;
import dev.vertexproxy.proxy.audit.AuditVerifier;
import dev.vertexproxy.proxy.audit.AuditVerifier.VerifyResult;
import dev.vertexproxy.proxy.audit.RecordFilter;
import dev.vertexproxy.proxy.cli.report.HtmlReport;
import dev.vertexproxy.proxy.cli.report.MarkdownReport;
import dev.vertexproxy.proxy.cli.report.ReportData;
import dev.vertexproxy.proxy.cli.report.TextReport;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ExitCode;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code vertex-proxy audit report DIR…}: a period summarized for an access review, one chain per DIR. */
@Command(name = "report", mixinStandardHelpOptions = true,
    description = "Summarize a period for review: calls per identity, method and model, every denial, identities first"
        + " seen, service accounts used, errors, and whether each chain verifies. Exits 1 if one does not.")
final class AuditReportCommand implements Callable<Integer> {
  enum Format { text, markdown }

  @Spec
  CommandSpec spec;

  @Parameters(arity = "1..*", paramLabel = "DIR", description = "Audit directories (audit.dir), one per replica.")
  List<Path> dirs;

  @CommandLine.Mixin
  AuditWindow window;

  @Option(names = "--format", paramLabel = "text|markdown", defaultValue = "text",
      description = "text (default) or markdown (GitHub-flavoured tables, for a review ticket).")
  Format format;

  @Option(names = "--html", paramLabel = "FILE",
      description = "Also write the report as one self-contained HTML page with charts (no scripts, no external files).")
  Path html;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    for (Path dir : dirs) {
      if (!AuditCommand.requireDirectory(dir, err)) {
        return ExitCode.USAGE;
      }
    }
    ReportData data = new ReportData(dirs, window.since, window.until);
    // records before the period are read (was an identity seen before?), records after it are skipped unparsed
    try (Stream<AuditReader.Line> records = AuditReader.merged(dirs, RecordFilter.timeWindowBytes(null, window.until))) {
      for (Iterator<AuditReader.Line> it = records.iterator(); it.hasNext(); ) {
        data.accept(it.next());
      }
    } catch (IOException | UncheckedIOException e) {
      err.println("cannot read the audit trail: " + e.getMessage());
      return 1;
    }
    List<VerifyResult> verified = new ArrayList<>();
    List<String> chainIds = new ArrayList<>();
    for (Path dir : dirs) {
      verified.add(AuditVerifier.verify(dir));
      chainIds.add(chainIdFile(dir));
    }
    data.finish(verified, chainIds);

    if (format == Format.markdown) {
      MarkdownReport.write(data, out);
    } else {
      TextReport.write(data, out);
    }
    if (html != null) {
      try {
        writeAtomically(html, HtmlReport.render(data));
      } catch (IOException e) {
        err.println("cannot write " + html + ": " + e.getMessage());
        return 1;
      }
    }
    return data.allVerify() ? ExitCode.OK : 1;
  }

  /** The chain id the directory's {@code chain-id} file names, or null (a trail from before chain ids). */
  private static String chainIdFile(Path dir) {
    Path file = dir.resolve("chain-id");
    try {
      if (Files.isRegularFile(file)) {
        String id = Files.readString(file, StandardCharsets.UTF_8).trim();
        return id.matches("[A-Za-z0-9._-]{1,64}") ? id : null;
      }
    } catch (IOException e) {
      // the records' own chain_id stands in for it
    }
    return null;
  }

  /** A reader opening the page while it is written sees the old one or the new one, never half. */
  private static void writeAtomically(Path target, String content) throws IOException {
    Path absolute = target.toAbsolutePath();
    Path temp = absolute.resolveSibling(absolute.getFileName() + ".tmp");
    Files.writeString(temp, content, StandardCharsets.UTF_8);
    Files.move(temp, absolute, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }
}

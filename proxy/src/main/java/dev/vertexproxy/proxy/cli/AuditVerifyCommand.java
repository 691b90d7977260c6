package dev.vertexproxy.proxy.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vertexproxy.proxy.audit.AuditVerifier;
import dev.vertexproxy.proxy.audit.ChainReport;
import dev.vertexproxy.proxy.audit.Checkpoints;
import dev.vertexproxy.proxy.audit.VerifyOptions;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PublicKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ExitCode;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code vertex-proxy audit verify [--key PUB.pem]… [--checkpoints FILE]… DIR…}: is each trail complete, unedited and,
 * with keys, signed by the proxy? One block per directory (one chain per replica), then a summary line. Exit 0 only
 * if every chain verifies; 1 if any is broken; 2 for usage errors, a missing directory or an unreadable key.
 */
@Command(name = "verify", mixinStandardHelpOptions = true,
    description = {"Recompute every hash, check that seqs are dense and each prev_hash links to the record before;",
        "with --key, that every checkpoint is signed by that key; with --checkpoints, that the trail reaches the",
        "newest checkpoint kept outside it. One DIR per replica (each is its own chain)."})
final class AuditVerifyCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Parameters(arity = "1..*", paramLabel = "DIR", description = "An audit directory (audit.dir in proxy.yaml).")
  List<Path> dirs;

  @Option(names = "--key", paramLabel = "PUB.pem",
      description = "An Ed25519 public key (PEM) checkpoints may be signed with; repeat for rotated keys.")
  List<Path> keyFiles = new ArrayList<>();

  @Option(names = "--checkpoints", paramLabel = "FILE",
      description = "A copy of the checkpoints kept outside the proxy's host (audit.checkpoint.external.file).")
  List<Path> checkpointFiles = new ArrayList<>();

  @Option(names = "--max-checkpoint-gap", paramLabel = "DURATION", converter = GapConverter.class,
      description = "How long after the last checkpoint the last record may be in a trail without a shutdown"
          + " checkpoint (default: twice the checkpoint interval), e.g. 15m.")
  Duration maxCheckpointGap;

  @Option(names = "--json", description = "One JSON object with a report per chain, for machines.")
  boolean json;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    for (Path dir : dirs) {
      if (!AuditCommand.requireDirectory(dir, err)) {
        return ExitCode.USAGE;
      }
    }
    List<PublicKey> keys = new ArrayList<>();
    for (Path file : keyFiles) {
      try {
        keys.add(Checkpoints.readPublic(file));
      } catch (IOException e) {
        err.println("--key " + file + ": " + (Files.isRegularFile(file) ? e.getMessage() : "no such file"));
        err.flush();
        return ExitCode.USAGE;
      }
    }
    for (Path file : checkpointFiles) {
      if (!Files.isRegularFile(file)) {
        err.println("--checkpoints " + file + ": no such file");
        err.flush();
        return ExitCode.USAGE;
      }
    }
    VerifyOptions options = new VerifyOptions(keys, checkpointFiles, maxCheckpointGap);
    List<ChainReport> reports = new ArrayList<>();
    dirs.forEach(dir -> reports.add(AuditVerifier.verify(dir, options)));
    boolean ok = reports.stream().allMatch(ChainReport::ok);
    if (json) {
      printJson(out, reports, ok);
    } else {
      reports.forEach(report -> print(out, err, report, !keys.isEmpty()));
      long broken = reports.stream().filter(report -> !report.ok()).count();
      out.printf("summary: %d chain%s, %d intact, %d broken%n", reports.size(), reports.size() == 1 ? "" : "s",
          reports.size() - broken, broken);
    }
    out.flush();
    err.flush();
    return ok ? ExitCode.OK : 1;
  }

  private static void print(PrintWriter out, PrintWriter err, ChainReport report, boolean keyed) {
    String chain = report.chainId().isEmpty() ? "" : ", chain " + report.chainId();
    for (String warning : report.warnings()) {
      err.printf("warning: %s%n", warning);
    }
    err.flush();
    PrintWriter block;
    if (report.ok()) {
      block = out;
      out.printf("ok: %d records, chain intact (last seq %d, hash %s)%s%n", report.records(), report.lastSeq(),
          report.lastHash(), chain);
    } else {
      block = err;
      ChainReport.Verified before = report.beforeFirstProblem();
      err.printf("chain broken: %s%n", report.firstProblem());
      err.printf("(%d records verified before it; last good seq %d, hash %s)%s%n", before.records(), before.lastSeq(),
          before.lastHash(), chain);
      report.problems().stream().skip(1).forEach(problem -> err.printf("  also: %s%n", problem));
    }
    block.printf("  dir %s: %d file%s, seqs %d..%d%n", report.dir(), report.files(), report.files() == 1 ? "" : "s",
        report.firstSeq(), report.lastSeq());
    if (report.checkpoints() > 0) {
      block.printf("  checkpoints: %d, %s; last at seq %d (%s)%n", report.checkpoints(), keyed
          ? report.checkpointsVerified() + " verified by signature" : "signatures not checked (no --key)",
          report.lastCheckpointSeq(), report.lastCheckpointTime());
    }
    block.printf("  tail: %s%n", switch (report.tail()) {
      case CLOSED -> "closed by a shutdown checkpoint";
      case OPEN -> report.unsignedRecords() + (report.unsignedRecords() == 1 ? " record" : " records")
          + " after the last checkpoint, not signed yet";
      case CUT -> "cut (see above)";
      case UNSIGNED -> "not signed (no checkpoints): a cut at the end would not show";
    });
    report.notes().forEach(note -> block.printf("  note: %s%n", note));
    block.flush();
  }

  private static void printJson(PrintWriter out, List<ChainReport> reports, boolean ok) {
    ObjectNode root = AuditCommand.JSON.createObjectNode();
    root.put("ok", ok);
    ArrayNode chains = root.putArray("chains");
    for (ChainReport report : reports) {
      ObjectNode chain = chains.addObject();
      chain.put("dir", report.dir().toString());
      chain.put("chain_id", report.chainId());
      chain.put("ok", report.ok());
      chain.put("files", report.files());
      chain.put("records", report.records());
      chain.put("first_seq", report.firstSeq());
      chain.put("last_seq", report.lastSeq());
      chain.put("last_hash", report.lastHash());
      chain.put("checkpoints", report.checkpoints());
      chain.put("checkpoints_verified", report.checkpointsVerified());
      chain.put("last_checkpoint_seq", report.lastCheckpointSeq());
      chain.put("last_checkpoint_time", report.lastCheckpointTime());
      chain.put("unsigned_records", report.unsignedRecords());
      chain.put("tail", report.tail().name().toLowerCase(Locale.ROOT));
      chain.put("sealed", report.sealed());
      report.problems().forEach(chain.putArray("problems")::add);
      report.warnings().forEach(chain.putArray("warnings")::add);
      report.notes().forEach(chain.putArray("notes")::add);
    }
    try {
      out.println(AuditCommand.JSON.writeValueAsString(root));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e); // a tree of strings and numbers always serializes
    }
  }

  /** {@code 90s}, {@code 15m}, {@code 2h}. */
  static final class GapConverter implements CommandLine.ITypeConverter<Duration> {
    private static final Pattern DURATION = Pattern.compile("([1-9]\\d{0,8})([smh])");

    @Override
    public Duration convert(String value) {
      Matcher m = DURATION.matcher(value);
      if (!m.matches()) {
        throw new CommandLine.TypeConversionException("'" + value + "' (expected: a duration like 90s, 15m or 2h)");
      }
      long amount = Long.parseLong(m.group(1));
      return switch (m.group(2)) {
        case "s" -> Duration.ofSeconds(amount);
        case "m" -> Duration.ofMinutes(amount);
        default -> Duration.ofHours(amount);
      };
    }
  }
}

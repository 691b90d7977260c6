package dev.vertexproxy.proxy.cli;

import dev.vertexproxy.proxy.audit.AuditVerifier;
import dev.vertexproxy.proxy.audit.AuditVerifier.VerifyResult;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ExitCode;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code vertex-proxy audit verify}: is the trail complete and unedited? */
@Command(name = "verify", mixinStandardHelpOptions = true,
    description = "Recompute every hash and check that seqs are dense and each prev_hash links to the record before.")
final class AuditVerifyCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Parameters(index = "0", paramLabel = "DIR", description = "The audit directory (audit.dir in proxy.yaml).")
  Path dir;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    if (!AuditCommand.requireDirectory(dir, err)) {
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

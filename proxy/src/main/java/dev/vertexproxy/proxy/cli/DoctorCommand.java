package dev.vertexproxy.proxy.cli;

import dev.vertexproxy.proxy.doctor.Doctor;
import dev.vertexproxy.proxy.doctor.DoctorReport;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code vertex-proxy doctor --config proxy.yaml}: checks a configuration against reality and prints each check with
 * the fix for each failure; exit 0 when nothing failed, 1 when something did, 2 when the configuration does not load.
 */
@Command(name = "doctor", mixinStandardHelpOptions = true,
    description = "Check a configuration against reality (issuers, keys, clock, Google STS and tokens, audit"
        + " directory) and print the fix for each failure.")
final class DoctorCommand implements Callable<Integer> {
  @Option(names = {"-c", "--config"}, required = true, description = "Path to proxy.yaml.")
  Path config;

  @Option(names = "--json", description = "Print one JSON document {\"ok\":..., \"checks\":[...]} instead of the table.")
  boolean json;

  @Option(names = "--subject-token-file",
      description = "A real CI OIDC token to exchange at STS (default: an unsigned probe, which only shows the"
          + " provider exists).")
  Path subjectTokenFile;

  @Option(names = "--timeout", defaultValue = "10s",
      description = "Bound of every network call, e.g. 500ms or 10s (default: ${DEFAULT-VALUE}).")
  String timeout;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() throws InterruptedException {
    PrintWriter out = spec.commandLine().getOut();
    Duration bound;
    try {
      bound = Duration.ofMillis(HealthcheckCommand.timeoutMillis(timeout));
    } catch (IllegalArgumentException e) {
      spec.commandLine().getErr().println("doctor: " + e.getMessage());
      spec.commandLine().getErr().flush();
      return 2;
    }
    DoctorReport report = Doctor.run(new Doctor.Options(config, bound, subjectTokenFile, Clock.systemUTC()));
    out.print(json ? report.json() + "\n" : report.table());
    out.flush();
    return report.exitCode();
  }
}

package dev.vertexproxy.proxy.cli;

import dev.vertexproxy.policy.PolicyException;
import dev.vertexproxy.proxy.BuildInfo;
import dev.vertexproxy.proxy.config.ConfigException;
import dev.vertexproxy.proxy.lock.DirectoryInUseException;
import io.netty.util.ResourceLeakDetector;
import java.io.PrintWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine;

/**
 * The core {@code vertex-proxy} command line: the proxy and the reviewer tools. Dev mode is not here: it runs the
 * emulators, which the core never depends on; the distribution adds it ({@code dev.vertexproxy.dev.DistMain}).
 */
@Command(
    name = "vertex-proxy",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "Least-privilege, keyless, audited access to Google Vertex AI.",
    subcommands = {ServeCommand.class, DoctorCommand.class, PolicyCommand.class, AuditCommand.class, HealthcheckCommand.class,
        SessionsCommand.class, LoginCommand.class, TokenCommand.class, LogoutCommand.class, AdcCommand.class,
        CommandLine.HelpCommand.class})
public final class Main implements Runnable {
  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    processDefaults();
    System.exit(run(args));
  }

  /**
   * What the process entry points set before anything else runs: Netty's buffer-leak detection is off unless
   * {@code -Dio.netty.leakDetection.level} asks for it. Netty's own default samples one buffer in 128 and takes a stack
   * trace of each, about 3 % of the request path's CPU under load; the test suite runs it at {@code paranoid} instead.
   */
  public static void processDefaults() {
    if (System.getProperty("io.netty.leakDetection.level") == null
        && System.getProperty("io.netty.leakDetectionLevel") == null) {
      ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
    }
  }

  /** Runs a command line and returns its exit code (tests call this instead of {@link #main}). */
  public static int run(String... args) {
    return commandLine().execute(args);
  }

  /** {@link #run(String...)} writing to {@code out} and {@code err} instead of the process's streams. */
  public static int run(PrintWriter out, PrintWriter err, String... args) {
    return commandLine().setOut(out).setErr(err).execute(args);
  }

  /**
   * A fresh command line with every core subcommand and the error handling {@link #run(String...)} uses: the seam a
   * distribution adds its own subcommands through ({@code addSubcommand}) before it executes.
   */
  public static CommandLine commandLine() {
    return new CommandLine(new Main())
        .setCaseInsensitiveEnumValuesAllowed(true)
        .setExecutionExceptionHandler((e, cmd, parsed) -> {
          // A failure to start is the operator's to fix: say what failed, not where in our code it happened.
          if (e instanceof ConfigException config) {
            ProblemReport.print(cmd.getErr(), "invalid configuration", config.problems());
            return 2;
          }
          if (e instanceof PolicyException policy) {
            ProblemReport.print(cmd.getErr(), "invalid policy", policy.problems());
            return 2;
          }
          if (e instanceof DirectoryInUseException inUse) {
            cmd.getErr().println("error: " + inUse.getMessage()); // a refusal that names its fix: no trace to offer
            return 1;
          }
          cmd.getErr().println("error: " + describe(e));
          if (System.getenv("VERTEX_PROXY_DEBUG") != null) {
            e.printStackTrace(cmd.getErr());
          } else {
            cmd.getErr().println("(set VERTEX_PROXY_DEBUG=1 for the stack trace)");
          }
          return 1;
        });
  }

  private static String describe(Throwable e) {
    StringBuilder sb = new StringBuilder(String.valueOf(e.getMessage()));
    for (Throwable c = e.getCause(); c != null && c != c.getCause(); c = c.getCause()) {
      if (c.getMessage() != null && !sb.toString().contains(c.getMessage())) {
        sb.append(": ").append(c.getMessage());
      }
    }
    return sb.toString();
  }

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      BuildInfo build = BuildInfo.current();
      return new String[] {"vertex-proxy " + build.describe(),
          "Java " + Runtime.version() + " (" + System.getProperty("java.vendor") + ")"};
    }
  }
}

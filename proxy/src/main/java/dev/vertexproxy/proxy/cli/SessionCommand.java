package dev.vertexproxy.proxy.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * What {@code login}, {@code token} and {@code logout} share: the proxy they are about ({@code --proxy}, else
 * {@code $VERTEX_PROXY_URL}, else the one proxy a session is stored for), the environment they run in (the session
 * store, the clock, the terminal — injected by tests), and one way to end: a {@link CliException} is the command's
 * name and the message on stderr and exit 1, unless the command answers it otherwise ({@link #failed}); both streams
 * are flushed on the way out.
 */
abstract class SessionCommand implements Callable<Integer> {
  @Option(names = "--proxy", paramLabel = "URL",
      description = "The proxy's base URL (default: $VERTEX_PROXY_URL, else the one proxy a session is stored for).")
  String proxy;

  @Spec
  CommandSpec spec;

  final CliEnvironment env;

  SessionCommand(CliEnvironment env) {
    this.env = env;
  }

  @Override
  public final Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    try {
      return run(out, err);
    } catch (CliException e) {
      return failed(e, out, err);
    } finally {
      out.flush();
      err.flush();
    }
  }

  /** The command itself; its exit code. */
  abstract int run(PrintWriter out, PrintWriter err) throws CliException;

  /** How a {@link CliException} ends the command: {@code <name>: <message>} on stderr, exit 1. */
  int failed(CliException e, PrintWriter out, PrintWriter err) {
    err.println(spec.name() + ": " + e.getMessage());
    return 1;
  }
}

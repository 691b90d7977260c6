package dev.vertexproxy.dev;

import dev.vertexproxy.proxy.cli.Main;
import picocli.CommandLine;

/**
 * The distribution's {@code vertex-proxy} command, what {@code scripts/vertex-proxy} runs: the core command line
 * ({@link Main}: serve, policy, audit) plus {@code dev}, which starts the emulators. The core module cannot reach the
 * emulators; only this module, which bundles both, can offer {@code dev}.
 */
public final class DistMain {
  private DistMain() {
  }

  public static void main(String[] args) {
    Main.processDefaults();
    System.exit(run(args));
  }

  /** Runs a command line and returns its exit code (tests call this instead of {@link #main}). */
  public static int run(String... args) {
    return commandLine().execute(args);
  }

  static CommandLine commandLine() {
    CommandLine cli = Main.commandLine();
    CommandLine help = cli.getCommandSpec().removeSubcommand("help"); // re-added after dev: help stays last in the list
    return cli.addSubcommand(new DevCommand()).addSubcommand("help", help);
  }
}

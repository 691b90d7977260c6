package dev.vertexproxy.proxy.cli;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * What the person-facing commands ({@code login}, {@code token}, {@code logout}) take from the machine they run on: the
 * environment, the home directory, the time, a way to wait, a browser, and whether a person is at a terminal. One
 * record so tests hand the commands a fake of each — a clock they move and a sleeper that moves it instead of waiting, a
 * "browser" that is an HTTP client — and the real commands never read {@code System} behind the tests' back.
 *
 * @param env environment variables
 * @param home the user's home directory (the fallback for {@code XDG_CONFIG_HOME})
 * @param clock the time, for expiry and the device flow's deadline
 * @param sleeper waits between device-flow polls
 * @param browser opens the loopback login's authorize URL
 * @param interactive whether a person can answer at a terminal (so {@code token} may start a login)
 * @param loopbackTimeout how long the loopback login waits for the browser to come back
 */
record CliEnvironment(Map<String, String> env, Path home, Clock clock, Sleeper sleeper, BrowserOpener browser,
    boolean interactive, Duration loopbackTimeout) {

  /** Waits between polls; the real one sleeps, a test's advances its clock. */
  @FunctionalInterface
  interface Sleeper {
    void sleep(Duration duration) throws InterruptedException;
  }

  /** Opens a URL in the person's browser; false when there is none or it could not be started. */
  @FunctionalInterface
  interface BrowserOpener {
    boolean open(URI url);
  }

  /** The real machine. */
  static CliEnvironment system() {
    Map<String, String> env = System.getenv();
    return new CliEnvironment(env, Path.of(System.getProperty("user.home")), Clock.systemUTC(),
        d -> Thread.sleep(d.toMillis()), new SystemBrowser(env, System.getProperty("os.name", "")),
        personAtTerminal(env), Duration.ofMinutes(5));
  }

  /**
   * Whether standard input is a terminal a person types at. Not {@code System.console()}: that is null whenever stdout
   * is piped, which is exactly how scripts run {@code $(vertex-proxy token)} at a prompt. google-auth says so itself
   * when it runs the command as a credential source without a person ({@code GOOGLE_EXTERNAL_ACCOUNT_INTERACTIVE=0}).
   */
  static boolean personAtTerminal(Map<String, String> env) {
    if ("0".equals(env.get("GOOGLE_EXTERNAL_ACCOUNT_INTERACTIVE"))) {
      return false;
    }
    try {
      Path stdin = Path.of("/proc/self/fd/0");
      if (Files.isSymbolicLink(stdin)) {
        String target = Files.readSymbolicLink(stdin).toString();
        return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
      }
      // no /proc (macOS, the BSDs): ask the shell, with our standard input as its own
      Process p = new ProcessBuilder("sh", "-c", "test -t 0").redirectInput(ProcessBuilder.Redirect.INHERIT)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD).start();
      return p.waitFor(5, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException | UnsupportedOperationException e) {
      return System.console() != null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** The session store of this user. */
  SessionStore store() {
    return SessionStore.forUser(env, home);
  }
}

package dev.vertexproxy.proxy.cli;

import java.io.IOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Opens a URL in the desktop's browser by the platform's own launcher ({@code xdg-open}, {@code open},
 * {@code rundll32}), without a shell: the URL is one argument, never parsed as a command line.
 *
 * <p>{@code $BROWSER}, when set, wins: the first command of its {@code :}-separated list, run with the URL as its last
 * argument (or in place of {@code %s}), split on spaces and never given to a shell — the convention of
 * {@code xdg-open} and git, for a text browser in a terminal or a browser of one's own choosing.
 *
 * <p>It answers false — and {@code login} falls back to the device flow — when there is plainly no browser to open:
 * on Linux and the BSDs with neither {@code DISPLAY} nor {@code WAYLAND_DISPLAY} set (an SSH session, a container, a
 * CI runner), when the launcher cannot be started, or when it exits with a failure. A launcher still running after a
 * few seconds is taken as a success: some stay until the browser they started exits.
 */
class SystemBrowser implements CliEnvironment.BrowserOpener {
  private final Map<String, String> env;
  private final String os;

  SystemBrowser(Map<String, String> env, String osName) {
    this.env = env;
    this.os = osName.toLowerCase(Locale.ROOT);
  }

  /** The launcher command for this platform, or null when there is no display to open a browser on. */
  List<String> command(URI url) {
    String chosen = env.get("BROWSER");
    if (!isBlank(chosen)) {
      // the convention xdg-open and git follow: the first of a ':'-separated list, %s for the URL or appended
      String first = chosen.split(":", 2)[0].strip();
      List<String> words = new ArrayList<>(List.of(first.split("\\s+")));
      if (words.stream().anyMatch(w -> w.contains("%s"))) {
        words.replaceAll(w -> w.replace("%s", url.toString()));
      } else {
        words.add(url.toString());
      }
      return words;
    }
    if (os.startsWith("mac")) {
      return List.of("open", url.toString());
    }
    if (os.startsWith("windows")) {
      return List.of("rundll32", "url.dll,FileProtocolHandler", url.toString());
    }
    if (isBlank(env.get("DISPLAY")) && isBlank(env.get("WAYLAND_DISPLAY"))) {
      return null;
    }
    return List.of("xdg-open", url.toString());
  }

  @Override
  public boolean open(URI url) {
    List<String> command = command(url);
    if (command == null) {
      return false;
    }
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
          .redirectInput(ProcessBuilder.Redirect.PIPE).start();
      p.getOutputStream().close();
      if (!p.waitFor(5, TimeUnit.SECONDS)) {
        return true;
      }
      return p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private static boolean isBlank(String s) {
    return s == null || s.isBlank();
  }
}

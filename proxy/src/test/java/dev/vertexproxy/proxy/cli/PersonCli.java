package dev.vertexproxy.proxy.cli;

import dev.vertexproxy.testing.MutableClock;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import picocli.CommandLine;

/**
 * The person-facing commands on a fake machine: a config directory of the test's own, a clock the device flow's
 * sleeper moves instead of waiting (every wait recorded), and a "browser" that is a plain HTTP client following
 * redirects — so the loopback login really goes proxy → 302 → the CLI's loopback listener.
 */
final class PersonCli {
  final Path home;
  final MutableClock clock = new MutableClock(Instant.parse("2026-03-01T10:00:00Z"));
  final List<Duration> sleeps = new CopyOnWriteArrayList<>();
  final List<URI> opened = new CopyOnWriteArrayList<>();
  final Map<String, String> env = new HashMap<>();
  volatile boolean interactive;
  /** What the browser does with a URL; the default follows it through redirects. */
  volatile Function<URI, Boolean> browser = PersonCli::follow;

  record Run(int exit, String out, String err) {
  }

  PersonCli(Path home) {
    this.home = home;
    env.put("XDG_CONFIG_HOME", home.resolve("config").toString());
  }

  CliEnvironment environment() {
    return new CliEnvironment(Map.copyOf(env), home, clock, d -> {
      sleeps.add(d);
      clock.advance(d);
    }, url -> {
      opened.add(url);
      return browser.apply(url);
    }, interactive, Duration.ofSeconds(20));
  }

  SessionStore store() {
    return environment().store();
  }

  Run login(String... args) {
    return run(new LoginCommand(environment()), args);
  }

  Run token(String... args) {
    return run(new TokenCommand(environment()), args);
  }

  Run logout(String... args) {
    return run(new LogoutCommand(environment()), args);
  }

  private static Run run(Object command, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int exit = new CommandLine(command).setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true))
        .execute(args);
    return new Run(exit, out.toString(), err.toString());
  }

  /** A browser: GET the URL and follow redirects, as far as they go. */
  static boolean follow(URI url) {
    try {
      HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL).build()
          .send(HttpRequest.newBuilder(url).build(), HttpResponse.BodyHandlers.discarding());
      return true;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** GET a URL without following redirects; the status. */
  static int get(URI url) {
    try {
      return HttpClient.newHttpClient().send(HttpRequest.newBuilder(url).build(), HttpResponse.BodyHandlers.discarding())
          .statusCode();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }
}

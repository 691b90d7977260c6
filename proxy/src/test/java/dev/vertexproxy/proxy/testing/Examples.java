package dev.vertexproxy.proxy.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * The documented SDK examples under {@code examples/} and the external tools (node, npm, python3) the tests run them
 * with. A missing tool fails the test when {@code CI=true}, so CI can never pass by skipping the examples; on a
 * developer's machine it skips the test and says what is missing.
 */
public final class Examples {
  private Examples() {}

  /** The repository's root: the nearest directory above the working directory that holds {@code examples/}. */
  public static Path repoRoot() {
    Path dir = Path.of("").toAbsolutePath();
    for (Path d = dir; d != null; d = d.getParent()) {
      if (Files.isDirectory(d.resolve("examples")) && Files.isRegularFile(d.resolve("docs/gitlab-ci.md"))) {
        return d;
      }
    }
    throw new IllegalStateException("no examples/ and docs/gitlab-ci.md above " + dir);
  }

  public static Path dir(String name) {
    return repoRoot().resolve("examples").resolve(name);
  }

  /** Makes sure {@code tool --version} runs: fails under CI when it does not, skips the test otherwise. */
  public static void requireTool(String tool, String why) {
    requireTool(tool, why, "true".equals(System.getenv("CI")));
  }

  static void requireTool(String tool, String why, boolean ci) {
    String problem;
    try {
      Result r = run(repoRoot(), Map.of(), Duration.ofSeconds(30), tool, "--version");
      problem = r.exitCode() == 0 ? null : tool + " --version exited " + r.exitCode() + ": " + r.stderr();
    } catch (IOException e) {
      problem = tool + " is not installed (" + e.getMessage() + ")";
    }
    if (problem == null) {
      return;
    }
    String message = problem + "; it is needed to " + why;
    if (ci) {
      fail(message + ". CI must run this test: install " + tool + " (.ci/run does)");
    }
    Assumptions.abort(message + ": skipped here, CI=true would fail");
  }

  /** A finished process. */
  public record Result(int exitCode, String stdout, String stderr) {
    /** Both streams with {@code secret} blanked, for assertion messages that must never show a token. */
    public String describe(String secret) {
      return ("exit " + exitCode + "\nstdout:\n" + stdout + "\nstderr:\n" + stderr).replace(secret, "<token>");
    }
  }

  /**
   * Runs {@code command} in {@code dir} with exactly the given environment (plus {@code PATH} and {@code HOME}, so no
   * credential or Google variable of the machine leaks in); kills it past {@code timeout}.
   */
  public static Result run(Path dir, Map<String, String> env, Duration timeout, String... command) throws IOException {
    Path out = Files.createTempFile("example-out", ".txt");
    Path err = Files.createTempFile("example-err", ".txt");
    try {
      ProcessBuilder pb = new ProcessBuilder(List.of(command)).directory(dir.toFile())
          .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
          .redirectOutput(out.toFile()).redirectError(err.toFile());
      Map<String, String> environment = pb.environment();
      String path = environment.getOrDefault("PATH", "/usr/local/bin:/usr/bin:/bin");
      String home = environment.getOrDefault("HOME", System.getProperty("user.home"));
      environment.clear();
      environment.put("PATH", path);
      environment.put("HOME", home);
      environment.putAll(env);
      Process p = pb.start();
      try {
        if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
          p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
          fail(String.join(" ", command) + " did not finish within " + timeout);
        }
      } catch (InterruptedException e) {
        p.destroyForcibly();
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while running " + String.join(" ", command), e);
      }
      return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
          Files.readString(err, StandardCharsets.UTF_8));
    } finally {
      Files.deleteIfExists(out);
      Files.deleteIfExists(err);
    }
  }
}

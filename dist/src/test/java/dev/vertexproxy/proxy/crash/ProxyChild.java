package dev.vertexproxy.proxy.crash;

import dev.vertexproxy.proxy.cli.Main;
import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code vertex-proxy serve --config FILE} as a real second JVM on the test classpath, so that it can be killed the way
 * a machine loses a process: {@link #kill()} is SIGKILL (no shutdown hook, no flush, no close), {@link #stop()} is
 * SIGTERM (the graceful drain). Output goes to files, never pipes, so a chatty child cannot block.
 */
final class ProxyChild implements AutoCloseable {
  private static final Duration READY_TIMEOUT = Duration.ofSeconds(60);
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).version(HttpClient.Version.HTTP_1_1).build();

  private final Process process;
  private final Path stdout;
  private final Path stderr;

  private ProxyChild(Process process, Path stdout, Path stderr) {
    this.process = process;
    this.stdout = stdout;
    this.stderr = stderr;
  }

  /**
   * Starts {@code serve --config config} with {@code prefix} before the java command (e.g. {@code unshare …} or
   * {@code setpriv …}; empty for none). Output lands in {@code logDir/serve-N.out|err}.
   */
  static ProxyChild start(Path config, Path logDir, List<String> prefix) throws IOException {
    List<String> command = new ArrayList<>(prefix);
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx256m", "-Xshare:auto"));
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(Main.class.getName());
    command.addAll(List.of("serve", "--config", config.toString()));
    Files.createDirectories(logDir);
    File out = Files.createTempFile(logDir, "serve-", ".out").toFile();
    File err = new File(out.getPath().replaceFirst("\\.out$", ".err"));
    ProcessBuilder builder = new ProcessBuilder(command).directory(logDir.toFile())
        .redirectOutput(out).redirectError(err);
    builder.environment().remove("VERTEX_PROXY_DEBUG");
    Process process = builder.start();
    process.getOutputStream().close();
    return new ProxyChild(process, out.toPath(), err.toPath());
  }

  long pid() {
    return process.pid();
  }

  boolean alive() {
    return process.isAlive();
  }

  /** Waits (bounded) until {@code baseUrl/healthz} answers 200; fails with the child's output if it died or hung. */
  void awaitReady(String baseUrl) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
    HttpRequest health = HttpRequest.newBuilder(URI.create(baseUrl + "/healthz")).timeout(Duration.ofSeconds(2)).build();
    while (true) {
      if (!process.isAlive()) {
        throw new IllegalStateException("the proxy exited with " + process.exitValue() + " before it was ready\n" + output());
      }
      try {
        if (HTTP.send(health, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
          return;
        }
      } catch (IOException notYet) {
        // not listening yet
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("the proxy was not ready within " + READY_TIMEOUT + "\n" + output());
      }
      Thread.sleep(25);
    }
  }

  /** SIGKILL, then waits for the process to be gone. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      throw new IllegalStateException("pid " + process.pid() + " survived SIGKILL for 30 s");
    }
  }

  /** SIGTERM and the drain; returns the exit code (SIGKILL after 60 s, then -1). */
  int stop() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      kill();
      return -1;
    }
    return process.exitValue();
  }

  /** What the child printed so far (for failure messages). */
  String output() {
    try {
      return "--- stdout\n" + Files.readString(stdout, StandardCharsets.UTF_8)
          + "\n--- stderr\n" + Files.readString(stderr, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(output unreadable: " + e + ")";
    }
  }

  /** Kills the child if it still runs (SIGKILL, without waiting: a test that failed half-way must not hang on it). */
  @Override
  public void close() {
    if (process.isAlive()) {
      process.destroyForcibly();
    }
  }
}

package dev.vertexproxy.proxy.testing;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a main class of the test classpath in a second, real JVM: what another operator's process on the same host
 * is. Output goes to files, not pipes, so a chatty child can never block on a full pipe.
 */
public final class JavaProcess {
  private JavaProcess() {
  }

  /** How the child ended; {@code timedOut} when it was still running at the deadline (it was then killed). */
  public record Result(int exit, boolean timedOut, long pid, String stdout, String stderr) {
    @Override
    public String toString() {
      return "exit " + exit + (timedOut ? " (timed out, killed)" : "") + "\n--- stdout\n" + stdout + "\n--- stderr\n" + stderr;
    }
  }

  /** Runs {@code mainClass args…} and waits for it at most {@code timeout}. */
  public static Result run(Path workDir, Duration timeout, Class<?> mainClass, String... args)
      throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    // a short-lived child: start fast and small on a shared machine
    command.addAll(List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xss512k", "-Xmx256m", "-Xshare:auto"));
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(mainClass.getName());
    command.addAll(List.of(args));
    Files.createDirectories(workDir);
    File out = Files.createTempFile(workDir, "child-", ".out").toFile();
    File err = Files.createTempFile(workDir, "child-", ".err").toFile();
    ProcessBuilder builder = new ProcessBuilder(command).directory(workDir.toFile())
        .redirectOutput(out).redirectError(err);
    builder.environment().remove("VERTEX_PROXY_DEBUG");
    Process process = builder.start();
    process.getOutputStream().close(); // no input
    boolean exited = process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    if (!exited) {
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly();
      process.waitFor(30, TimeUnit.SECONDS);
    }
    return new Result(exited ? process.exitValue() : -1, !exited, process.pid(),
        Files.readString(out.toPath(), StandardCharsets.UTF_8), Files.readString(err.toPath(), StandardCharsets.UTF_8));
  }
}

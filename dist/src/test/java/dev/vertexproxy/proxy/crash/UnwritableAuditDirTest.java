package dev.vertexproxy.proxy.crash;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vertexproxy.proxy.cli.Main;
import dev.vertexproxy.proxy.testing.JavaProcess;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The audit directory stops taking writes while the proxy runs — for real: it is a 1 MiB tmpfs, mounted in a mount
 * namespace of the proxy's own ({@code unshare --mount}, so nothing leaks into the host's mounts and it vanishes with
 * the process), and this test fills it to ENOSPC through {@code /proc/PID/root}. A full disk fails the file the writer
 * already has open as well as any new one, which {@code chmod} cannot do (a write through an open descriptor is not
 * checked again, and root ignores modes anyway). With {@code on_failure: reject}, calls must then be refused with 503
 * {@code audit-unavailable} in Google's error shape; once space is freed the proxy must serve again by itself, and every
 * call a client saw answered 200 must have its record.
 */
class UnwritableAuditDirTest {
  private static final int MAX_CALLS_BEFORE_REFUSAL = 10;
  private static final int MAX_REFUSALS_AFTER_FREEING = 5;

  @TempDir
  static Path work;
  static CrashHarness harness;

  @BeforeAll
  static void start() throws Exception {
    harness = CrashHarness.start(work);
  }

  @AfterAll
  static void stop() {
    if (harness != null) {
      harness.close();
    }
  }

  @Test
  void aFullAuditDiskRefusesWith503ThenServiceResumesByItselfAndNoAnsweredCallLacksItsRecord() throws Exception {
    Path auditDir = Files.createDirectories(work.resolve("audit-tmpfs"));
    List<String> namespace = namespacePrefix(auditDir);
    Path config = harness.writeConfig("full-disk", auditDir, "group_commit", "reject");
    HttpClient http = CrashHarness.client();
    String jwt = harness.mint();
    List<String> answered = new ArrayList<>();
    try (ProxyChild child = ProxyChild.start(config, work.resolve("logs"), namespace)) {
      child.awaitReady(harness.baseUrl());
      Path live = Path.of("/proc", Long.toString(child.pid()), "root").resolve(auditDir.toString().substring(1));
      for (int i = 0; i < 10; i++) {
        answered.add(expect200(http, jwt, child));
      }

      long filled = fill(live.resolve("filler"));
      // The calls whose records hit the full disk first may end any way but 200 (a reset, a 500, a 503): only an
      // answered 200 is a promise that the record exists. Within a bounded number of calls, new ones must be refused.
      int answeredWhileFull = 0;
      List<String> otherEndings = new ArrayList<>();
      HttpResponse<String> refusal = null;
      while (refusal == null) {
        assertThat(answeredWhileFull + otherEndings.size())
            .as("calls after the audit disk filled (" + filled + " bytes) before one was refused with audit-unavailable: "
                + answeredWhileFull + " answered 200, others " + otherEndings)
            .isLessThanOrEqualTo(MAX_CALLS_BEFORE_REFUSAL);
        HttpResponse<String> r;
        try {
          r = send(http, jwt);
        } catch (IOException reset) {
          otherEndings.add(reset.toString());
          continue;
        }
        if (r.statusCode() == 200) {
          answered.add(requestId(r));
          answeredWhileFull++;
        } else if (r.statusCode() == 503 && r.body().contains("audit-unavailable")) {
          refusal = r;
        } else {
          otherEndings.add(r.statusCode() + " " + r.body());
        }
      }
      assertAuditUnavailable(refusal);
      for (int i = 0; i < 3; i++) {
        assertAuditUnavailable(send(http, jwt)); // refused for as long as the disk stays full, not just once
      }

      Files.delete(live.resolve("filler"));
      int refusedAfterFreeing = 0;
      while (true) {
        HttpResponse<String> r = send(http, jwt);
        if (r.statusCode() == 200) {
          answered.add(requestId(r));
          break;
        }
        assertAuditUnavailable(r);
        refusedAfterFreeing++;
        assertThat(refusedAfterFreeing).as("calls still refused after space was freed, with no restart")
            .isLessThanOrEqualTo(MAX_REFUSALS_AFTER_FREEING);
      }
      for (int i = 0; i < 10; i++) {
        answered.add(expect200(http, jwt, child));
      }
      System.out.printf("full audit disk: %d bytes filled; after the fill %d call(s) answered 200 and %d ended otherwise %s"
          + " before the first 503 audit-unavailable; %d 503(s) after freeing before service resumed%n", filled,
          answeredWhileFull, otherEndings.size(), otherEndings, refusedAfterFreeing);

      Trail trail = awaitRecords(live, answered);
      List<String> missing = answered.stream().filter(id -> !trail.exchanges().containsKey(id)).toList();
      Path copy = copyOf(live, work.resolve("audit-copy"));
      JavaProcess.Result verify = JavaProcess.run(work.resolve("logs"), Duration.ofSeconds(120), Main.class,
          "audit", "verify", copy.toString());
      String report = "answered 200: " + answered.size() + ", of them after the fill: " + answeredWhileFull
          + "; trail " + trail.records() + " records " + trail.byType() + ", torn " + trail.tornTails() + "\naudit verify: "
          + verify + "\nproxy:\n" + child.output();
      assertThat(missing).as("calls answered 200 whose record is not in the trail\n" + report).isEmpty();
      assertThat(trail.brokenLines()).as(report).isEmpty();
      assertThat(verify.exit()).as(report).isZero();
    }
  }

  /**
   * {@code unshare --mount} with a fresh tmpfs over {@code dir}, or the test is skipped where this machine cannot make a
   * mount namespace (then no real mechanism is at hand; see docs/benchmarks.md).
   */
  private static List<String> namespacePrefix(Path dir) throws IOException, InterruptedException {
    boolean root = ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
    List<String> prefix = new ArrayList<>(List.of("unshare", "--mount", "--propagation", "private"));
    if (!root) {
      prefix.add("--map-root-user"); // an unprivileged user namespace may mount a tmpfs
    }
    prefix.addAll(List.of("sh", "-c", "mount -t tmpfs -o size=1m,mode=0700 vertex-audit \"$0\" && exec \"$@\"",
        dir.toString()));
    List<String> probe = new ArrayList<>(prefix);
    probe.add("true");
    Process p = new ProcessBuilder(probe).redirectErrorStream(true).start();
    boolean done = p.waitFor(30, TimeUnit.SECONDS);
    String out = new String(p.getInputStream().readAllBytes());
    assumeThat(done && p.exitValue() == 0).as("a tmpfs in a mount namespace of its own (" + String.join(" ", probe) + "): "
        + out).isTrue();
    return prefix;
  }

  /** Writes {@code file} until the file system says it is full; returns how many bytes went in. */
  private static long fill(Path file) {
    byte[] chunk = new byte[16 * 1024];
    long written = 0;
    try (OutputStream out = Files.newOutputStream(file)) {
      while (written < 64L * 1024 * 1024) {
        out.write(chunk);
        written += chunk.length;
      }
    } catch (IOException full) {
      return written;
    }
    throw new IllegalStateException(file + " took 64 MiB: not the 1 MiB tmpfs this test mounted");
  }

  private static HttpResponse<String> send(HttpClient http, String jwt) throws IOException, InterruptedException {
    return http.send(HttpRequest.newBuilder(URI.create(harness.baseUrl() + harness.allowedPath()))
        .timeout(Duration.ofSeconds(10)).header("Content-Type", "application/json").header("Authorization", "Bearer " + jwt)
        .POST(HttpRequest.BodyPublishers.ofString(CrashHarness.BODY)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private static String expect200(HttpClient http, String jwt, ProxyChild child) throws IOException, InterruptedException {
    HttpResponse<String> r = send(http, jwt);
    assertThat(r.statusCode()).as(r.body() + "\n" + child.output()).isEqualTo(200);
    return requestId(r);
  }

  private static String requestId(HttpResponse<String> r) {
    return r.headers().firstValue(CrashHarness.REQUEST_ID).orElseThrow();
  }

  private static void assertAuditUnavailable(HttpResponse<String> r) throws IOException {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(503);
    JsonNode error = CrashHarness.JSON.readTree(r.body()).path("error");
    assertThat(error.path("code").asInt()).as(r.body()).isEqualTo(503);
    assertThat(error.path("status").asText()).as(r.body()).isEqualTo("UNAVAILABLE");
    assertThat(error.path("message").asText()).as(r.body()).isNotBlank();
    assertThat(error.path("details").path(0).path("reason").asText()).as(r.body()).isEqualTo("audit-unavailable");
    assertThat(r.headers().firstValue(CrashHarness.REQUEST_ID)).isPresent();
  }

  /**
   * Reads the trail until it holds a record of every id or 10 s passed: a writer that completes answers before their
   * record is durable may still be writing; one that keeps the promise has them already.
   */
  private static Trail awaitRecords(Path dir, List<String> ids) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (true) {
      Trail trail = Trail.read(dir);
      if (trail.exchanges().keySet().containsAll(ids) || System.nanoTime() > deadline) {
        return trail;
      }
      Thread.sleep(20);
    }
  }

  /**
   * The directory's files (all but the lock and the filler), copied out of the proxy's mount namespace before the
   * tmpfs goes away with it.
   */
  private static Path copyOf(Path live, Path to) throws IOException {
    Files.createDirectories(to);
    try (Stream<Path> files = Files.list(live)) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        String name = f.getFileName().toString();
        if (!name.equals("vertex-proxy.lock") && !name.equals("filler")) {
          Files.copy(f, to.resolve(name));
        }
      }
    }
    return to;
  }
}

package dev.vertexproxy.proxy.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vertexproxy.proxy.audit.AuditVerifier;
import dev.vertexproxy.proxy.cli.Main;
import dev.vertexproxy.dev.DevMode;
import dev.vertexproxy.dev.DistMain;
import dev.vertexproxy.proxy.lock.DirectoryInUseException;
import dev.vertexproxy.proxy.lock.LockProbe;
import dev.vertexproxy.proxy.testing.JavaProcess;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A second process started on a running proxy's directories — `serve` on its audit directory, `dev` on its state
 * directory — is a real second JVM running the real command line. It must refuse to start, name the holder, and leave
 * every file in the directories as it was, so the first proxy's chain does not fork.
 */
class SecondProcessEndToEndTest {
  private static final Duration CHILD_TIMEOUT = Duration.ofSeconds(60);
  /** Never opened by this JVM: closing any descriptor of it would drop the lock the proxy in this JVM holds. */
  private static final String LOCK_FILE = "vertex-proxy.lock";

  @TempDir
  static Path state;
  @TempDir
  static Path scratch;
  static DevStack stack;
  static final List<String> requestIds = new ArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    stack = new DevStack(DevMode.start(DevMode.Options.forTests(state)));
  }

  @AfterAll
  static void stop() {
    if (stack != null) {
      stack.dev.close();
    }
  }

  @Test
  void aSecondServeOnTheAuditDirectoryRefusesNamingTheHolderAndTheTrailStillVerifies() throws Exception {
    String jwt = stack.mint(Map.of());
    call(jwt);
    call(jwt);
    stack.awaitAudit(requestIds);
    Map<String, String> before = snapshot(stack.auditDir());

    JavaProcess.Result second = JavaProcess.run(scratch, CHILD_TIMEOUT, Main.class,
        "serve", "--config", state.resolve("proxy.yaml").toString());

    assertThat(second.timedOut()).as(second.toString()).isFalse();
    assertThat(second.exit()).as(second.toString()).isEqualTo(1);
    assertThat(second.stderr())
        .contains("audit directory " + stack.auditDir().toRealPath())
        .contains("in use by pid " + ProcessHandle.current().pid() + " on host ")
        .contains(LOCK_FILE)
        .contains("audit.dir")
        .doesNotContain("\tat ").doesNotContain("VERTEX_PROXY_DEBUG");
    assertThat(snapshot(stack.auditDir())).as("the audit directory after the refused start").isEqualTo(before);

    // the first proxy carries on in the same chain, and a reader verifies it while the proxy runs
    call(jwt);
    List<JsonNode> records = stack.awaitAudit(requestIds);
    assertThat(records).hasSize(requestIds.size());
    assertThat(Main.run("audit", "verify", stack.auditDir().toString())).isZero();
    AuditVerifier.VerifyResult verified = AuditVerifier.verify(stack.auditDir());
    assertThat(verified.ok()).as(String.valueOf(verified.firstProblem())).isTrue();
    // the holder still runs: its newest records wait for the next checkpoint, which verify says and does not count against it
    assertThat(verified.warnings()).allSatisfy(w -> assertThat(w).contains("are not signed yet"));
  }

  @Test
  void aSecondDevOnTheStateDirectoryRefusesWithoutOverwritingItsFiles() throws Exception {
    Map<String, String> stateBefore = snapshot(state);
    Map<String, String> auditBefore = snapshot(stack.auditDir());
    assertThat(stateBefore).containsKeys("dev.json", "proxy.yaml", "policy.yaml");

    JavaProcess.Result second = JavaProcess.run(scratch, CHILD_TIMEOUT, DistMain.class,
        "dev", "--state-dir", state.toString(), "--port", "0", "--admin-port", "0");

    assertThat(second.timedOut()).as(second.toString()).isFalse();
    assertThat(second.exit()).as(second.toString()).isEqualTo(1);
    assertThat(second.stderr())
        .contains("dev state directory " + state.toRealPath())
        .contains("in use by pid " + ProcessHandle.current().pid() + " on host ")
        .contains("--state-dir")
        .doesNotContain("\tat ").doesNotContain("VERTEX_PROXY_DEBUG");
    assertThat(second.stdout()).doesNotContain("vertex-proxy dev is running");
    assertThat(snapshot(state)).as("the state directory after the refused start").isEqualTo(stateBefore);
    assertThat(snapshot(stack.auditDir())).isEqualTo(auditBefore);
  }

  @Test
  void aSecondDevInThisJvmRefusesWithoutOverwritingItsFilesOrDroppingTheLock() throws Exception {
    Map<String, String> stateBefore = snapshot(state);
    Map<String, String> auditBefore = snapshot(stack.auditDir());

    assertThatThrownBy(() -> DevMode.start(DevMode.Options.forTests(state)))
        .isInstanceOf(DirectoryInUseException.class)
        .hasMessageContaining("dev state directory " + state.toRealPath())
        .hasMessageContaining("(this process)");

    assertThat(snapshot(state)).isEqualTo(stateBefore);
    assertThat(snapshot(stack.auditDir())).isEqualTo(auditBefore);
    JavaProcess.Result other = JavaProcess.run(scratch, CHILD_TIMEOUT, LockProbe.class, state.toString());
    assertThat(other.exit()).as("another process is still refused: " + other).isEqualTo(3);
    assertThat(snapshot(state)).isEqualTo(stateBefore);
  }

  private static void call(String jwt) throws IOException, InterruptedException {
    HttpResponse<String> r = stack.post(stack.examplePath(), "Bearer " + jwt, DevStack.BODY);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    synchronized (requestIds) {
      requestIds.add(r.headers().firstValue("x-vertex-proxy-request-id").orElseThrow());
    }
  }

  /** Every entry of {@code dir}: its kind, size, modification time and (except the lock file's) content hash. */
  private static Map<String, String> snapshot(Path dir) throws Exception {
    Map<String, String> entries = new TreeMap<>();
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : files.toList()) {
        String name = f.getFileName().toString();
        if (Files.isDirectory(f)) {
          entries.put(name, "directory " + Files.getLastModifiedTime(f));
          continue;
        }
        String content = name.equals(LOCK_FILE) ? "(not read)"
            : HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(f)));
        entries.put(name, Files.size(f) + " bytes, modified " + Files.getLastModifiedTime(f) + ", " + content);
      }
    }
    return entries;
  }
}

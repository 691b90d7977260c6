package dev.vertexproxy.proxy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vertexproxy.proxy.audit.Checkpoints;
import dev.vertexproxy.proxy.audit.Checkpoints.SigningKey;
import dev.vertexproxy.proxy.audit.TrailFixture;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code audit verify} over two replicas' signed trails: one block per chain, a summary, exit codes, JSON. */
class AuditVerifyCommandTest {
  private static final SigningKey KEY = Checkpoints.generate();

  @TempDir
  Path tmp;
  Path a;
  Path b;
  Path key;
  Path anchor;
  TrailFixture trailA;

  record Run(int exit, String out, String err) {
  }

  private static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine commandLine = new CommandLine(new AuditCommand());
    commandLine.setOut(new PrintWriter(out, true));
    commandLine.setErr(new PrintWriter(err, true));
    int exit = commandLine.execute(args);
    return new Run(exit, out.toString(), err.toString());
  }

  @BeforeEach
  void twoReplicas() throws Exception {
    a = tmp.resolve("replica-a");
    b = tmp.resolve("replica-b");
    anchor = tmp.resolve("anchor.jsonl");
    trailA = new TrailFixture(a, "replica-a", KEY).external(anchor).start().exchanges(10).rotate().exchanges(5)
        .shutdown();
    new TrailFixture(b, "replica-b", KEY).external(anchor).start().exchanges(3).shutdown();
    key = tmp.resolve("checkpoint.pub.pem");
    Files.writeString(key, Checkpoints.publicPem(KEY.publicKey()));
  }

  @Test
  void twoCleanReplicasPrintOneBlockEachAndASummary() {
    Run run = run("verify", "--key", key.toString(), "--checkpoints", anchor.toString(), a.toString(), b.toString());
    assertThat(run.exit()).isZero();
    assertThat(run.err()).isEmpty();
    assertThat(run.out()).isEqualTo("ok: 18 records, chain intact (last seq 18, hash " + trailA.head() + "), chain"
        + " replica-a\n"
        + "  dir " + a + ": 2 files, seqs 1..18\n"
        + "  checkpoints: 3, 3 verified by signature; last at seq 18 (2026-05-01T12:00:17.000Z)\n"
        + "  tail: closed by a shutdown checkpoint\n"
        + run.out().substring(run.out().indexOf("ok: 5 records")));
    assertThat(run.out()).contains("ok: 5 records, chain intact (last seq 5, hash ").contains("), chain replica-b\n")
        .endsWith("summary: 2 chains, 2 intact, 0 broken\n");
  }

  @Test
  void oneCutReplicaAmongTwoExitsOneAndSaysWhatIsMissing() throws Exception {
    Path last = trailA.current();
    List<String> lines = Files.readAllLines(last, StandardCharsets.UTF_8);
    Files.writeString(last, String.join("\n", lines.subList(0, lines.size() - 2)) + "\n");
    Run run = run("verify", "--key", key.toString(), "--checkpoints", anchor.toString(), a.toString(), b.toString());
    assertThat(run.exit()).isEqualTo(1);
    assertThat(run.err()).contains("chain broken: " + a + ": truncated tail: records 17..18 missing (since ")
        .contains("), chain replica-a\n").contains("  tail: cut (see above)");
    assertThat(run.out()).contains("chain replica-b").endsWith("summary: 2 chains, 1 intact, 1 broken\n");
  }

  @Test
  void theWrongKeyFailsEveryChain() throws Exception {
    Path other = tmp.resolve("other.pub.pem");
    Files.writeString(other, Checkpoints.publicPem(Checkpoints.generate().publicKey()));
    Run run = run("verify", "--key", other.toString(), a.toString(), b.toString());
    assertThat(run.exit()).isEqualTo(1);
    assertThat(run.err()).contains("signed by another key").contains("  also: ");
    assertThat(run.out()).isEqualTo("summary: 2 chains, 0 intact, 2 broken\n");
  }

  @Test
  void jsonHasAReportPerChain() throws Exception {
    Run run = run("verify", "--json", "--key", key.toString(), a.toString(), b.toString());
    assertThat(run.exit()).isZero();
    JsonNode root = AuditCommand.JSON.readTree(run.out());
    assertThat(root.get("ok").asBoolean()).isTrue();
    assertThat(root.get("chains")).hasSize(2);
    JsonNode first = root.get("chains").get(0);
    assertThat(first.get("chain_id").asText()).isEqualTo("replica-a");
    assertThat(first.get("records").asLong()).isEqualTo(18);
    assertThat(first.get("last_hash").asText()).isEqualTo(trailA.head());
    assertThat(first.get("checkpoints_verified").asLong()).isEqualTo(3);
    assertThat(first.get("tail").asText()).isEqualTo("closed");
    assertThat(first.get("problems")).isEmpty();
  }

  @Test
  void withoutAKeyTheCheckpointsAreCountedButSaidToBeUnchecked() {
    Run run = run("verify", a.toString());
    assertThat(run.exit()).isZero();
    assertThat(run.out()).contains("  checkpoints: 3, signatures not checked (no --key); last at seq 18 (");
  }

  @Test
  void unreadableKeysMissingFilesAndBadDurationsAreUsageErrors() throws Exception {
    Path notAKey = Files.writeString(tmp.resolve("not-a-key.pem"), "hello\n");
    Run bad = run("verify", "--key", notAKey.toString(), a.toString());
    assertThat(bad.exit()).isEqualTo(2);
    assertThat(bad.err()).contains("--key " + notAKey + ": ").contains("no -----BEGIN PUBLIC KEY----- block");
    Run absentKey = run("verify", "--key", tmp.resolve("absent.pem").toString(), a.toString());
    assertThat(absentKey.exit()).isEqualTo(2);
    assertThat(absentKey.err()).contains("absent.pem: no such file");
    assertThat(run("verify", "--checkpoints", tmp.resolve("absent.jsonl").toString(), a.toString()).err())
        .contains("--checkpoints " + tmp.resolve("absent.jsonl") + ": no such file");
    Run gap = run("verify", "--max-checkpoint-gap", "soon", a.toString());
    assertThat(gap.exit()).isEqualTo(2);
    assertThat(gap.err()).contains("expected: a duration like 90s, 15m or 2h");
    Run oneMissingDir = run("verify", a.toString(), tmp.resolve("absent").toString());
    assertThat(oneMissingDir.exit()).isEqualTo(2);
    assertThat(oneMissingDir.out()).isEmpty();
  }
}

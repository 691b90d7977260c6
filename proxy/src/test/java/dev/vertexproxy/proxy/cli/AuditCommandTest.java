package dev.vertexproxy.proxy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vertexproxy.proxy.audit.AuditEvent;
import dev.vertexproxy.proxy.audit.AuditLog;
import dev.vertexproxy.proxy.config.AuditConfig;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class AuditCommandTest {
  private static final Instant T0 = Instant.parse("2026-05-01T12:00:00Z");

  @TempDir
  Path tmp;
  Path dir;

  /** What one run printed and returned. */
  record Run(int exit, String out, String err) {
    List<String> lines() {
      return out.isEmpty() ? List.of() : List.of(out.split("\n"));
    }
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

  private static AuditEvent event(int minute, String project, String method, String decision, String reason,
      int status) {
    String subject = "project_path:" + project + ":ref_type:branch:ref:main";
    return new AuditEvent(T0.plus(minute, ChronoUnit.MINUTES), "req-" + minute, "gitlab", subject,
        Map.<String, Object>of("project_path", project, "ref_protected", "true"), "127.0.0.1", "POST",
        "/v1/projects/acme-ml-prod/locations/us-central1/endpoints/42:predict", null, method, "v1",
        "projects/acme-ml-prod/locations/us-central1/endpoints/42", "acme-ml-prod", "us-central1", decision,
        "allow".equals(decision) ? "forecasting-ci" : null, reason,
        "allow".equals(decision) ? "predictor@acme-ml-prod.iam.gserviceaccount.com" : null, status, 10, 100, 200, "v1", "python");
  }

  @BeforeEach
  void writeTrail() throws Exception {
    dir = tmp.resolve("audit");
    AuditConfig config = new AuditConfig(dir, AuditConfig.Durability.NONE, AuditConfig.OnFailure.REJECT);
    try (AuditLog log = AuditLog.open(config, Clock.fixed(T0, ZoneOffset.UTC))) {
      List<CompletableFuture<?>> futures = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        futures.add(log.append(event(i, "acme/ml/forecasting", "endpoints.predict", "allow", "allowed", 200)));
      }
      for (int i = 10; i < 13; i++) {
        futures.add(log.append(event(i, "acme/web/shop", "customJobs.create", "deny", "method-not-granted", 403)));
      }
      futures.add(log.append(new AuditEvent(T0.plus(13, ChronoUnit.MINUTES), "req-13", null, null, null,
          "127.0.0.1", "GET", "/v1/nothing", null, null, null, null, null, null, "deny", null, "route-not-found",
          null, 404, 1, 0, 120, "v1", "curl")));
      for (var future : futures) {
        future.get(10, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void verifyReportsAnIntactChain() {
    Run run = run("verify", dir.toString());
    assertThat(run.exit()).isZero();
    assertThat(run.lines().get(0)).matches("ok: 14 records, chain intact \\(last seq 14, hash [0-9a-f]{64}\\), chain \\S+");
    assertThat(run.lines()).last().isEqualTo("summary: 1 chain, 1 intact, 0 broken");
    assertThat(run.err()).isEmpty();
  }

  @Test
  void verifyNamesTheTamperedRecordAndExitsOne() throws Exception {
    Path file;
    try (var files = Files.list(dir)) {
      file = files.filter(p -> p.toString().endsWith(".jsonl")).findFirst().orElseThrow(); // not the lock file
    }
    String text = Files.readString(file, StandardCharsets.UTF_8);
    Files.writeString(file, text.replaceFirst("\"decision\":\"deny\"", "\"decision\":\"allow\""));
    Run run = run("verify", dir.toString());
    assertThat(run.exit()).isEqualTo(1);
    assertThat(run.err()).contains(file.getFileName() + ":11 (seq 11): hash mismatch — the record was changed")
        .contains("10 records verified before it");
    assertThat(run.out()).isEqualTo("summary: 1 chain, 0 intact, 1 broken\n");
  }

  @Test
  void aMissingDirectoryOrSubcommandIsAUsageError() {
    Run missing = run("verify", tmp.resolve("absent").toString());
    assertThat(missing.exit()).isEqualTo(2);
    assertThat(missing.err()).contains("absent: no such directory");
    assertThat(run("query", tmp.resolve("absent").toString()).exit()).isEqualTo(2);
    assertThat(run("report", tmp.resolve("absent").toString()).exit()).isEqualTo(2);
    assertThat(run().exit()).isEqualTo(2);
    assertThat(run("verify").exit()).isEqualTo(2);
    Run badDecision = run("query", dir.toString(), "--decision", "maybe");
    assertThat(badDecision.exit()).isEqualTo(2);
    assertThat(badDecision.err()).contains("--decision");
    Run badTime = run("query", dir.toString(), "--since", "yesterday");
    assertThat(badTime.exit()).isEqualTo(2);
    assertThat(badTime.err()).contains("expected: RFC 3339");
  }

  @Test
  void queryPrintsTheStoredRecordsThatMatchEveryFilter() {
    Run all = run("query", dir.toString());
    assertThat(all.exit()).isZero();
    assertThat(all.lines()).hasSize(14).allSatisfy(line -> assertThat(line).startsWith("{").endsWith("}"));

    assertThat(run("query", dir.toString(), "--decision", "deny").lines()).hasSize(4);
    assertThat(run("query", dir.toString(), "--decision", "deny", "--reason", "method-not-granted").lines())
        .hasSize(3).allSatisfy(line -> assertThat(line).contains("acme/web/shop"));
    assertThat(run("query", dir.toString(), "--subject", "project_path:acme/ml/*").lines()).hasSize(10);
    assertThat(run("query", dir.toString(), "--subject", "acme/ml/*").lines()).isEmpty(); // globs anchor
    assertThat(run("query", dir.toString(), "--method", "customJobs.*", "--issuer", "gitlab").lines()).hasSize(3);
    assertThat(run("query", dir.toString(), "--status", "404").lines()).singleElement().asString()
        .contains("\"reason\":\"route-not-found\"");
    assertThat(run("query", dir.toString(), "--project", "acme-ml-prod").lines()).hasSize(13);
    assertThat(run("query", dir.toString(), "--since", "2026-05-01T12:02:00Z", "--until", "2026-05-01T12:05:00Z")
        .lines()).hasSize(3).first().asString().contains("\"seq\":3,");
    assertThat(run("query", dir.toString(), "--since", "2026-05-01", "--limit", "2").lines()).hasSize(2);
    assertThat(run("query", dir.toString(), "--since", "1h").lines()).isEmpty(); // the trail is from 2026-05-01
  }

  @Test
  void queryFindsTheOneRecordOfARequestId() {
    String fifth = run("query", dir.toString()).lines().get(4);
    Matcher id = Pattern.compile("\"request_id\":\"([^\"]+)\"").matcher(fifth);
    assertThat(id.find()).as(fifth).isTrue();

    assertThat(run("query", dir.toString(), "--request-id", id.group(1)).lines()).containsExactly(fifth);
    assertThat(run("query", dir.toString(), "--request-id", id.group(1).substring(1)).lines()).isEmpty(); // exact
  }

  @Test
  void queryCanPrintATable() {
    Run table = run("query", dir.toString(), "--decision", "deny", "--format", "table");
    assertThat(table.exit()).isZero();
    assertThat(table.lines()).hasSize(5);
    assertThat(table.lines().get(0)).startsWith("TIME").contains("CALLER", "METHOD", "MODEL/RESOURCE", "DECISION", "RULE",
        "STATUS", "REQUEST_ID");
    assertThat(table.lines().get(1)).contains("2026-05-01T12:10:00.000Z", "gitlab:acme/web/shop@main", "deny", "403",
        "customJobs.create", "req-10");
  }

  @Test
  void reportSummarizesForAReviewer() {
    Run report = run("report", dir.toString(), "--since", "2026-05-01T12:05:00Z");
    assertThat(report.exit()).isZero();
    assertThat(report.out())
        .contains("Records in period: 9 (2026-05-01T12:05:00.000Z .. 2026-05-01T12:13:00.000Z)")
        .containsPattern("Chain \\S+ \\(\\S+\\): intact, 14 records").contains("intact, 14 records in the trail (last seq 14")
        .containsPattern("By decision\n\\s+5  allow\n\\s+4  deny\n")
        .containsPattern("By reason\n\\s+5  allowed\n\\s+3  method-not-granted\n\\s+1  route-not-found\n")
        .containsPattern("\\s+3  customJobs.create")
        .containsPattern("\\s+1  \\(unauthenticated\\)")
        .containsPattern("By project_path claim\n\\s+5  acme/ml/forecasting\n\\s+3  acme/web/shop\n")
        .contains("Denials (4)")
        .contains("seq 14  404  GET -  route-not-found  (unauthenticated)");
  }

  @Test
  void reportSaysWhenTheChainIsBrokenAndExitsOne() throws Exception {
    Path file;
    try (var files = Files.list(dir)) {
      file = files.filter(p -> p.toString().endsWith(".jsonl")).findFirst().orElseThrow(); // not the lock file
    }
    List<String> lines = new ArrayList<>(Files.readAllLines(file));
    lines.remove(3);
    Files.write(file, lines);
    Run report = run("report", dir.toString());
    assertThat(report.exit()).isEqualTo(1);
    assertThat(report.out()).contains("): BROKEN — " + file.getFileName() + ":4 (seq 5): seq 5 follows 3");
  }
}

package dev.vertexproxy.proxy.cli;

import static dev.vertexproxy.proxy.cli.AuditTrails.run;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vertexproxy.proxy.cli.AuditTrails.Ev;
import dev.vertexproxy.proxy.cli.AuditTrails.Run;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuditQueryCommandTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir
  Path tmp;

  private static List<String> ids(Run run) throws IOException {
    List<String> ids = new ArrayList<>();
    for (String line : run.lines()) {
      ids.add(JSON.readTree(line).path("request_id").asText());
    }
    return ids;
  }

  private static Path onlyFile(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(p -> p.getFileName().toString().startsWith("audit-")).findFirst().orElseThrow();
    }
  }

  @Test
  void severalReplicasAreMergedByTimeAndEachKeepsItsChainOrder() throws Exception {
    Path a = tmp.resolve("a");
    Path b = tmp.resolve("b");
    // replica b's clock stepped back between its 2nd and 3rd record: b3 (minute 1) stays after b2 (minute 4)
    AuditTrails.write(a, List.of(Ev.at(0, "a1").event(), Ev.at(3, "a2").event(), Ev.at(6, "a3").event()));
    AuditTrails.write(b, List.of(Ev.at(2, "b1").event(), Ev.at(4, "b2").event(), Ev.at(1, "b3").event(),
        Ev.at(5, "b4").event()));

    Run merged = run("query", a.toString(), b.toString());
    assertThat(merged.exit()).as(merged.err()).isZero();
    assertThat(ids(merged)).containsExactly("a1", "b1", "a2", "b2", "b3", "b4", "a3");
    // a tie on time goes to the directory named first
    assertThat(ids(run("query", b.toString(), a.toString()))).containsExactly("a1", "b1", "a2", "b2", "b3", "b4", "a3");
    assertThat(ids(run("query", a.toString(), b.toString(), "--since", "2026-05-01T12:04:00Z")))
        .containsExactly("b2", "b4", "a3");
    assertThat(ids(run("query", a.toString(), b.toString(), "--limit", "2"))).containsExactly("a1", "b1");
  }

  @Test
  void jsonIsTheStoredLineByteForByteAndGzippedFilesReadTheSame() throws Exception {
    Path dir = tmp.resolve("audit");
    AuditTrails.write(dir, List.of(Ev.at(0, "r1").who("gitlab", "ünïcødé 🚀 \"quoted\"").event(),
        Ev.at(1, "r2").event()));
    Path file = onlyFile(dir);
    String stored = Files.readString(file, StandardCharsets.UTF_8);
    Run plain = run("query", dir.toString());
    assertThat(plain.out()).isEqualTo(stored);

    Path gz = file.resolveSibling(file.getFileName() + ".gz");
    try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(gz))) {
      out.write(Files.readAllBytes(file));
    }
    Files.delete(file);
    assertThat(run("query", dir.toString()).out()).isEqualTo(stored);
    assertThat(ids(run("query", dir.toString(), "--request-id", "r2"))).containsExactly("r2");
  }

  @Test
  void everyNewFilterNarrowsAndTheyCombineWithAnd() throws Exception {
    Path dir = tmp.resolve("audit");
    AuditTrails.write(dir, List.of(
        Ev.at(0, "flash").event(),
        Ev.at(1, "pro").call("publishers.models.generateContent", "gemini-2.5-pro").rule("people-gemini",
            "people@acme-ml-prod.iam.gserviceaccount.com").who("corp", "alice@acme.example")
            .claims(Map.of("groups", List.of("ml-team", "admins"), "email", "alice@acme.example")).event(),
        Ev.at(2, "denied").who("corp", "bob@acme.example").claims(Map.of("groups", List.of("web"))).denied(
            "method-not-granted").event(),
        Ev.at(3, "predict").call("endpoints.predict", null).event()));
    String d = dir.toString();
    assertThat(ids(run("query", d, "--model", "gemini-2.5-*"))).containsExactly("flash", "pro", "denied");
    assertThat(ids(run("query", d, "--model", "gemini-2.5-pro"))).containsExactly("pro");
    assertThat(ids(run("query", d, "--rule", "people-*"))).containsExactly("pro");
    assertThat(ids(run("query", d, "--rule", "forecasting-ci-gemini"))).containsExactly("flash", "predict");
    assertThat(ids(run("query", d, "--service-account", "people@*"))).containsExactly("pro");
    assertThat(ids(run("query", d, "--resource", "*/models/gemini-2.5-flash"))).containsExactly("flash", "denied");
    assertThat(ids(run("query", d, "--resource", "projects/*/endpoints/*"))).containsExactly("predict");
    assertThat(ids(run("query", d, "--claim", "groups=admins"))).containsExactly("pro"); // any element of a list
    assertThat(ids(run("query", d, "--claim", "groups=ml-*", "--claim", "email=*@acme.example"))).containsExactly("pro");
    assertThat(ids(run("query", d, "--claim", "groups=ml-*", "--claim", "email=bob*"))).isEmpty();
    assertThat(ids(run("query", d, "--claim", "project_path=acme/ml/*"))).containsExactly("flash", "predict");
    assertThat(ids(run("query", d, "--outcome", "refused", "--issuer", "corp"))).containsExactly("denied");
    assertThat(ids(run("query", d, "--chain", "no-such-chain"))).isEmpty();
  }

  @Test
  void theWritersOwnRecordsAreHiddenUnlessAskedFor() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("audit"));
    // query reads, it does not verify: hand-written lines of each type stand for what the writer records
    Files.writeString(dir.resolve("audit-20260501T120000Z-1.jsonl"), String.join("\n",
        "{\"time\":\"2026-05-01T12:00:00.000Z\",\"type\":\"checkpoint\",\"chain_id\":\"r-a\",\"seq\":1}",
        "{\"time\":\"2026-05-01T12:00:01.000Z\",\"type\":\"decision\",\"chain_id\":\"r-a\",\"seq\":2,\"request_id\":\"x\"}",
        "{\"time\":\"2026-05-01T12:00:02.000Z\",\"type\":\"exchange\",\"chain_id\":\"r-a\",\"seq\":3,\"request_id\":\"x\"}",
        "{\"time\":\"2026-05-01T12:00:03.000Z\",\"chain_id\":\"r-a\",\"seq\":4,\"request_id\":\"legacy\"}",
        "{\"time\":\"2026-05-01T12:00:04.000Z\",\"type\":\"seal\",\"chain_id\":\"r-a\",\"seq\":5}",
        "{\"time\":\"2026-05-01T12:00:05.000Z\",\"type\":\"retention\",\"chain_id\":\"r-b\",\"seq\":6}",
        "not json at all",
        "{\"time\":\"2026-05-01T12:00:06.000Z\",\"type\":\"exchange\",\"seq\":7,\"request_id\":\"torn\"}"));
    String d = dir.toString();
    assertThat(seqs(run("query", d))).containsExactly(2L, 3L, 4L); // the torn last line is not a record yet
    assertThat(seqs(run("query", d, "--type", "checkpoint,seal"))).containsExactly(1L, 5L);
    assertThat(seqs(run("query", d, "--type", "exchange"))).containsExactly(3L, 4L); // no type = exchange
    assertThat(seqs(run("query", d, "--type", "all"))).containsExactly(1L, 2L, 3L, 4L, 5L, 6L);
    assertThat(seqs(run("query", d, "--type", "all", "--chain", "r-b"))).containsExactly(6L);
    assertThat(seqs(run("query", d, "--request-id", "x"))).containsExactly(2L, 3L);
    Run bad = run("query", d, "--type", "exchanges");
    assertThat(bad.exit()).isEqualTo(2);
    assertThat(bad.err()).contains("--type: 'exchanges' (expected: exchange, decision, checkpoint, seal, retention or all)");
    Run badClaim = run("query", d, "--claim", "groups");
    assertThat(badClaim.exit()).isEqualTo(2);
    assertThat(badClaim.err()).contains("--claim: 'groups' (expected: KEY=GLOB");
    assertThat(run("query", d, tmp.resolve("absent").toString()).exit()).isEqualTo(2);
  }

  private static List<Long> seqs(Run run) throws IOException {
    assertThat(run.exit()).as(run.err()).isZero();
    List<Long> seqs = new ArrayList<>();
    for (String line : run.lines()) {
      seqs.add(JSON.readTree(line).path("seq").asLong());
    }
    return seqs;
  }

  @Test
  void theRequestIdPrefilterNeverHidesAMatchNorShowsAMiss() throws Exception {
    Path dir = tmp.resolve("audit");
    AuditTrails.write(dir, List.of(
        Ev.at(0, "req-7").event(),
        Ev.at(1, "other").who("gitlab", "mentions req-7 in its subject").event(),
        Ev.at(2, "id with \"quotes\" and é").event(),
        Ev.at(3, "req-77").event()));
    String d = dir.toString();
    assertThat(ids(run("query", d, "--request-id", "req-7"))).containsExactly("req-7");
    assertThat(ids(run("query", d, "--request-id", "id with \"quotes\" and é"))).containsExactly("id with \"quotes\" and é");
    assertThat(ids(run("query", d, "--subject", "mentions req-7 in its subject"))).containsExactly("other");
  }

  @Test
  void aLineLongerThanTheReadBufferIsOneRecord() throws Exception {
    Path dir = tmp.resolve("audit");
    String big = "x".repeat(300_000);
    AuditTrails.write(dir, List.of(Ev.at(0, "small").event(), Ev.at(1, "big").claims(Map.of("note", big)).event(),
        Ev.at(2, "after").event()));
    Run all = run("query", dir.toString());
    assertThat(ids(all)).containsExactly("small", "big", "after");
    assertThat(JSON.readTree(all.lines().get(1)).path("caller").path("claims").path("note").asText()).isEqualTo(big);
  }

  @Test
  void csvHasFixedColumnsQuotesAsRfc4180AndDefusesFormulas() throws Exception {
    Path dir = tmp.resolve("audit");
    AuditTrails.write(dir, List.of(
        Ev.at(0, "plain").event(),
        Ev.at(1, "hostile").who("gitlab", "=HYPERLINK(\"http://evil.example\",\"click\")").event(),
        Ev.at(2, "comma").who("corp", "+1, \"two\"\nthree").denied("identity-not-matched").event(),
        Ev.at(3, "at").who("corp", "@SUM(A1)").event(),
        Ev.at(4, "minus").who("corp", "-2+3").event(),
        Ev.at(5, "tab").who("corp", "\tcmd").event()));
    Run csv = run("query", dir.toString(), "--format", "csv");
    assertThat(csv.exit()).as(csv.err()).isZero();
    assertThat(csv.out()).startsWith("time,request_id,chain_id,seq,type,issuer,subject,source_ip,http_method,method,"
        + "model,resource,project,location,decision,outcome,rule,reason,google_principal,status,duration_ms,bytes_in,"
        + "bytes_out\r\n");
    assertThat(csv.out().replace("\r\n", "")).doesNotContain("\r"); // every line ends in CRLF
    List<List<String>> rows = Rfc4180.parse(csv.out());
    assertThat(rows).hasSize(7).allSatisfy(row -> assertThat(row).hasSize(23));
    List<String> plain = rows.get(1);
    assertThat(plain.get(0)).isEqualTo("2026-05-01T12:00:00.000Z");
    assertThat(plain.subList(3, 7)).containsExactly("1", "exchange", "gitlab",
        "project_path:acme/ml/forecasting:ref_type:branch:ref:main");
    assertThat(plain.get(10)).isEqualTo("gemini-2.5-flash");
    assertThat(plain.subList(19, 23)).containsExactly("200", "42", "120", "900");
    assertThat(rows.get(2).get(6)).isEqualTo("'=HYPERLINK(\"http://evil.example\",\"click\")");
    assertThat(rows.get(3).get(6)).isEqualTo("'+1, \"two\"\nthree");
    assertThat(rows.get(3).get(18)).isEmpty(); // no google_principal on a denial
    assertThat(rows.get(4).get(6)).isEqualTo("'@SUM(A1)");
    assertThat(rows.get(5).get(6)).isEqualTo("'-2+3");
    assertThat(rows.get(6).get(6)).isEqualTo("'\tcmd");
  }

  @Test
  void theTableShortensCallersAndNeverPassesTerminalControlCharacters() throws Exception {
    Path dir = tmp.resolve("audit");
    AuditTrails.write(dir, List.of(
        Ev.at(0, "esc").who("corp", "evil\u001b]0;pwned\u0007\u001b[2J\u202eright-to-left").event(),
        Ev.at(1, "long").who("corp", "a-very-long-subject-" + "x".repeat(80) + "-with-a-distinct-end").event()));
    Run table = run("query", dir.toString(), "--format", "table");
    assertThat(table.exit()).isZero();
    assertThat(table.out()).doesNotContain("\u001b", "\u0007", "\u202e");
    assertThat(table.lines().get(1)).contains("corp:evil?]0;pwne…?[2J?right-to-left");
    assertThat(table.lines().get(2)).contains("corp:a-very-long-…ith-a-distinct-end").doesNotContain("xxxxxxxxxxxxxxxxxxxx");
    assertThat(AuditQueryCommand.defaultFormat(true)).isEqualTo(AuditQueryCommand.Format.table);
    assertThat(AuditQueryCommand.defaultFormat(false)).isEqualTo(AuditQueryCommand.Format.json);
  }

  /** A strict RFC 4180 reader, so the test checks the quoting instead of trusting it. */
  static final class Rfc4180 {
    static List<List<String>> parse(String text) {
      List<List<String>> rows = new ArrayList<>();
      List<String> row = new ArrayList<>();
      StringBuilder cell = new StringBuilder();
      int i = 0;
      boolean quoted = false;
      while (i < text.length()) {
        char c = text.charAt(i);
        if (quoted) {
          if (c == '"' && i + 1 < text.length() && text.charAt(i + 1) == '"') {
            cell.append('"');
            i += 2;
            continue;
          }
          if (c == '"') {
            quoted = false;
          } else {
            cell.append(c);
          }
        } else if (c == '"' && cell.length() == 0) {
          quoted = true;
        } else if (c == ',') {
          row.add(cell.toString());
          cell.setLength(0);
        } else if (c == '\r' && i + 1 < text.length() && text.charAt(i + 1) == '\n') {
          row.add(cell.toString());
          cell.setLength(0);
          rows.add(row);
          row = new ArrayList<>();
          i++;
        } else if (c == '"') {
          throw new IllegalArgumentException("quote inside an unquoted cell at " + i);
        } else {
          cell.append(c);
        }
        i++;
      }
      if (quoted || cell.length() > 0 || !row.isEmpty()) {
        throw new IllegalArgumentException("the last row does not end in CRLF");
      }
      return rows;
    }
  }

  static JsonNode first(Run run) throws IOException {
    return JSON.readTree(run.lines().get(0));
  }
}

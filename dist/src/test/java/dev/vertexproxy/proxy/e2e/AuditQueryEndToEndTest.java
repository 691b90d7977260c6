package dev.vertexproxy.proxy.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vertexproxy.proxy.audit.AuditVerifier;
import dev.vertexproxy.proxy.cli.AuditCommand;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The support path a person follows after a refusal, through the real proxy: the 403 names a request id (in the
 * {@code x-vertex-proxy-request-id} header and in {@code error.details}), and {@code audit query --request-id} finds
 * exactly that call's record, with the reason the caller was told; the allowed call beside it is found by its own id
 * and by resource, method and claim, and both show up in the CSV a reviewer opens.
 */
class AuditQueryEndToEndTest {
  @TempDir
  Path tmp;

  private static String[] query(Path dir, String... filters) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = new CommandLine(new AuditCommand());
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    String[] args = new String[filters.length + 2];
    args[0] = "query";
    args[1] = dir.toString();
    System.arraycopy(filters, 0, args, 2, filters.length);
    assertThat(cli.execute(args)).as(err.toString()).isZero();
    return out.toString().isEmpty() ? new String[0] : out.toString().split("\r?\n");
  }

  @Test
  void theRequestIdOfARefusalFindsItsRecord() throws Exception {
    DevStack stack = DevStack.start(tmp, null);
    try {
      stack.awaitReady();
      HttpResponse<String> allowed = stack.post(stack.examplePath(), "Bearer " + stack.mint(Map.of()), DevStack.BODY);
      HttpResponse<String> denied = stack.post(stack.examplePath(),
          "Bearer " + stack.mint(Map.of("project_path", "acme/other")), DevStack.BODY);
      assertThat(List.of(allowed.statusCode(), denied.statusCode())).containsExactly(200, 403);

      String headerId = denied.headers().firstValue("x-vertex-proxy-request-id").orElseThrow();
      JsonNode details = DevStack.JSON.readTree(denied.body()).path("error").path("details").path(0);
      String bodyId = details.path("metadata").path("request_id").asText();
      assertThat(bodyId).isEqualTo(headerId);
      String allowedId = allowed.headers().firstValue("x-vertex-proxy-request-id").orElseThrow();
      stack.awaitAudit(List.of(headerId, allowedId));

      String[] found = query(stack.auditDir(), "--request-id", bodyId, "--format", "json");
      assertThat(found).hasSize(1);
      JsonNode record = DevStack.JSON.readTree(found[0]);
      assertThat(record.path("request_id").asText()).isEqualTo(bodyId);
      assertThat(record.path("decision").asText()).isEqualTo("deny");
      assertThat(record.path("status").asInt()).isEqualTo(403);
      assertThat(record.path("reason").asText()).isEqualTo(details.path("reason").asText());
      assertThat(record.path("caller").path("claims").path("project_path").asText()).isEqualTo("acme/other");

      assertThat(query(stack.auditDir(), "--request-id", allowedId, "--format", "json")).singleElement().asString()
          .contains("\"decision\":\"allow\"");
      assertThat(query(stack.auditDir(), "--request-id", headerId.substring(1), "--format", "json")).isEmpty();
      assertThat(query(stack.auditDir(), "--resource", "*/publishers/*/models/*", "--method", "publishers.models.*",
          "--claim", "project_path=acme/*", "--format", "json")).hasSize(2);
      assertThat(query(stack.auditDir(), "--claim", "project_path=acme/other", "--format", "json")).hasSize(1);
      String[] csv = query(stack.auditDir(), "--decision", "deny", "--format", "csv");
      assertThat(csv).hasSize(2);
      assertThat(csv[1]).contains(bodyId, "deny", "refused", "403");
    } finally {
      stack.dev.close();
    }
    assertThat(AuditVerifier.verify(stack.auditDir()).ok()).isTrue();
  }
}

package dev.vertexproxy.proxy.audit;

import static dev.vertexproxy.proxy.audit.TestEvents.CLOCK;
import static dev.vertexproxy.proxy.audit.TestEvents.T0;
import static dev.vertexproxy.proxy.audit.TestEvents.config;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vertexproxy.proxy.config.AuditConfig.Durability;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuditRecordsTest {
  private static final String JWT =
      "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJwcm9qZWN0X3BhdGg6YWNtZSJ9.c2lnbmF0dXJlLWJ5dGVz";

  @TempDir
  Path dir;

  private static AuditEvent withClaims(Map<String, Object> claims, String query) {
    return new AuditEvent(T0, "req-1", "gitlab", "project_path:acme/ml", claims, "127.0.0.1", "POST",
        "/v1/projects/p/locations/us-central1/endpoints/1:predict", query, "endpoints.predict", "v1",
        "projects/p/locations/us-central1/endpoints/1", "p", "us-central1", "allow", "r", "allowed", "sa@p.iam",
        200, 5, 1, 2, "v1", "curl/8 " + "Bearer " + JWT);
  }

  @Test
  void neverWritesACredentialEvenIfOneReachesTheClaims() throws Exception {
    Map<String, Object> claims = new LinkedHashMap<>();
    claims.put("project_path", "acme/ml");
    claims.put("access_token", "ya29.not-a-jwt-but-a-google-token");
    claims.put("nested", Map.of("Authorization", "Basic dXNlcjpwYXNz", "Set-Cookie", "sid=abc",
        "db_password", "hunter2", "client_secret", "s3cr3t", "list", List.of(JWT, "1.2.3")));
    claims.put("copied_jwt", JWT);
    claims.put("version", "1.2.3");
    claims.put("ref_protected", true);
    claims.put("iat", 1_700_000_000L);
    try (AuditLog log = AuditLog.open(config(dir, Durability.NONE), CLOCK)) {
      log.append(withClaims(claims, "alt=sse&key=AIzaSyD-secret-api-key&access_token=ya29.xyz&pageSize=10"))
          .get(10, TimeUnit.SECONDS);
    }
    String line = Files.readString(AuditFiles.list(dir).get(0), StandardCharsets.UTF_8);
    assertThat(line).doesNotContain("ya29").doesNotContain("dXNlcjpwYXNz").doesNotContain("sid=abc")
        .doesNotContain("hunter2").doesNotContain("s3cr3t").doesNotContain("eyJ").doesNotContain("AIza");
    ObjectNode record = AuditRecords.parse(line.strip().getBytes(StandardCharsets.UTF_8));
    ObjectNode saved = (ObjectNode) record.get("caller").get("claims");
    assertThat(saved.get("access_token").asText()).isEqualTo("[redacted]");
    assertThat(saved.get("nested").get("Authorization").asText()).isEqualTo("[redacted]");
    assertThat(saved.get("nested").get("Set-Cookie").asText()).isEqualTo("[redacted]");
    assertThat(saved.get("nested").get("list").get(0).asText()).isEqualTo("[redacted]");
    assertThat(saved.get("nested").get("list").get(1).asText()).isEqualTo("1.2.3");
    assertThat(saved.get("copied_jwt").asText()).isEqualTo("[redacted]");
    assertThat(saved.get("version").asText()).isEqualTo("1.2.3"); // dotted, but not a JWT
    assertThat(saved.get("ref_protected").asBoolean()).isTrue();
    assertThat(saved.get("iat").asLong()).isEqualTo(1_700_000_000L);
    assertThat(saved.get("project_path").asText()).isEqualTo("acme/ml");
    assertThat(record.get("query").asText())
        .isEqualTo("alt=sse&key=[redacted]&access_token=[redacted]&pageSize=10");
    assertThat(record.get("user_agent").asText()).isEqualTo("curl/8 Bearer [redacted]");
    assertThat(AuditVerifier.verify(dir).ok()).isTrue();
  }

  @Test
  void secretQueryParametersAreRedactedInEverySpellingGoogleWouldAccept() {
    String redacted = AuditRecords.redactQuery(
        "alt=sse&key=S1&$key=S2&%6Bey=S3&acc%65ss_tok%65n=S4&api_key=S5&x-goog-api-key=S6&pageSize=10");
    assertThat(redacted).doesNotContain("S1", "S2", "S3", "S4", "S5", "S6").contains("alt=sse").contains("pageSize=10");
  }

  @Test
  void canonicalFormSortsKeysAtEveryLevelWithoutWhitespace() throws Exception {
    ObjectNode node = AuditRecords.parse(
        "{\"b\": 1, \"a\": {\"z\": [3, {\"y\": true, \"x\": null}], \"é\": \"ü\\n\"}, \"A\": 1.5}"
            .getBytes(StandardCharsets.UTF_8));
    assertThat(new String(AuditRecords.canonical(node), StandardCharsets.UTF_8))
        .isEqualTo("{\"A\":1.5,\"a\":{\"z\":[3,{\"x\":null,\"y\":true}],\"é\":\"ü\\n\"},\"b\":1}");
  }

  @Test
  void writesWhatOtherJsonToolsWriteSoTheyCanReverify() {
    Map<String, Object> claims = new LinkedHashMap<>();
    claims.put("weight", 1.5e10);
    claims.put("text", "tab\t ctl\u001f emoji\uD83D\uDE00 lone\uD800 literal\\u001f");
    ObjectNode record = AuditRecords.toJson(withClaims(claims, null), T0);
    String canonical = new String(AuditRecords.canonical(record.get("caller").get("claims")), StandardCharsets.UTF_8);
    // what python3 json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False) and jq -cS print
    assertThat(canonical).isEqualTo(
        "{\"text\":\"tab\\t ctl\\u001f emoji\uD83D\uDE00 lone? literal\\\\u001f\",\"weight\":\"1.5E10\"}");
  }

  @Test
  void theHashIsSha256OfTheCanonicalFormWithoutTheHashMember() throws Exception {
    ObjectNode record = AuditRecords.parse("{\"seq\":1,\"prev_hash\":\"00\",\"decision\":\"allow\"}"
        .getBytes(StandardCharsets.UTF_8));
    // echo -n '{"decision":"allow","prev_hash":"00","seq":1}' | sha256sum
    assertThat(AuditRecords.hash(record))
        .isEqualTo("be1feb0a959013ef15a4e47f4260e84fe6d897d939dc3c0daa84a8e2da085cdb");
  }
}

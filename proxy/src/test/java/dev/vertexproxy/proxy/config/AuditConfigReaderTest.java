package dev.vertexproxy.proxy.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.vertexproxy.policy.yaml.Problem;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AuditConfigReaderTest {
  private static final Path BASE = Path.of("/etc/vertex-proxy");
  private static final String HEAD = """
      listen: { address: 127.0.0.1:8443 }
      identity: { issuers: [ { name: gitlab, issuer: https://gitlab.example.com, audiences: [x] } ] }
      policy: { file: policy.yaml }
      """;
  private final ConfigLoader loader = new ConfigLoader(Map.<String, String>of()::get);

  private AuditConfig audit(String section) throws ConfigException {
    return loader.parse(HEAD + section, "proxy.yaml", BASE).audit();
  }

  private List<String> problems(String section) {
    Throwable[] thrown = new Throwable[1];
    assertThatThrownBy(() -> audit(section)).isInstanceOfSatisfying(ConfigException.class, e -> thrown[0] = e);
    return ((ConfigException) thrown[0]).problems().stream().map(Problem::toString).toList();
  }

  @Test
  void theSpecExampleLoadsEveryKey() throws Exception {
    AuditConfig a = audit("""
        audit:
          dir: audit/
          chain_id: replica-a
          durability: sync
          on_failure: continue
          rotate: { max_bytes: 64MiB, max_age: 6h }
          retention: { max_age: 400d, max_total_bytes: 50GiB }
          checkpoint:
            key_file: checkpoint-ed25519.pem
            interval: 1m
            external: { file: /mnt/anchor/checkpoints.jsonl, stdout: true }
          capture: { body_sha256: true, bodies: { methods: ["publishers.models.generateContent"], max_bytes: 4KiB } }
          stdout: cloud_logging
        """);
    assertThat(a.dir()).isEqualTo(BASE.resolve("audit/"));
    assertThat(a.chainId()).isEqualTo("replica-a");
    assertThat(a.durability()).isEqualTo(AuditConfig.Durability.SYNC);
    assertThat(a.onFailure()).isEqualTo(AuditConfig.OnFailure.CONTINUE);
    assertThat(a.rotate()).isEqualTo(new AuditConfig.Rotate(64L << 20, Duration.ofHours(6)));
    assertThat(a.retention()).isEqualTo(new AuditConfig.Retention(Duration.ofDays(400), 50L << 30));
    assertThat(a.checkpoint()).isEqualTo(new AuditConfig.Checkpoint(BASE.resolve("checkpoint-ed25519.pem"),
        Duration.ofMinutes(1), Path.of("/mnt/anchor/checkpoints.jsonl"), true));
    assertThat(a.capture()).isEqualTo(new AuditConfig.Capture(true, List.of("publishers.models.generateContent"), 4096));
    assertThat(a.stdout()).isEqualTo(AuditConfig.Stdout.CLOUD_LOGGING);
  }

  @Test
  void onlyTheDirIsNeeded() throws Exception {
    AuditConfig a = audit("audit: { dir: audit }\n");
    assertThat(a).isEqualTo(new AuditConfig(BASE.resolve("audit"), null, null));
    assertThat(a.rotate()).isEqualTo(AuditConfig.Rotate.DEFAULT);
    assertThat(a.checkpoint()).isNull();
    assertThat(a.retention()).isNull();
    assertThat(a.capture()).isEqualTo(AuditConfig.Capture.NONE);
    assertThat(audit("audit: { dir: a, checkpoint: { key_file: k.pem } }\n").checkpoint().interval())
        .isEqualTo(Duration.ofMinutes(5));
  }

  @Test
  void retentionWithoutCheckpointsIsRefusedWithItsLine() {
    assertThat(problems("audit:\n  dir: a\n  retention: { max_age: 30d }\n")).singleElement().asString()
        .startsWith("proxy.yaml:6:").contains("audit.retention").contains("needs audit.checkpoint");
  }

  @Test
  void badValuesAreReportedAtOnce() {
    List<String> problems = problems("""
        audit:
          dir: a
          chain_id: "two words"
          rotate: { max_bytes: 10, max_age: 0s }
          checkpoint: { interval: 5m }
          retention: { }
          stdout: syslog
        """);
    assertThat(String.join("\n", problems)).contains("audit.chain_id").contains("audit.rotate.max_bytes")
        .contains("audit.rotate.max_age").contains("audit.checkpoint.key_file").contains("audit.stdout")
        .contains("max_age and max_total_bytes");
    assertThat(problems("audit: { dir: a, checkpoint: { key_file: k }, retention: { max_age: 10m } }\n"))
        .singleElement().asString().contains("audit.retention.max_age").contains("at least 1h");
  }
}

package dev.vertexproxy.proxy.doctor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vertexproxy.proxy.audit.Checkpoints;
import dev.vertexproxy.proxy.config.AuditConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPairGenerator;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointKeyCheckTest {
  @TempDir
  Path dir;

  private List<CheckResult> run(Path key, Path external) {
    AuditConfig audit = new AuditConfig(dir.resolve("audit"), null, null)
        .withCheckpoint(key == null ? null : new AuditConfig.Checkpoint(key, Duration.ofMinutes(5), external, false));
    return new CheckpointKeyCheck(audit).run();
  }

  @Test
  void withoutCheckpointsItWarnsWhatCannotBeDetectedAndHowToSwitchThemOn() {
    List<CheckResult> rows = run(null, null);
    assertThat(rows).singleElement().satisfies(row -> {
      assertThat(row.status()).isEqualTo(CheckResult.Status.WARN);
      assertThat(row.detail()).contains("rewritten chain").contains("cut tail");
      assertThat(row.fix()).contains("audit keygen");
    });
  }

  @Test
  void anOwnerOnlyKeyPassesWithItsIdAndNeverItsBytes() throws Exception {
    Checkpoints.SigningKey key = Checkpoints.generate();
    Path file = dir.resolve("k.pem");
    Files.writeString(file, Checkpoints.privatePem(key), StandardCharsets.US_ASCII);
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    List<CheckResult> rows = run(file, null);
    assertThat(rows).singleElement().satisfies(row -> {
      assertThat(row.status()).isEqualTo(CheckResult.Status.PASS);
      assertThat(row.detail()).contains(key.keyId());
    });
    String body = Checkpoints.privatePem(key).lines().filter(l -> !l.startsWith("-----")).findFirst().orElseThrow();
    assertThat(rows.toString()).doesNotContain(body);
  }

  @Test
  void aWorldReadableKeyIsAWarningAndAnRsaKeyOrAMissingFileFails() throws Exception {
    Checkpoints.SigningKey key = Checkpoints.generate();
    Path file = dir.resolve("k.pem");
    Files.writeString(file, Checkpoints.privatePem(key), StandardCharsets.US_ASCII);
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
    assertThat(run(file, null)).extracting(CheckResult::status)
        .containsExactly(CheckResult.Status.PASS, CheckResult.Status.WARN);

    Path rsa = dir.resolve("rsa.pem");
    KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
    generator.initialize(2048);
    byte[] der = generator.generateKeyPair().getPrivate().getEncoded();
    Files.writeString(rsa, "-----BEGIN PRIVATE KEY-----\n" + Base64.getMimeEncoder().encodeToString(der)
        + "\n-----END PRIVATE KEY-----\n");
    assertThat(run(rsa, null)).singleElement().satisfies(row -> {
      assertThat(row.status()).isEqualTo(CheckResult.Status.FAIL);
      assertThat(row.detail()).contains("not an Ed25519 private key");
    });
    assertThat(run(dir.resolve("missing.pem"), null)).singleElement()
        .extracting(CheckResult::status).isEqualTo(CheckResult.Status.FAIL);
  }

  @Test
  void anExternalAnchorInAMissingDirectoryFails() throws Exception {
    Path file = dir.resolve("k.pem");
    Files.writeString(file, Checkpoints.privatePem(Checkpoints.generate()), StandardCharsets.US_ASCII);
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    assertThat(run(file, dir.resolve("nowhere/anchor.jsonl"))).extracting(CheckResult::status)
        .containsExactly(CheckResult.Status.PASS, CheckResult.Status.FAIL);
    assertThat(run(file, dir.resolve("anchor.jsonl"))).extracting(CheckResult::status)
        .containsExactly(CheckResult.Status.PASS, CheckResult.Status.PASS);
  }
}

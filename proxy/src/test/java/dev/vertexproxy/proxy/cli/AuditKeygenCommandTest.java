package dev.vertexproxy.proxy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vertexproxy.proxy.audit.Checkpoints;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.PublicKey;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class AuditKeygenCommandTest {
  @TempDir
  Path tmp;

  private record Run(int exit, String out, String err) {
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

  @Test
  void writesAnOwnerOnlyPrivateKeyAndItsPublicHalfThatSignAndVerify() throws Exception {
    Path key = tmp.resolve("checkpoint-ed25519.pem");
    Run run = run("keygen", "--out", key.toString());
    assertThat(run.exit()).as(run.err()).isZero();
    Path pub = tmp.resolve("checkpoint-ed25519.pem.pub");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(key))).isEqualTo("rw-------");
    assertThat(Files.readString(key)).startsWith("-----BEGIN PRIVATE KEY-----\n");
    assertThat(Files.readString(pub)).startsWith("-----BEGIN PUBLIC KEY-----\n");
    Checkpoints.SigningKey signing = Checkpoints.readPrivate(key);
    PublicKey published = Checkpoints.readPublic(pub);
    byte[] payload = Checkpoints.payload("c", 1, "0".repeat(64), "2026-05-01T12:00:00.000Z");
    assertThat(Checkpoints.verify(published, payload, Checkpoints.sign(signing, payload))).isTrue();
    assertThat(run.out()).contains("key id " + Checkpoints.keyId(published)).contains("audit verify --key " + pub)
        .doesNotContain(Files.readString(key).lines().skip(1).findFirst().orElseThrow()); // never the key itself
  }

  @Test
  void refusesToOverwriteEitherFile() throws Exception {
    Path key = tmp.resolve("k.pem");
    Files.writeString(key, "precious");
    Run run = run("keygen", "--out", key.toString());
    assertThat(run.exit()).isEqualTo(2);
    assertThat(run.err()).contains("already exists");
    assertThat(Files.readString(key)).isEqualTo("precious");
    assertThat(Files.exists(tmp.resolve("k.pem.pub"))).isFalse();

    Path other = tmp.resolve("o.pem");
    Files.writeString(tmp.resolve("o.pem.pub"), "precious", StandardCharsets.US_ASCII);
    assertThat(run("keygen", "--out", other.toString()).exit()).isEqualTo(2);
    assertThat(Files.exists(other)).isFalse();
    assertThat(Files.readString(tmp.resolve("o.pem.pub"))).isEqualTo("precious");
  }

  @Test
  void aMissingDirectoryOrOptionIsAUsageError() {
    assertThat(run("keygen", "--out", tmp.resolve("no/such/dir/k.pem").toString()).exit()).isEqualTo(2);
    assertThat(run("keygen").exit()).isEqualTo(2);
  }
}

package dev.vertexproxy.proxy.audit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vertexproxy.proxy.config.AuditConfig;
import dev.vertexproxy.proxy.config.AuditConfig.Durability;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * What the writer tests read back: every complete line of a directory's files, parsed, in chain order — read directly,
 * not through the verifier, and checked for a dense, hash-linked chain on the way.
 */
final class Trail {
  private Trail() {
  }

  static List<ObjectNode> records(Path dir) throws IOException {
    List<ObjectNode> all = new ArrayList<>();
    for (Path file : AuditFiles.list(dir)) {
      all.addAll(lines(file));
    }
    String prev = AuditRecords.GENESIS_HASH;
    long seq = all.isEmpty() ? 0 : all.get(0).get("seq").asLong() - 1;
    if (seq == 0) {
      for (ObjectNode r : all) {
        assertThat(r.get("seq").asLong()).as("seq of %s", r).isEqualTo(++seq);
        assertThat(r.get("prev_hash").asText()).as("prev_hash of seq %s", seq).isEqualTo(prev);
        ObjectNode copy = r.deepCopy();
        copy.remove("hash");
        assertThat(AuditRecords.hash(copy)).as("hash of seq %s", seq).isEqualTo(r.get("hash").asText());
        prev = r.get("hash").asText();
      }
    }
    return all;
  }

  /** The complete lines of one file. */
  static List<ObjectNode> lines(Path file) throws IOException {
    List<ObjectNode> out = new ArrayList<>();
    String text = Files.readString(file, StandardCharsets.UTF_8);
    String[] lines = text.split("\n", -1);
    for (int i = 0; i < lines.length - 1; i++) { // the last piece is "" or a partial line
      out.add(AuditRecords.parse(lines[i].getBytes(StandardCharsets.UTF_8)));
    }
    return out;
  }

  static List<ObjectNode> ofType(List<ObjectNode> records, String type) {
    return records.stream().filter(r -> type.equals(r.path("type").asText())).toList();
  }

  /** A config with checkpoints signed by {@code key} every {@code interval}. */
  static AuditConfig withCheckpoints(Path dir, Path key, Duration interval) {
    return new AuditConfig(dir, Durability.GROUP_COMMIT, AuditConfig.OnFailure.REJECT)
        .withCheckpoint(new AuditConfig.Checkpoint(key, interval, null, false));
  }

  /** Writes a new key pair as {@code dir/name} and {@code dir/name.pub}; returns the private key's path. */
  static Path newKey(Path dir, String name) throws IOException {
    Checkpoints.SigningKey key = Checkpoints.generate();
    Path file = dir.resolve(name);
    Files.writeString(file, Checkpoints.privatePem(key));
    Files.writeString(dir.resolve(name + ".pub"), Checkpoints.publicPem(key.publicKey()));
    return file;
  }
}

package dev.vertexproxy.dev;

import dev.vertexproxy.proxy.audit.Checkpoints;
import dev.vertexproxy.proxy.files.PrivateFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Dev mode's checkpoint key: an Ed25519 pair in the state directory, made on the first start and kept after, so the
 * dev trail carries signed checkpoints (every minute) that {@code audit verify --key} checks, as in production.
 */
final class DevCheckpointKey {
  static final String FILE_NAME = "checkpoint-ed25519.pem";

  private DevCheckpointKey() {
  }

  /** The {@code audit.checkpoint} section for {@code state}, creating the key pair there if it is not yet. */
  static Map<String, Object> section(Path state) throws IOException {
    Path key = state.resolve(FILE_NAME);
    Path pub = publicKey(state);
    if (!Files.exists(key) || !Files.exists(pub)) {
      Checkpoints.SigningKey generated = Checkpoints.generate();
      PrivateFiles.replace(key, Checkpoints.privatePem(generated).getBytes(StandardCharsets.US_ASCII));
      PrivateFiles.replace(pub, Checkpoints.publicPem(generated.publicKey()).getBytes(StandardCharsets.US_ASCII));
    }
    Map<String, Object> section = new LinkedHashMap<>();
    section.put("key_file", key.toString());
    section.put("interval", "1m");
    return section;
  }

  /** The public half, for reviewers' {@code audit verify --key}. */
  static Path publicKey(Path state) {
    return state.resolve(FILE_NAME + ".pub");
  }
}

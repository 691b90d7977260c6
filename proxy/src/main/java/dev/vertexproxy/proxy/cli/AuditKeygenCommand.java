package dev.vertexproxy.proxy.cli;

import dev.vertexproxy.proxy.audit.Checkpoints;
import dev.vertexproxy.proxy.files.PrivateFiles;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ExitCode;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code vertex-proxy audit keygen --out FILE}: a new Ed25519 key pair for signed checkpoints — {@code FILE}, the
 * private key (PKCS#8 PEM, mode 0600, for {@code audit.checkpoint.key_file}), and {@code FILE.pub}, the public key
 * (X.509 PEM, for reviewers' {@code audit verify --key}). Refuses to overwrite either: replacing a key by accident
 * would leave checkpoints nobody can verify. Prints the key id that checkpoints name.
 */
@Command(name = "keygen", mixinStandardHelpOptions = true,
    description = "Write a new Ed25519 checkpoint key pair: FILE (private, 0600) and FILE.pub (public).")
final class AuditKeygenCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Option(names = "--out", required = true, paramLabel = "FILE",
      description = "Where the private key goes; the public key goes to FILE.pub. Neither may exist.")
  Path out;

  @Override
  public Integer call() {
    PrintWriter stdout = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    Path pub = out.resolveSibling(out.getFileName() + ".pub");
    for (Path existing : new Path[] {out, pub}) {
      if (Files.exists(existing)) {
        err.println(existing + " already exists: not overwritten (a replaced key leaves checkpoints nobody can"
            + " verify; choose another --out, or move the old pair away first)");
        err.flush();
        return ExitCode.USAGE;
      }
    }
    Checkpoints.SigningKey key = Checkpoints.generate();
    try {
      Path parent = out.toAbsolutePath().getParent();
      if (!Files.isDirectory(parent)) {
        err.println(parent + ": no such directory");
        err.flush();
        return ExitCode.USAGE;
      }
      if (!PrivateFiles.createIfAbsent(out, Checkpoints.privatePem(key).getBytes(StandardCharsets.US_ASCII))) {
        err.println(out + " already exists: not overwritten");
        err.flush();
        return ExitCode.USAGE;
      }
      if (!PrivateFiles.createIfAbsent(pub, Checkpoints.publicPem(key.publicKey()).getBytes(StandardCharsets.US_ASCII))) {
        Files.delete(out); // ours, just written: leave no private key without its public half
        err.println(pub + " already exists: not overwritten");
        err.flush();
        return ExitCode.USAGE;
      }
    } catch (IOException e) {
      err.println("cannot write the key pair: " + e.getMessage());
      err.flush();
      return 1;
    }
    stdout.printf("wrote %s (private, 0600) and %s (public); key id %s%n", out, pub, key.keyId());
    stdout.printf("proxy.yaml:  audit: { checkpoint: { key_file: %s } }%n", out);
    stdout.printf("reviewers:   vertex-proxy audit verify --key %s AUDIT_DIR%n", pub);
    stdout.flush();
    return ExitCode.OK;
  }
}

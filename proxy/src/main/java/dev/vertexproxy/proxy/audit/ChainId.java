package dev.vertexproxy.proxy.audit;

import dev.vertexproxy.proxy.files.PrivateFiles;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The id of a directory's chain, kept in its {@value #FILE_NAME} file: one line, {@code [A-Za-z0-9._-]{1,64}}. Every
 * record the writer appends carries it as {@code chain_id}, so records of two replicas' trails cannot be mixed up or
 * passed off as each other's. Created (0600) on the first start as {@code <hostname>-<8 lowercase hex>} unless
 * {@code audit.chain_id} names it; a configured id must match the file's once the file exists. Stateless.
 */
public final class ChainId {
  public static final String FILE_NAME = "chain-id";
  public static final Pattern VALID = Pattern.compile("[A-Za-z0-9._-]{1,64}");
  private static final SecureRandom RANDOM = new SecureRandom();

  private ChainId() {
  }

  /**
   * The directory's chain id: read from its file, or (first start) the configured one or a new one, written to the
   * file before any record carries it.
   *
   * @param configured {@code audit.chain_id}, or null
   * @throws IOException if the file is unreadable or malformed, or names another chain than {@code configured}
   */
  static String resolve(Path dir, String configured) throws IOException {
    if (configured != null && !VALID.matcher(configured).matches()) {
      throw new IOException("audit.chain_id \"" + configured + "\" is not a valid chain id (expected: 1 to 64 of"
          + " A-Z a-z 0-9 . _ -)");
    }
    Path file = dir.resolve(FILE_NAME);
    if (!Files.exists(file)) {
      String id = configured != null ? configured : fresh(hostname());
      if (PrivateFiles.createIfAbsent(file, (id + "\n").getBytes(StandardCharsets.US_ASCII))) {
        return id;
      }
    }
    String existing = read(file);
    if (configured != null && !configured.equals(existing)) {
      throw new IOException("audit dir " + dir + " belongs to chain " + existing + ", not to audit.chain_id "
          + configured + ": give this chain its own audit.dir, or leave audit.chain_id out");
    }
    return existing;
  }

  static String read(Path file) throws IOException {
    String text = Files.readString(file, StandardCharsets.US_ASCII).strip();
    if (!VALID.matcher(text).matches()) {
      throw new IOException(file + " does not hold a valid chain id (expected one line of 1 to 64 of"
          + " A-Z a-z 0-9 . _ -); restore it from a backup or from the chain_id of the trail's records");
    }
    return text;
  }

  /** {@code <host>-<8 hex>}, the host cut to what an id may hold. */
  static String fresh(String host) {
    String clean = host == null ? "" : host.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9.-]", "-");
    clean = clean.replaceAll("^[.-]+", "");
    if (clean.length() > 55) {
      clean = clean.substring(0, 55);
    }
    byte[] random = new byte[4];
    RANDOM.nextBytes(random);
    return (clean.isEmpty() ? "chain" : clean) + "-" + HexFormat.of().formatHex(random);
  }

  private static String hostname() {
    String env = System.getenv("HOSTNAME"); // a pod's name, without a DNS lookup
    if (env != null && !env.isBlank()) {
      return env.strip();
    }
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (IOException | RuntimeException e) {
      return "chain";
    }
  }
}

package dev.vertexproxy.proxy.cli;

import dev.vertexproxy.proxy.files.PrivateFiles;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.UnaryOperator;

/**
 * The person's proxy sessions on this machine: {@code $XDG_CONFIG_HOME/vertex-proxy/sessions.json} (else
 * {@code ~/.config/vertex-proxy/sessions.json}), one entry per proxy URL.
 *
 * <p>The file holds bearer credentials, so it is only ever written whole and private: a fresh temporary file created
 * with mode 0600 in the same directory, written, forced to disk, then moved over the old one atomically — a reader sees
 * the old file or the new one, never a torn or briefly world-readable one, and a crash mid-write leaves the old file.
 * The directory is kept at 0700. Changes run under an exclusive lock on a sibling lock file, so two logins to two
 * proxies at once both land instead of one overwriting the other's read-modify-write.
 *
 * <p>A file that is not what this class writes is an error that names the file and the fix, never silently replaced:
 * it may hold someone's other sessions.
 */
final class SessionStore {
  static final String FILE_NAME = "sessions.json";
  private static final Set<PosixFilePermission> FILE_MODE = PosixFilePermissions.fromString("rw-------");
  private static final Set<PosixFilePermission> DIR_MODE = PosixFilePermissions.fromString("rwx------");
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path file;

  SessionStore(Path file) {
    this.file = file;
  }

  /**
   * The store at its usual place: {@code $XDG_CONFIG_HOME/vertex-proxy/} when that is set to an absolute path (the XDG
   * base directory rules ignore a relative one), else {@code <home>/.config/vertex-proxy/}.
   */
  static SessionStore forUser(Map<String, String> env, Path home) {
    String xdg = env.get("XDG_CONFIG_HOME");
    Path base = xdg != null && !xdg.isEmpty() && Path.of(xdg).isAbsolute() ? Path.of(xdg) : home.resolve(".config");
    return new SessionStore(base.resolve("vertex-proxy").resolve(FILE_NAME));
  }

  Path file() {
    return file;
  }

  /** Every stored session, keyed by proxy URL; empty when the file does not exist yet. */
  Map<ProxyUrl, StoredSession> all() throws CliException {
    return decodeAll(read());
  }

  private Map<ProxyUrl, StoredSession> decodeAll(ObjectNode sessions) throws CliException {
    Map<ProxyUrl, StoredSession> out = new TreeMap<>((a, b) -> a.value().compareTo(b.value()));
    for (Map.Entry<String, JsonNode> e : sessions.properties()) {
      StoredSession s = decode(e.getKey(), e.getValue());
      out.put(s.proxy(), s);
    }
    return out;
  }

  /** The session for one proxy, if one is stored. */
  Optional<StoredSession> get(ProxyUrl proxy) throws CliException {
    return Optional.ofNullable(all().get(proxy));
  }

  /** Stores (or replaces) the session of {@code session.proxy()}, leaving every other proxy's entry as it was. */
  void put(StoredSession session) throws CliException {
    update(sessions -> {
      ObjectNode entry = JSON.createObjectNode();
      entry.put("access_token", session.accessToken());
      entry.put("expires_at", session.expiresAt().toString());
      entry.put("obtained_at", session.obtainedAt().toString());
      entry.put("via", session.via());
      if (session.caFile() != null) {
        entry.put("ca_file", session.caFile());
      }
      sessions.set(session.proxy().value(), entry);
      return sessions;
    });
  }

  /** Removes the session of one proxy; true when there was one. */
  boolean remove(ProxyUrl proxy) throws CliException {
    boolean[] removed = {false};
    update(sessions -> {
      removed[0] = sessions.remove(proxy.value()) != null;
      return sessions;
    });
    return removed[0];
  }

  private void update(UnaryOperator<ObjectNode> change) throws CliException {
    Path dir = file.toAbsolutePath().getParent();
    try {
      ensurePrivateDirectory(dir);
      Path lockFile = dir.resolve(FILE_NAME + ".lock");
      try (FileChannel lock = FileChannel.open(lockFile, Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE),
          privateFile(FILE_MODE))) {
        FileLock held = lock.lock();
        try {
          ObjectNode root = JSON.createObjectNode();
          root.put("version", 1);
          ObjectNode sessions = read();
          decodeAll(sessions); // a file we cannot read whole is not ours to rewrite
          root.set("sessions", change.apply(sessions));
          writeAtomically(dir, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(root));
        } finally {
          held.release();
        }
      }
    } catch (IOException e) {
      throw new CliException("could not write " + file + ": " + e.getMessage(), e);
    }
  }

  private void writeAtomically(Path dir, byte[] bytes) throws IOException {
    PrivateFiles.replace(file, bytes);
    forceDirectory(dir);
  }

  private static void ensurePrivateDirectory(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      Files.createDirectories(dir, privateFile(DIR_MODE));
    }
    if (posix()) {
      Files.setPosixFilePermissions(dir, DIR_MODE); // ours alone, even if something created it wider
    }
  }

  private static void forceDirectory(Path dir) {
    // the rename is durable only once the directory entry is; best effort where a directory cannot be opened
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    } catch (IOException | UnsupportedOperationException e) {
      // not every platform lets a directory be opened; the data itself was forced already
    }
  }

  private static FileAttribute<?>[] privateFile(Set<PosixFilePermission> mode) {
    return posix() ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(mode)} : new FileAttribute<?>[0];
  }

  private static boolean posix() {
    return FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
  }

  private ObjectNode read() throws CliException {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      return JSON.createObjectNode();
    } catch (IOException e) {
      throw new CliException("could not read " + file + ": " + e.getMessage(), e);
    }
    JsonNode root;
    try {
      root = JSON.readTree(bytes);
    } catch (IOException e) {
      throw corrupt("not JSON");
    }
    if (root == null || !root.isObject() || root.path("version").asInt(0) != 1 || !root.path("sessions").isObject()) {
      throw corrupt("expected {\"version\": 1, \"sessions\": {…}}");
    }
    return ((ObjectNode) root.get("sessions")).deepCopy();
  }

  private StoredSession decode(String key, JsonNode entry) throws CliException {
    ProxyUrl proxy;
    try {
      proxy = ProxyUrl.parse(key);
    } catch (CliException e) {
      throw corrupt("a session for " + HealthcheckCommand.printable(key) + ", which is not a proxy URL");
    }
    if (!proxy.value().equals(key) || !entry.isObject() || !entry.path("access_token").isTextual()
        || !entry.path("expires_at").isTextual() || !entry.path("obtained_at").isTextual()
        || !entry.path("via").isTextual()) {
      throw corrupt("the session for " + key + " is incomplete");
    }
    try {
      return new StoredSession(proxy, entry.get("access_token").asText(), Instant.parse(entry.get("expires_at").asText()),
          Instant.parse(entry.get("obtained_at").asText()), entry.get("via").asText(),
          entry.path("ca_file").isTextual() ? entry.get("ca_file").asText() : null);
    } catch (DateTimeParseException e) {
      throw corrupt("the session for " + key + " has a malformed time");
    }
  }

  private CliException corrupt(String what) {
    return new CliException(file + " is not a vertex-proxy session file (" + what + "); move it away and log in again");
  }
}

package dev.vertexproxy.proxy.login;

import dev.vertexproxy.proxy.files.PrivateFiles;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The revocation list of the proxy's own tokens: by subject (every session and exchanged token of that person or job
 * issued up to the revocation ends) and by session id (a logout). Persisted as one small JSON file every replica
 * mounts ({@code sessions.revocations_file}).
 *
 * <p>Design note. A revocation made on this replica takes effect here at once (the in-memory snapshot is replaced
 * before {@link #revokeSubject} returns); the file is changed under an exclusive lock on a {@code .lock} file beside it
 * and replaced atomically, so replicas revoking at the same time both land. Other replicas {@link #refresh} on a
 * schedule (every second, see the wiring) when the file's modification time or size changed. Session entries are
 * dropped once the session expired; subject entries once every token issued before them expired.
 *
 * <p>Thread-safe: {@link #revoked} reads one immutable snapshot and never does I/O; the writers do file I/O and must
 * run on a blocking thread.
 */
public final class Revocations {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path file;
  private final Clock clock;
  private final Duration longestToken;
  private volatile Snapshot snapshot = new Snapshot(Map.of(), Map.of(), null, -1);

  private record Snapshot(Map<String, Instant> subjects, Map<String, Instant> sessions, FileTime modified, long size) {
  }

  public Revocations(Path file, Clock clock, Duration longestToken) {
    this.file = file;
    this.clock = clock;
    this.longestToken = longestToken;
  }

  /** The file the list lives in. */
  public Path file() {
    return file;
  }

  /**
   * Whether a proxy token is revoked: its session id was, or its subject was at or after the token was issued.
   *
   * @param issuerName the upstream issuer's name ({@code vp_issuer}); subjects are only unique per issuer
   */
  public boolean revoked(String issuerName, String subject, Instant issuedAt, String sessionId) {
    Snapshot s = snapshot;
    if (sessionId != null && s.sessions.containsKey(sessionId)) {
      return true;
    }
    Instant at = s.subjects.get(key(issuerName, subject));
    return at != null && !issuedAt.isAfter(at);
  }

  /** Ends every token of {@code subject} issued up to now, on every replica. Blocking. */
  public void revokeSubject(String issuerName, String subject) throws IOException {
    Instant now = clock.instant();
    update(s -> s.subjects.merge(key(issuerName, subject), now, (a, b) -> a.isAfter(b) ? a : b));
  }

  /** Ends one session (a logout) until it would have expired anyway. Blocking. */
  public void revokeSession(String sessionId, Instant expiresAt) throws IOException {
    update(s -> s.sessions.merge(sessionId, expiresAt, (a, b) -> a.isAfter(b) ? a : b));
  }

  /** The subjects revoked, {@code issuer/subject} → when, for {@code sessions list}. */
  public Map<String, Instant> subjects() {
    return snapshot.subjects;
  }

  /** Re-reads the file when it changed since the last read; blocking (a stat, and a read when it changed). */
  public void refresh() throws IOException {
    FileTime modified;
    long size;
    try {
      modified = Files.getLastModifiedTime(file);
      size = Files.size(file);
    } catch (NoSuchFileException e) {
      return;
    }
    Snapshot s = snapshot;
    if (modified.equals(s.modified) && size == s.size) {
      return;
    }
    Mutable m = read();
    snapshot = new Snapshot(Map.copyOf(m.subjects), Map.copyOf(m.sessions), modified, size);
  }

  private interface Change {
    void apply(Mutable m);
  }

  private static final class Mutable {
    final Map<String, Instant> subjects = new HashMap<>();
    final Map<String, Instant> sessions = new HashMap<>();
  }

  private synchronized void update(Change change) throws IOException {
    Path dir = file.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Path lock = dir.resolve(file.getFileName() + ".lock");
    try (FileChannel ch = FileChannel.open(lock, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
      FileLock held = ch.lock(); // released when the channel closes
      assert held.isValid();
      Mutable m = read();
      change.apply(m);
      prune(m);
      write(dir, m);
      snapshot = new Snapshot(Map.copyOf(m.subjects), Map.copyOf(m.sessions), Files.getLastModifiedTime(file),
          Files.size(file));
    }
  }

  private void prune(Mutable m) {
    Instant now = clock.instant();
    m.sessions.values().removeIf(exp -> exp.isBefore(now));
    m.subjects.values().removeIf(at -> at.plus(longestToken).isBefore(now));
  }

  private Mutable read() throws IOException {
    Mutable m = new Mutable();
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      return m;
    }
    JsonNode root = JSON.readTree(text);
    if (root == null || !root.isObject() || root.path("version").asInt() != 1) {
      throw new IOException(file + ": not a vertex-proxy revocation list (version 1)");
    }
    for (JsonNode n : root.path("subjects")) {
      m.subjects.put(key(n.path("issuer").asText(), n.path("subject").asText()), Instant.parse(n.path("revoked_at").asText()));
    }
    for (JsonNode n : root.path("sessions")) {
      m.sessions.put(n.path("id").asText(), Instant.parse(n.path("expires_at").asText()));
    }
    return m;
  }

  private void write(Path dir, Mutable m) throws IOException {
    ObjectNode root = JSON.createObjectNode().put("version", 1);
    ArrayNode subjects = root.putArray("subjects");
    Set<String> sorted = new TreeSet<>(m.subjects.keySet());
    for (String k : sorted) {
      int slash = k.indexOf('\n');
      subjects.addObject().put("issuer", k.substring(0, slash)).put("subject", k.substring(slash + 1))
          .put("revoked_at", m.subjects.get(k).toString());
    }
    ArrayNode sessions = root.putArray("sessions");
    for (String id : new TreeSet<>(m.sessions.keySet())) {
      sessions.addObject().put("id", id).put("expires_at", m.sessions.get(id).toString());
    }
    PrivateFiles.replace(file, (JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n")
        .getBytes(StandardCharsets.UTF_8));
  }

  private static String key(String issuerName, String subject) {
    return issuerName + "\n" + subject;
  }

  /** For tests: the revoked session ids. */
  Set<String> sessionIds() {
    return Collections.unmodifiableSet(new HashSet<>(snapshot.sessions.keySet()));
  }
}

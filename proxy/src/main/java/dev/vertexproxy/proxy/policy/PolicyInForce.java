package dev.vertexproxy.proxy.policy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vertexproxy.policy.Policy;
import dev.vertexproxy.policy.PolicyException;
import dev.vertexproxy.policy.yaml.Problem;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Instant;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The policy the proxy decides with, and how it changes: a reload reads the file once, validates and compiles that
 * content, and only then swaps it in; a file that does not validate leaves the last good policy in force, logs every
 * problem with its line in one WARN, and is remembered as the last failure for the admin view and the metrics.
 *
 * <p>Design note. Pomerium's most-reported bug class is a reload that silently did not apply, so every attempt ends in
 * exactly one of three visible results ({@link Result}) with the trigger that asked for it ({@link Trigger}), and the
 * status ({@link #statusJson()}) says what is in force and what was last refused. Watch events and the periodic check
 * decide by content hash (symlinks followed): content seen before — the policy in force, or the broken file already
 * refused — is no attempt at all, so a poll every few seconds neither counts nor logs anything. An operator's own
 * request (signal, admin) always re-reads and judges the file.
 *
 * <p>Thread-safety: {@link #get()} is a volatile read, called by every request; reloads are serialized on this object,
 * so the version the metrics show is the one in force however triggers interleave. An exchange that already read the
 * policy keeps its decision: a swap never touches a request in flight.
 */
public final class PolicyInForce implements Supplier<Policy> {
  private static final Logger log = LoggerFactory.getLogger(PolicyInForce.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  /** What asked for a reload: the file watcher, the periodic check, SIGHUP or {@code POST /policy/reload}. */
  public enum Trigger {
    WATCH, POLL, SIGNAL, ADMIN;

    /** The trigger's name in metrics, logs and the admin view. */
    public String code() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** How a reload attempt ended: a new version in force, the same content again, or refused (the old one stays). */
  public enum Result {
    RELOADED, UNCHANGED, REFUSED;

    public String code() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** Compiles and validates one policy text; {@code source} names it in problems (the file's path). */
  @FunctionalInterface
  public interface Loader {
    Policy load(String text, String source) throws PolicyException;
  }

  /** One reload attempt: when, why, how it ended, and the version of the content it judged ({@code null}: unreadable). */
  public record Attempt(Instant at, Trigger trigger, Result result, String version) {
  }

  /** The last refused attempt and every problem it had. */
  public record Failure(Instant at, Trigger trigger, List<Problem> problems) {
  }

  private final Path file;
  private final Loader loader;
  private final Clock clock;
  private final PolicyEvents events;
  private final Map<Result, AtomicLong> counts = new EnumMap<>(Result.class);
  private volatile Policy policy;
  private volatile Instant loadedAt;
  private volatile Attempt lastAttempt;
  private volatile Failure lastFailure;
  /** The SHA-256 of the content last judged (in force or refused); an empty array for a file that could not be read. */
  private byte[] lastSeen;

  private PolicyInForce(Path file, Loader loader, Clock clock, PolicyEvents events, Policy first, byte[] hash) {
    this.file = file;
    this.loader = loader;
    this.clock = clock;
    this.events = events;
    this.policy = first;
    this.loadedAt = clock.instant();
    this.lastSeen = hash;
    for (Result r : Result.values()) {
      counts.put(r, new AtomicLong());
    }
    events.inForce(first.version(), loadedAt);
  }

  /**
   * Loads {@code file} for start-up; a policy that does not validate is an exception here (there is no last good one).
   */
  public static PolicyInForce load(Path file, Loader loader, Clock clock, PolicyEvents events) throws PolicyException {
    byte[] bytes = read(file);
    return new PolicyInForce(file, loader, clock, events, loader.load(text(bytes), file.toString()), sha256(bytes));
  }

  /** The policy in force now. */
  @Override
  public Policy get() {
    return policy;
  }

  public Path file() {
    return file;
  }

  /**
   * Re-reads and judges the file whatever its content, and returns the version in force afterwards; throws with every
   * problem when the file was refused (the running policy stays). For the operator's triggers: signal and admin.
   */
  public synchronized String reload(Trigger trigger) throws PolicyException {
    byte[] bytes;
    try {
      bytes = read(file);
    } catch (PolicyException unreadable) {
      refused(trigger, new byte[0], null, unreadable);
      throw unreadable;
    }
    return judge(trigger, bytes);
  }

  /**
   * Reloads when the file's content differs from the content last judged; does nothing otherwise. For the watcher and
   * the periodic check, which call it whether or not anything changed. Returns whether an attempt was made.
   */
  public synchronized boolean reloadIfChanged(Trigger trigger) {
    byte[] bytes;
    try {
      bytes = read(file);
    } catch (PolicyException unreadable) {
      if (lastSeen.length != 0) {
        refused(trigger, new byte[0], null, unreadable);
        return true;
      }
      return false;
    }
    if (Arrays.equals(sha256(bytes), lastSeen)) {
      return false;
    }
    try {
      judge(trigger, bytes);
    } catch (PolicyException refused) {
      // judged, logged and counted in judge(): the watcher has nobody to tell
    }
    return true;
  }

  private String judge(Trigger trigger, byte[] bytes) throws PolicyException {
    byte[] hash = sha256(bytes);
    Policy next;
    try {
      next = loader.load(text(bytes), file.toString());
    } catch (PolicyException e) {
      refused(trigger, hash, versionOf(hash), e);
      throw e;
    }
    Instant now = clock.instant();
    Policy previous = policy;
    lastSeen = hash;
    Result result = previous.version().equals(next.version()) ? Result.UNCHANGED : Result.RELOADED;
    // the status first, then the swap: whoever sees the new policy also sees the attempt that put it there
    finish(new Attempt(now, trigger, result, next.version()));
    if (result == Result.RELOADED) {
      loadedAt = now;
      policy = next;
      events.inForce(next.version(), now);
      log.info("policy reloaded ({}): {} -> {} ({} rules)", trigger.code(), previous.version(), next.version(),
          next.rules().size());
    } else {
      log.info("policy reload ({}): {} unchanged", trigger.code(), next.version());
    }
    return policy.version();
  }

  private void refused(Trigger trigger, byte[] hash, String version, PolicyException e) {
    Instant now = clock.instant();
    log.warn("policy reload ({}) refused, {} stays in force: {}", trigger.code(), policy.version(), e.getMessage());
    lastSeen = hash;
    lastFailure = new Failure(now, trigger, e.problems());
    finish(new Attempt(now, trigger, Result.REFUSED, version));
  }

  private void finish(Attempt attempt) {
    lastAttempt = attempt;
    counts.get(attempt.result()).incrementAndGet();
    events.attempted(attempt.result(), attempt.trigger(), attempt.at());
  }

  /** The last refused attempt, or {@code null} when none was refused since start-up. */
  public Failure lastFailure() {
    return lastFailure;
  }

  /** The last reload attempt, or {@code null} before the first. */
  public Attempt lastAttempt() {
    return lastAttempt;
  }

  /**
   * What {@code GET /policy} shows: {@code version}, {@code rules}, {@code file}, {@code loaded_at},
   * {@code last_attempt} ({@code time}, {@code trigger}, {@code result}, {@code version}), {@code last_failure}
   * ({@code time}, {@code trigger}, {@code problems} with {@code file}, {@code line}, {@code column}, {@code path},
   * {@code message}) and {@code reloads} counted by result. Names files and policy keys, never a token. Lock-free (the
   * admin listener's event loop calls it): each part is current, a reload finishing meanwhile may show half-way.
   */
  public String statusJson() {
    Policy p = policy;
    ObjectNode root = JSON.createObjectNode();
    root.put("version", p.version());
    root.put("rules", p.rules().size());
    root.put("file", file.toString());
    root.put("loaded_at", loadedAt.toString());
    Attempt a = lastAttempt;
    if (a == null) {
      root.putNull("last_attempt");
    } else {
      ObjectNode n = root.putObject("last_attempt");
      n.put("time", a.at().toString());
      n.put("trigger", a.trigger().code());
      n.put("result", a.result().code());
      n.put("version", a.version());
    }
    Failure f = lastFailure;
    if (f == null) {
      root.putNull("last_failure");
    } else {
      ObjectNode n = root.putObject("last_failure");
      n.put("time", f.at().toString());
      n.put("trigger", f.trigger().code());
      ArrayNode problems = n.putArray("problems");
      for (Problem pr : f.problems()) {
        ObjectNode o = problems.addObject();
        o.put("file", pr.source());
        o.put("line", pr.line());
        o.put("column", pr.column());
        o.put("path", pr.path());
        o.put("message", pr.expected() == null ? pr.message() : pr.message() + " (expected: " + pr.expected() + ")");
      }
    }
    ObjectNode reloads = root.putObject("reloads");
    for (Result r : Result.values()) {
      reloads.put(r.code(), counts.get(r).get());
    }
    try {
      return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n";
    } catch (IOException e) {
      throw new IllegalStateException("cannot render the policy status", e);
    }
  }

  /** Reads the file, following symlinks (a ConfigMap's {@code policy.yaml -> ..data/policy.yaml}). */
  private static byte[] read(Path file) throws PolicyException {
    try {
      return Files.readAllBytes(file);
    } catch (IOException e) {
      throw new PolicyException(List.of(new Problem(file.toString(), 1, 1, "", "cannot read: " + e)));
    }
  }

  private static String text(byte[] bytes) {
    return new String(bytes, StandardCharsets.UTF_8);
  }

  private static String versionOf(byte[] hash) {
    StringBuilder sb = new StringBuilder("sha256:");
    for (int i = 0; i < 6; i++) {
      sb.append(String.format("%02x", hash[i]));
    }
    return sb.toString();
  }

  private static byte[] sha256(byte[] bytes) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(bytes);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every JVM", e);
    }
  }
}

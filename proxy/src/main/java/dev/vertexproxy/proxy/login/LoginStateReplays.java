package dev.vertexproxy.proxy.login;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The login attempts whose callback has already been taken, until they would have expired anyway: a second callback
 * with the same {@code state} (a replayed or double-submitted redirect, the same code twice) is refused
 * {@code login-code-replayed} before the code goes anywhere near the IdP, whether or not the IdP would itself refuse a
 * used code (not every one does, and the mock one we test against does not).
 *
 * <p>Per replica: a replay sent to another replica is caught there only by the IdP's own one-time codes. The sealed
 * cookie is cleared by the first callback, so a browser cannot replay by accident; this list is for a client that
 * kept the cookie. Remembers SHA-256 digests, never a state itself; entries leave when their attempt expires, and
 * the oldest leave first beyond {@code capacity} (they are the nearest to expiring). Thread-safe.
 */
public final class LoginStateReplays {
  private final int capacity;
  private final LinkedHashMap<String, Instant> taken = new LinkedHashMap<>();

  /** @param capacity the most attempts remembered at once */
  public LoginStateReplays(int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be positive");
    }
    this.capacity = capacity;
  }

  /**
   * Takes the attempt: true the first time for its {@code state}, false for every later call before {@code expiresAt}.
   */
  public synchronized boolean take(String state, Instant expiresAt, Instant now) {
    purge(now);
    String key = digest(state);
    Instant previous = taken.get(key);
    if (previous != null && now.isBefore(previous)) {
      return false;
    }
    taken.put(key, expiresAt);
    while (taken.size() > capacity) {
      Iterator<Map.Entry<String, Instant>> oldest = taken.entrySet().iterator();
      oldest.next();
      oldest.remove();
    }
    return true;
  }

  /** How many attempts are remembered now (for tests and metrics). */
  public synchronized int size() {
    return taken.size();
  }

  // Every attempt lives the same ten minutes, so insertion order is expiry order: drop from the front while expired.
  private void purge(Instant now) {
    Iterator<Map.Entry<String, Instant>> it = taken.entrySet().iterator();
    while (it.hasNext()) {
      if (now.isBefore(it.next().getValue())) {
        return;
      }
      it.remove();
    }
  }

  private static String digest(String state) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(state.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }
}

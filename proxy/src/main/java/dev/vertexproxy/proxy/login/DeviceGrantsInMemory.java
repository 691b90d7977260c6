package dev.vertexproxy.proxy.login;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vertexproxy.policy.Caller;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * {@link DeviceGrants} in this replica's memory (see the interface for what that means with several replicas).
 *
 * <p>Bounded everywhere, because anyone can start a grant: at most {@value #MAX_GRANTS} grants are kept and at most
 * {@value #MAX_PER_SOURCE} pending from one address; a grant is forgotten {@link DeviceGrants#LIFETIME} after it
 * expired (until then a poll learns {@code expired_token}, or that it was redeemed). User codes are eight letters
 * from RFC 8628 §6.1's twenty consonants (about 34 bits: no vowels, so no words, and nothing to confuse), and a
 * source address or a person may enter at most {@value #MAX_MISSES} codes that match nothing per
 * {@link #MISS_WINDOW}: with at most {@value #MAX_GRANTS} live codes among 20^8, a guesser's chance stays below one
 * in two million per window. Device codes are kept only as their SHA-256, so this map holds no usable secret.
 *
 * <p>One lock guards everything; every operation is a few map look-ups, so it never holds an event loop long.
 */
public final class DeviceGrantsInMemory implements DeviceGrants {
  static final int MAX_GRANTS = 1000;
  static final int MAX_PER_SOURCE = 20;
  static final int MAX_MISSES = 10;
  static final Duration MISS_WINDOW = Duration.ofMinutes(15);
  static final int MAX_GUESSERS = 10_000;
  static final String ALPHABET = "BCDFGHJKLMNPQRSTVWXZ";
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final TypeReference<Map<String, Object>> CLAIMS = new TypeReference<>() {
  };

  private enum State { PENDING, APPROVED, DENIED, REDEEMED }

  private static final class Entry {
    final Grant grant;
    final String deviceHash;
    State state = State.PENDING;
    Approval approval;
    Instant lastPoll;
    Duration interval = INTERVAL;

    Entry(Grant grant, String deviceHash) {
      this.grant = grant;
      this.deviceHash = deviceHash;
    }
  }

  private record Misses(Instant windowStart, int count) {
  }

  private final Map<String, Entry> byDeviceHash = new HashMap<>();
  private final Map<String, Entry> byUserCode = new HashMap<>();
  private final Map<String, Misses> misses = new HashMap<>();

  @Override
  public synchronized Optional<Grant> start(String sourceIp, Instant now) {
    sweep(now);
    String source = sourceIp == null ? "" : sourceIp;
    long fromSource = byDeviceHash.values().stream()
        .filter(e -> e.state == State.PENDING && e.grant.sourceIp().equals(source)).count();
    if (byDeviceHash.size() >= MAX_GRANTS || fromSource >= MAX_PER_SOURCE) {
      return Optional.empty();
    }
    String userCode;
    do {
      userCode = userCode();
    } while (byUserCode.containsKey(userCode));
    String deviceCode = deviceCode();
    Grant g = new Grant(deviceCode, userCode.substring(0, 4) + "-" + userCode.substring(4), now, source,
        now.plus(LIFETIME));
    // the table keeps no usable secret: the grant without its device code, keyed by the code's hash
    Entry e = new Entry(new Grant(null, g.userCode(), g.requestedAt(), g.sourceIp(), g.expiresAt()), sha256(deviceCode));
    byDeviceHash.put(e.deviceHash, e);
    byUserCode.put(userCode, e);
    return Optional.of(g);
  }

  @Override
  public synchronized Optional<Grant> pending(String userCode, Instant now) {
    Entry e = byUserCode.get(normalize(userCode));
    return e != null && e.state == State.PENDING && now.isBefore(e.grant.expiresAt()) ? Optional.of(e.grant)
        : Optional.empty();
  }

  @Override
  public synchronized boolean approve(String userCode, Approval approval, Instant now) {
    Entry e = byUserCode.get(normalize(userCode));
    if (e == null || e.state != State.PENDING || !now.isBefore(e.grant.expiresAt())) {
      return false;
    }
    e.state = State.APPROVED;
    e.approval = approval;
    return true;
  }

  @Override
  public synchronized boolean deny(String userCode, Instant now) {
    Entry e = byUserCode.get(normalize(userCode));
    if (e == null || e.state != State.PENDING || !now.isBefore(e.grant.expiresAt())) {
      return false;
    }
    e.state = State.DENIED;
    return true;
  }

  @Override
  public synchronized Poll poll(String deviceCode, Instant now) {
    Entry e = deviceCode == null ? null : byDeviceHash.get(sha256(deviceCode));
    if (e == null) {
      return new Unknown();
    }
    if (e.state == State.REDEEMED) {
      return new Replayed();
    }
    if (!now.isBefore(e.grant.expiresAt())) {
      return new Expired();
    }
    if (e.lastPoll != null && now.isBefore(e.lastPoll.plus(e.interval))) {
      e.lastPoll = now;
      e.interval = e.interval.plusSeconds(5);
      return new SlowDown(e.interval);
    }
    e.lastPoll = now;
    switch (e.state) {
      case APPROVED -> {
        e.state = State.REDEEMED;
        return new Approved(e.approval);
      }
      case DENIED -> {
        return new Denied();
      }
      default -> {
        return new Pending();
      }
    }
  }

  @Override
  public synchronized boolean guessAllowed(String who, Instant now) {
    Misses m = misses.get(who);
    return m == null || !now.isBefore(m.windowStart().plus(MISS_WINDOW)) || m.count() < MAX_MISSES;
  }

  @Override
  public synchronized void missed(String who, Instant now) {
    Misses m = misses.get(who);
    if (m == null || !now.isBefore(m.windowStart().plus(MISS_WINDOW))) {
      if (misses.size() >= MAX_GUESSERS) {
        misses.values().removeIf(x -> !now.isBefore(x.windowStart().plus(MISS_WINDOW)));
      }
      if (misses.size() >= MAX_GUESSERS) {
        return; // full of live windows: guessAllowed still refuses every one of them; a new guesser is not counted
      }
      misses.put(who, new Misses(now, 1));
    } else {
      misses.put(who, new Misses(m.windowStart(), m.count() + 1));
    }
  }

  /**
   * The grants (not the guess counters, which stay per replica) as JSON, for {@link DeviceGrantsInDirectory}: the
   * whole table in one document, so a replica's change is one atomic file replacement.
   */
  synchronized ObjectNode toJson() {
    ObjectNode root = JSON.createObjectNode();
    ArrayNode list = root.putArray("grants");
    for (Entry e : byDeviceHash.values()) {
      ObjectNode o = list.addObject();
      o.put("device_hash", e.deviceHash);
      o.put("user_code", e.grant.userCode());
      o.put("requested_at", e.grant.requestedAt().toString());
      o.put("source_ip", e.grant.sourceIp());
      o.put("expires_at", e.grant.expiresAt().toString());
      o.put("state", e.state.name());
      if (e.lastPoll != null) {
        o.put("last_poll", e.lastPoll.toString());
      }
      o.put("interval_s", e.interval.toSeconds());
      if (e.approval != null) {
        o.set("approval", approvalJson(e.approval));
      }
    }
    return root;
  }

  /** Replaces the grants with those of {@link #toJson()}'s document. */
  synchronized void loadJson(JsonNode root) {
    byDeviceHash.clear();
    byUserCode.clear();
    for (JsonNode o : root.path("grants")) {
      Grant g = new Grant(null, o.path("user_code").asText(), Instant.parse(o.path("requested_at").asText()),
          o.path("source_ip").asText(), Instant.parse(o.path("expires_at").asText()));
      Entry e = new Entry(g, o.path("device_hash").asText());
      e.state = State.valueOf(o.path("state").asText());
      e.lastPoll = o.hasNonNull("last_poll") ? Instant.parse(o.get("last_poll").asText()) : null;
      e.interval = Duration.ofSeconds(o.path("interval_s").asLong(INTERVAL.toSeconds()));
      if (o.path("approval").isObject()) {
        e.approval = approval(o.get("approval"));
      }
      byDeviceHash.put(e.deviceHash, e);
      byUserCode.put(normalize(g.userCode()), e);
    }
  }

  /** An approval as JSON, for the documents replicas share. */
  static ObjectNode approvalJson(Approval approval) {
    ObjectNode a = JSON.createObjectNode();
    a.put("issuer", approval.caller().issuer());
    a.put("subject", approval.caller().subject());
    a.set("claims", JSON.valueToTree(approval.caller().claims()));
    a.put("not_after", approval.notAfter().toString());
    a.put("session_id", approval.sessionId());
    a.put("session_issued_at", approval.sessionIssuedAt().toString());
    return a;
  }

  /** The approval {@link #approvalJson} wrote. */
  static Approval approval(JsonNode a) {
    Map<String, Object> claims = JSON.convertValue(a.path("claims"), CLAIMS);
    return new Approval(new Caller(a.path("issuer").asText(), a.path("subject").asText(), claims),
        Instant.parse(a.path("not_after").asText()), a.path("session_id").asText(),
        Instant.parse(a.path("session_issued_at").asText()));
  }

  /** Forgets grants a lifetime after they expired. */
  private void sweep(Instant now) {
    for (Iterator<Entry> it = byDeviceHash.values().iterator(); it.hasNext(); ) {
      Entry e = it.next();
      if (!now.isBefore(e.grant.expiresAt().plus(LIFETIME))) {
        it.remove();
        byUserCode.remove(normalize(e.grant.userCode()));
      }
    }
  }

  /** A user code as typed, in the form the map keys by: upper case, without dashes or spaces. */
  static String normalize(String userCode) {
    return userCode == null ? "" : userCode.toUpperCase(Locale.ROOT).replace("-", "").replace(" ", "");
  }

  private static String userCode() {
    StringBuilder b = new StringBuilder(8);
    for (int i = 0; i < 8; i++) {
      b.append(ALPHABET.charAt(RANDOM.nextInt(ALPHABET.length())));
    }
    return b.toString();
  }

  private static String deviceCode() {
    byte[] b = new byte[32];
    RANDOM.nextBytes(b);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }

  static String sha256(String s) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
  }
}

package dev.vertexproxy.proxy.audit;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.io.SerializedString;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.Arrays;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The trail line of one appended event, written once: the same bytes as the record of {@link AuditRecords#toJson}
 * with its chain fields in the canonical form of {@link AuditRecords}, but without building a JSON tree or sorting
 * keys per record. The record's top-level members are a fixed set, so they are written in their canonical (sorted)
 * order straight from the event; only the claims, whose keys come from a token, are sorted.
 *
 * <p>Two steps, so a bad event fails alone and the chain fields are added last: {@link #prepare} writes the record's
 * canonical bytes without {@code seq}, {@code prev_hash} and {@code hash}, noting where each belongs;
 * {@link #chain} hashes the canonical form (those bytes with {@code prev_hash} and {@code seq} in place) and writes
 * the line with {@code hash} spliced in at its sorted place. Confined to the writer thread.
 */
final class EventLines {
  private static final byte[] HASH_FIELD = ascii(",\"hash\":\"");
  private static final byte[] PREV_HASH_FIELD = ascii(",\"prev_hash\":\"");
  private static final byte[] SEQ_FIELD = ascii(",\"seq\":");
  private static final HexFormat HEX = HexFormat.of();
  /** How many callers' claims are kept serialised (a power of two: a slot is the map's identity hash, masked). */
  static final int CLAIM_SLOTS = 256;
  /** The classes of {@link Map#copyOf}, which {@link dev.vertexproxy.policy.Caller} holds its claims in. */
  private static final Set<Class<?>> IMMUTABLE_MAPS = // copyOf: the empty map and a larger one share a class
      Set.copyOf(List.of(Map.of().getClass(), Map.of("k", "v").getClass(), Map.of("k", "v", "l", "w").getClass()));

  /**
   * An event's record without {@code hash}, {@code prev_hash} and {@code seq}: canonical bytes, and the offsets at
   * which each of those members goes (each after at least one member, so each is spliced in with a leading comma).
   */
  record Prepared(byte[] bytes, int hashAt, int prevHashAt, int seqAt, String type) {
  }

  private final String chainId;
  private final ByteArrayOutputStream buffer = new ByteArrayOutputStream(1024);
  private final MessageDigest sha256;
  private final Object[] claimMaps = new Object[CLAIM_SLOTS];
  private final SerializedString[] claimJson = new SerializedString[CLAIM_SLOTS];
  private final ByteArrayOutputStream claimBuffer = new ByteArrayOutputStream(1024);
  private long claimsSerialised;

  EventLines(String chainId) {
    this.chainId = chainId;
    try {
      sha256 = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every Java platform", e);
    }
  }

  /** Appends the event's line (with its newline) to {@code out}; returns the record's hash. */
  String append(ByteArrayOutputStream out, AuditEvent event, Instant fallbackTime, long seq, String prevHash) {
    return chain(out, prepare(event, fallbackTime), seq, prevHash);
  }

  /** The event's record with {@code chain_id}, redacted, in canonical order; see {@link AuditRecords#toJson}. */
  Prepared prepare(AuditEvent event, Instant fallbackTime) {
    buffer.reset();
    int hashAt;
    int prevHashAt;
    int seqAt;
    boolean exchange = !event.isDecision(); // a decision has no status, duration or bytes
    try (JsonGenerator g = AuditRecords.generator(buffer)) {
      g.writeStartObject();
      text(g, "api_version", event.apiVersion());
      text(g, "body_sha256", event.bodySha256());
      if (exchange) {
        g.writeNumberField("bytes_in", event.bytesIn());
        g.writeNumberField("bytes_out", event.bytesOut());
      }
      if (event.callerIssuer() != null || event.callerSubject() != null || event.callerClaims() != null) {
        g.writeObjectFieldStart("caller");
        if (event.callerClaims() != null) {
          g.writeFieldName("claims");
          claims(g, event.callerClaims());
        }
        text(g, "issuer", event.callerIssuer());
        text(g, "subject", event.callerSubject());
        g.writeEndObject();
      }
      g.writeStringField("chain_id", chainId);
      text(g, "decision", event.decision());
      if (exchange) {
        g.writeNumberField("duration_ms", event.durationMs());
      }
      text(g, "explanation", event.explanation());
      text(g, "google_principal", event.googlePrincipal());
      hashAt = offset(g);
      text(g, "http_method", event.httpMethod());
      text(g, "location", event.location());
      text(g, "method", event.method());
      text(g, "model", event.model());
      text(g, "outcome", event.outcome());
      text(g, "path", event.path());
      text(g, "peer_ip", event.peerIp());
      text(g, "policy_version", event.policyVersion());
      prevHashAt = offset(g);
      text(g, "project", event.project());
      text(g, "query", AuditRecords.redactQuery(event.query()));
      text(g, "reason", event.reason());
      text(g, "request_body", event.requestBody());
      if (event.requestBodyTruncated()) {
        g.writeBooleanField("request_body_truncated", true);
      }
      text(g, "request_id", event.requestId());
      text(g, "resource", event.resource());
      text(g, "rule", event.rule());
      seqAt = offset(g);
      text(g, "source_ip", event.sourceIp());
      if (exchange) {
        g.writeNumberField("status", event.status());
      }
      Instant time = event.time() != null ? event.time() : fallbackTime;
      g.writeStringField("time", AuditRecords.formatTime(time));
      g.writeStringField("type", event.type() == null ? AuditEvent.EXCHANGE : event.type());
      text(g, "user_agent", event.userAgent());
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e); // writing to memory does not fail
    }
    String type = event.type() == null ? AuditEvent.EXCHANGE : event.type();
    return new Prepared(buffer.toByteArray(), hashAt, prevHashAt, seqAt, type);
  }

  /**
   * Hashes the canonical form of the prepared record with {@code prev_hash} and {@code seq}, and appends its line,
   * {@code hash} included, to {@code out}.
   *
   * @return the record's hash
   */
  String chain(ByteArrayOutputStream out, Prepared record, long seq, String prevHash) {
    byte[] b = record.bytes();
    byte[] prev = stringContent(prevHash);
    byte[] seqDigits = ascii(Long.toString(seq));
    sha256.update(b, 0, record.prevHashAt());
    sha256.update(PREV_HASH_FIELD);
    sha256.update(prev);
    sha256.update((byte) '"');
    sha256.update(b, record.prevHashAt(), record.seqAt() - record.prevHashAt());
    sha256.update(SEQ_FIELD);
    sha256.update(seqDigits);
    sha256.update(b, record.seqAt(), b.length - record.seqAt());
    String hash = HEX.formatHex(sha256.digest());
    out.write(b, 0, record.hashAt());
    out.writeBytes(HASH_FIELD);
    out.writeBytes(ascii(hash));
    out.write('"');
    out.write(b, record.hashAt(), record.prevHashAt() - record.hashAt());
    out.writeBytes(PREV_HASH_FIELD);
    out.writeBytes(prev);
    out.write('"');
    out.write(b, record.prevHashAt(), record.seqAt() - record.prevHashAt());
    out.writeBytes(SEQ_FIELD);
    out.writeBytes(seqDigits);
    out.write(b, record.seqAt(), b.length - record.seqAt());
    out.write('\n');
    return hash;
  }

  /** A text member, omitted when null, redacted as {@link AuditRecords#redactString} does. */
  private static void text(JsonGenerator g, String key, String value) throws IOException {
    if (value != null) {
      g.writeStringField(key, AuditRecords.redactString(value));
    }
  }

  /**
   * The caller's claims as {@link #claim} writes them, serialised once per caller: every request with one token carries
   * the same claims map (the verified-token cache's), and sorting, redacting and writing its ~25 claims was a fifth of
   * the writer's CPU. Kept by the map's identity, and only for the immutable maps a {@code Caller} holds, so a map
   * that could change is written afresh each time; a slot holds the last map that hashed to it.
   */
  private void claims(JsonGenerator g, Map<String, Object> claims) throws IOException {
    if (!IMMUTABLE_MAPS.contains(claims.getClass())) {
      claim(g, claims, false);
      return;
    }
    int slot = System.identityHashCode(claims) & (CLAIM_SLOTS - 1);
    SerializedString json = claimMaps[slot] == claims ? claimJson[slot] : null;
    if (json == null) {
      claimBuffer.reset();
      try (JsonGenerator fragment = AuditRecords.generator(claimBuffer)) {
        claim(fragment, claims, false);
      }
      json = new SerializedString(claimBuffer.toString(StandardCharsets.UTF_8));
      claimMaps[slot] = claims;
      claimJson[slot] = json;
      claimsSerialised++;
    }
    g.writeRawValue(json); // its UTF-8 is encoded once, then copied
  }

  /** How many times claims were serialised rather than found (for tests). */
  long claimsSerialised() {
    return claimsSerialised;
  }

  /**
   * A claim value as {@link AuditRecords#toJson} records it: secret-named keys (at any depth) and JWT-like strings
   * redacted, keys made well-formed (a later key that becomes equal to an earlier one wins, as in a JSON object) and
   * sorted, non-integer numbers as text.
   */
  private static void claim(JsonGenerator g, Object value, boolean underSecretKey) throws IOException {
    if (value == null) {
      g.writeNull();
    } else if (underSecretKey) {
      g.writeString(AuditRecords.REDACTED);
    } else if (value instanceof Map<?, ?> map) {
      TreeMap<String, Object> sorted = new TreeMap<>();
      for (Map.Entry<?, ?> entry : map.entrySet()) {
        sorted.put(AuditRecords.wellFormed(String.valueOf(entry.getKey())), entry.getValue());
      }
      g.writeStartObject();
      for (Map.Entry<String, Object> entry : sorted.entrySet()) {
        g.writeFieldName(entry.getKey());
        claim(g, entry.getValue(), SecretNames.secretKey(entry.getKey()));
      }
      g.writeEndObject();
    } else if (value instanceof Collection<?> list) {
      g.writeStartArray();
      for (Object item : list) {
        claim(g, item, false);
      }
      g.writeEndArray();
    } else if (value instanceof Object[] list) {
      g.writeStartArray();
      for (Object item : list) {
        claim(g, item, false);
      }
      g.writeEndArray();
    } else if (value instanceof Boolean bool) {
      g.writeBoolean(bool);
    } else if (value instanceof Integer || value instanceof Long || value instanceof Short || value instanceof Byte) {
      g.writeNumber(((Number) value).longValue());
    } else if (value instanceof BigInteger big) {
      g.writeNumber(big);
    } else if (value instanceof BigDecimal decimal) {
      g.writeString(decimal.toPlainString());
    } else if (value instanceof Number number) {
      g.writeString(number.toString()); // non-integers as text: see AuditRecords.toJson
    } else {
      g.writeString(AuditRecords.redactString(String.valueOf(value)));
    }
  }

  /** Where the next member begins: everything so far is in the buffer. */
  private int offset(JsonGenerator g) throws IOException {
    g.flush();
    return buffer.size();
  }

  /**
   * The bytes between the quotes of a JSON string, as the canonical form escapes it. A hash is lower-case hex, which
   * needs no escaping; anything else (a resumed trail's last line can hold what it likes) goes through the generator.
   */
  private byte[] stringContent(String value) {
    boolean plain = true;
    for (int i = 0; i < value.length() && plain; i++) {
      char c = value.charAt(i);
      plain = c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
    }
    if (plain) {
      return ascii(value);
    }
    ByteArrayOutputStream quoted = new ByteArrayOutputStream(value.length() + 8);
    try (JsonGenerator g = AuditRecords.generator(quoted)) {
      g.writeString(value);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    byte[] bytes = quoted.toByteArray();
    return Arrays.copyOfRange(bytes, 1, bytes.length - 1);
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.ISO_8859_1);
  }
}

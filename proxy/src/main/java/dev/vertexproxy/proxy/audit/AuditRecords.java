package dev.vertexproxy.proxy.audit;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The audit record's JSON form, its canonical bytes and its hash: the one place the writer and the verifier share,
 * so that what one hashes is exactly what the other recomputes.
 *
 * <p>Canonical form (documented in docs/audit.md for independent verifiers): the record as a JSON object without its
 * {@code hash} member; object keys sorted by {@link String#compareTo} at every level; no whitespace between tokens;
 * strings escaped as Jackson does by default ({@code \"}, {@code \\}, {@code \b \f \n \r \t}, other control characters
 * as {@code \}{@code u00xx} in lower-case hex, everything else literal UTF-8); numbers as integers only (the writer
 * records non-integer claim values as strings). Null fields are <em>omitted</em> by the writer; a verifier hashes
 * whatever members the line holds.
 *
 * <p>Stateless and thread-safe.
 */
final class AuditRecords {
  static final String GENESIS_HASH = "0".repeat(64);
  static final String REDACTED = SecretNames.REDACTED;

  private static final JsonFactory JSON = JsonFactory.builder()
      // A duplicated key could hide one value from a reader while the hash covers the other: treat it as invalid.
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      // Write characters outside the BMP as 4-byte UTF-8 and backslash-u escapes in lower-case hex, as other JSON tools
      // (Python's json.dumps, jq) do, so an independent verifier reproduces the canonical bytes.
      .enable(JsonWriteFeature.COMBINE_UNICODE_SURROGATES_IN_UTF8)
      .disable(JsonWriteFeature.WRITE_HEX_UPPER_CASE)
      .build();
  static final ObjectMapper MAPPER = new ObjectMapper(JSON);

  private static final DateTimeFormatter RFC3339_MILLIS =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'", Locale.ROOT).withZone(ZoneOffset.UTC);

  /** A compact JWS (3 parts) or JWE (5 parts); real ones start with a base64url JSON header, {@code eyJ}. */
  private static final Pattern JWT_LIKE =
      Pattern.compile("eyJ[A-Za-z0-9_-]*(?:\\.[A-Za-z0-9_-]*){2,4}");
  /** Also catches {@code "Bearer eyJ..."} and tokens embedded in longer strings. */
  private static final Pattern JWT_INSIDE =
      Pattern.compile("eyJ[A-Za-z0-9_-]{4,}\\.[A-Za-z0-9_-]{4,}\\.[A-Za-z0-9_-]*");
  /** Query parameters that carry credentials on Google APIs ({@code key=API_KEY}, {@code access_token=...}). */
  private static final Pattern SECRET_QUERY_PARAM =
      Pattern.compile("(?i)(key|.*[_-]key|apikey|.*token.*|.*secret.*|.*password.*|.*credential.*"
          + "|authorization|signature|sig|x-goog-signature)");
  /** The same few parameter names come with every request ({@code alt}): each one's answer is remembered. */
  private static final SecretNames.Decided SECRET_QUERY_NAMES =
      new SecretNames.Decided(raw -> SECRET_QUERY_PARAM.matcher(canonicalParameterName(raw)).matches());

  private AuditRecords() {
  }

  /**
   * The record's fields from an event, without {@code seq}, {@code prev_hash} and {@code hash}; nulls omitted and
   * anything that looks like a credential replaced by {@value #REDACTED}.
   */
  static ObjectNode toJson(AuditEvent event, Instant fallbackTime) {
    ObjectNode record = JsonNodeFactory.instance.objectNode();
    Instant time = event.time() != null ? event.time() : fallbackTime;
    record.put("time", RFC3339_MILLIS.format(time));
    record.put("type", event.type() == null ? AuditEvent.EXCHANGE : event.type());
    putText(record, "request_id", event.requestId());
    if (event.callerIssuer() != null || event.callerSubject() != null || event.callerClaims() != null) {
      ObjectNode caller = record.putObject("caller");
      putText(caller, "issuer", event.callerIssuer());
      putText(caller, "subject", event.callerSubject());
      if (event.callerClaims() != null) {
        caller.set("claims", redactedValue(event.callerClaims(), false));
      }
    }
    putText(record, "source_ip", event.sourceIp());
    putText(record, "peer_ip", event.peerIp());
    putText(record, "http_method", event.httpMethod());
    putText(record, "path", event.path());
    putText(record, "query", redactQuery(event.query()));
    putText(record, "method", event.method());
    putText(record, "api_version", event.apiVersion());
    putText(record, "resource", event.resource());
    putText(record, "project", event.project());
    putText(record, "location", event.location());
    putText(record, "model", event.model());
    putText(record, "decision", event.decision());
    putText(record, "outcome", event.outcome());
    putText(record, "rule", event.rule());
    putText(record, "reason", event.reason());
    putText(record, "explanation", event.explanation());
    putText(record, "google_principal", event.googlePrincipal());
    if (!event.isDecision()) { // a decision is written before there is a status, a duration or a byte
      record.put("status", event.status());
      record.put("duration_ms", event.durationMs());
      record.put("bytes_in", event.bytesIn());
      record.put("bytes_out", event.bytesOut());
    }
    putText(record, "policy_version", event.policyVersion());
    putText(record, "user_agent", event.userAgent());
    putText(record, "body_sha256", event.bodySha256());
    putText(record, "request_body", event.requestBody());
    if (event.requestBodyTruncated()) {
      record.put("request_body_truncated", true);
    }
    return record;
  }

  private static void putText(ObjectNode node, String key, String value) {
    if (value != null) {
      node.put(key, redactString(value));
    }
  }

  /** Converts a JSON-like claim value to a node, redacting secret-named keys (at any depth) and JWT-like strings. */
  private static JsonNode redactedValue(Object value, boolean underSecretKey) {
    JsonNodeFactory nodes = JsonNodeFactory.instance;
    if (value == null) {
      return nodes.nullNode();
    }
    if (underSecretKey) {
      return nodes.textNode(REDACTED);
    }
    if (value instanceof Map<?, ?> map) {
      ObjectNode object = nodes.objectNode();
      for (Map.Entry<?, ?> entry : map.entrySet()) {
        String key = wellFormed(String.valueOf(entry.getKey()));
        object.set(key, redactedValue(entry.getValue(), SecretNames.secretKey(key)));
      }
      return object;
    }
    if (value instanceof Collection<?> list) {
      ArrayNode array = nodes.arrayNode();
      list.forEach(item -> array.add(redactedValue(item, false)));
      return array;
    }
    if (value instanceof Object[] list) {
      ArrayNode array = nodes.arrayNode();
      for (Object item : list) {
        array.add(redactedValue(item, false));
      }
      return array;
    }
    if (value instanceof Boolean bool) {
      return nodes.booleanNode(bool);
    }
    if (value instanceof Integer || value instanceof Long || value instanceof Short || value instanceof Byte) {
      return nodes.numberNode(((Number) value).longValue());
    }
    if (value instanceof BigInteger big) {
      return nodes.numberNode(big);
    }
    if (value instanceof BigDecimal decimal) {
      return nodes.textNode(decimal.toPlainString());
    }
    if (value instanceof Number number) {
      // Non-integers are recorded as text: JSON tools disagree on how to print them (1.5E10, 15000000000.0), and
      // an independent verifier must be able to reproduce the canonical bytes exactly.
      return nodes.textNode(number.toString());
    }
    return nodes.textNode(redactString(String.valueOf(value)));
  }

  /**
   * The value with JWT-like parts replaced, made well-formed. Both patterns begin with the literal {@code eyJ}, so a
   * value without it (nearly every one) skips them.
   */
  static String redactString(String value) {
    if (!value.contains("eyJ")) {
      return wellFormed(value);
    }
    if (JWT_LIKE.matcher(value).matches()) {
      return REDACTED;
    }
    return wellFormed(JWT_INSIDE.matcher(value).replaceAll(REDACTED));
  }

  /** Replaces unpaired surrogates (not encodable as UTF-8) with {@code ?}, as Java's UTF-8 encoder does. */
  static String wellFormed(String value) {
    for (int i = 0; i < value.length(); i++) {
      if (Character.isSurrogate(value.charAt(i))) {
        return new String(value.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8);
      }
    }
    return value;
  }

  /** Keeps the query's shape (parameter names and order) but never a credential-carrying value. */
  static String redactQuery(String query) {
    if (query == null || query.isEmpty()) {
      return query;
    }
    List<String> parts = new ArrayList<>();
    for (String pair : query.split("&", -1)) {
      int eq = pair.indexOf('=');
      String name = eq < 0 ? pair : pair.substring(0, eq);
      if (eq >= 0 && SECRET_QUERY_NAMES.test(name)) {
        parts.add(name + "=" + REDACTED);
      } else {
        parts.add(pair);
      }
    }
    return redactString(String.join("&", parts));
  }

  /** The name as Google would read it: percent-decoded, {@code +} as space, one leading {@code $} (system parameter) dropped. */
  private static String canonicalParameterName(String raw) {
    String name;
    try {
      name = URLDecoder.decode(raw, StandardCharsets.UTF_8);
    } catch (IllegalArgumentException malformed) {
      name = raw;
    }
    return name.startsWith("$") ? name.substring(1) : name;
  }

  static String formatTime(Instant time) {
    return RFC3339_MILLIS.format(time);
  }

  /** A generator that writes the canonical form's tokens (strings escaped as it says) to {@code out}. */
  static JsonGenerator generator(OutputStream out) throws IOException {
    return JSON.createGenerator(out);
  }

  /** The canonical bytes of a JSON value: sorted keys at every level, no whitespace. */
  static byte[] canonical(JsonNode node) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(512);
    try (JsonGenerator generator = JSON.createGenerator(out)) {
      writeCanonical(generator, node);
    } catch (IOException e) {
      throw new UncheckedIOException(e); // writing to memory does not fail
    }
    return out.toByteArray();
  }

  private static void writeCanonical(JsonGenerator generator, JsonNode node) throws IOException {
    if (node.isObject()) {
      List<String> keys = new ArrayList<>();
      node.fieldNames().forEachRemaining(keys::add);
      keys.sort(null);
      generator.writeStartObject();
      for (String key : keys) {
        generator.writeFieldName(key);
        writeCanonical(generator, node.get(key));
      }
      generator.writeEndObject();
    } else if (node.isArray()) {
      generator.writeStartArray();
      for (JsonNode item : node) {
        writeCanonical(generator, item);
      }
      generator.writeEndArray();
    } else {
      MAPPER.writeTree(generator, node);
    }
  }

  /** The record's hash: hex SHA-256 over the canonical form of the record without its {@code hash} member. */
  static String hash(ObjectNode recordWithoutHash) {
    return sha256Hex(canonical(recordWithoutHash));
  }

  static String sha256Hex(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every Java platform", e);
    }
  }

  /** Parses one line; throws on anything but a single JSON object (duplicate keys included). */
  static ObjectNode parse(byte[] line) throws IOException {
    try (JsonParser parser = JSON.createParser(line)) {
      JsonNode node = MAPPER.readTree(parser);
      if (node == null || !node.isObject()) {
        throw new IOException("not a JSON object");
      }
      if (parser.nextToken() != null) {
        throw new IOException("trailing content after the JSON object");
      }
      return (ObjectNode) node;
    }
  }

  static String utf8(byte[] bytes) {
    return new String(bytes, StandardCharsets.UTF_8);
  }
}

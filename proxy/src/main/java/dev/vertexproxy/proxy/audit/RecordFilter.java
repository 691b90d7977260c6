package dev.vertexproxy.proxy.audit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The pieces {@code audit query} (and anything else that searches records) combines with AND: each is a predicate on
 * a parsed record, and an absent field never matches. Globs are shell-style and anchored: {@code *} any run of
 * characters ({@code /} and {@code :} included), {@code ?} one character; a glob without either is an exact match.
 * Stateless and thread-safe.
 */
public final class RecordFilter {
  /** The types a search shows unless asked: what callers did, not the writer's own checkpoints, seals and retention. */
  public static final Set<String> CALLER_TYPES = Set.of(AuditEvent.EXCHANGE, AuditEvent.DECISION);

  private RecordFilter() {
  }

  /** Matches the whole of a value; null for no glob (then the filter is left out). */
  public static Predicate<String> glob(String glob) {
    if (glob == null) {
      return null;
    }
    StringBuilder regex = new StringBuilder();
    Matcher parts = Pattern.compile("[*?]|[^*?]+").matcher(glob);
    while (parts.find()) {
      String part = parts.group();
      regex.append(part.equals("*") ? ".*" : part.equals("?") ? "." : Pattern.quote(part));
    }
    return Pattern.compile(regex.toString(), Pattern.DOTALL).asMatchPredicate();
  }

  /** Equality; null for no value (then the filter is left out). */
  public static Predicate<String> exact(String wanted) {
    return wanted == null ? null : wanted::equals;
  }

  /** A test on a text or number field: top-level {@code key}, or {@code parent.key}; null test: every record. */
  public static Predicate<ObjectNode> field(String parent, String key, Predicate<String> test) {
    if (test == null) {
      return record -> true;
    }
    return record -> {
      JsonNode node = parent == null ? record.get(key) : record.path(parent).get(key);
      return node != null && node.isValueNode() && !node.isNull() && test.test(node.asText());
    };
  }

  /**
   * A test on {@code caller.claims.KEY}: a scalar claim matches if its text does, a list claim (GitLab's groups, an
   * IdP's {@code amr}) if any element does.
   */
  public static Predicate<ObjectNode> claim(String key, Predicate<String> test) {
    return record -> {
      JsonNode claim = record.path("caller").path("claims").get(key);
      if (claim == null || claim.isNull()) {
        return false;
      }
      if (claim.isArray()) {
        for (JsonNode item : claim) {
          if (item.isValueNode() && !item.isNull() && test.test(item.asText())) {
            return true;
          }
        }
        return false;
      }
      return claim.isValueNode() && test.test(claim.asText());
    };
  }

  /** The record's type: its {@code type}, or {@value AuditEvent#EXCHANGE} for records written before types. */
  public static String typeOf(ObjectNode record) {
    JsonNode type = record.get("type");
    return type == null || !type.isTextual() ? AuditEvent.EXCHANGE : type.asText();
  }

  /** The record's chain: its {@code chain_id}, or "" for records written before chain ids. */
  public static String chainOf(ObjectNode record) {
    JsonNode chain = record.get("chain_id");
    return chain == null || !chain.isTextual() ? "" : chain.asText();
  }

  /** Records whose type is one of {@code types}; null: every type. */
  public static Predicate<ObjectNode> types(Set<String> types) {
    return types == null ? record -> true : record -> types.contains(typeOf(record));
  }

  /** Records with {@code since <= time < until} (either bound may be null); a record without a time is outside. */
  public static Predicate<ObjectNode> window(Instant since, Instant until) {
    if (since == null && until == null) {
      return record -> true;
    }
    return record -> {
      Instant time = AuditReader.timeOf(record);
      return time != null && (since == null || !time.isBefore(since)) && (until == null || time.isBefore(until));
    };
  }

  /**
   * A byte-level prefilter for a selective query: lines that do not contain {@code literal}'s UTF-8 bytes are skipped
   * before they are parsed. Only for values that JSON never escapes (letters, digits and {@code . _ : - @ /}), so
   * that a record holding the value holds its bytes; null (no prefilter) otherwise.
   */
  public static Predicate<byte[]> containing(String literal) {
    if (literal == null || literal.isEmpty() || !literal.matches("[A-Za-z0-9._:@/-]+")) {
      return null;
    }
    byte[] needle = literal.getBytes(StandardCharsets.US_ASCII);
    return line -> indexOf(line, needle) >= 0;
  }

  static int indexOf(byte[] haystack, byte[] needle) {
    byte first = needle[0];
    int last = haystack.length - needle.length;
    outer:
    for (int i = 0; i <= last; i++) {
      if (haystack[i] != first) {
        continue;
      }
      for (int j = 1; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}

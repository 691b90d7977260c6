package dev.vertexproxy.proxy.audit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
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
   * A byte-level prefilter: lines that lack any of {@code literals}' bytes are skipped before they are parsed (null
   * if there is nothing to look for). Callers pass only {@link #literalsOf} values, which JSON never escapes, so a
   * record holding the value holds its bytes and nothing that would match is skipped.
   */
  public static Predicate<byte[]> containingAll(List<String> literals) {
    if (literals.isEmpty()) {
      return null;
    }
    byte[][] needles = literals.stream().distinct().map(l -> l.getBytes(StandardCharsets.US_ASCII)).toArray(byte[][]::new);
    return line -> {
      for (byte[] needle : needles) {
        if (indexOf(line, needle) < 0) {
          return false;
        }
      }
      return true;
    };
  }

  /**
   * The runs of plain text every value matching {@code glob} contains: the parts between wildcards that consist of
   * characters JSON writes as they are (ASCII letters, digits, space and {@code . _ : @ / = -}), at least 3 long.
   * Parts with other characters are left out, which only makes the prefilter let more lines through.
   */
  public static List<String> literalsOf(String glob) {
    List<String> literals = new ArrayList<>();
    if (glob == null) {
      return literals;
    }
    for (String part : glob.split("[*?]")) {
      if (part.length() >= 3 && SAFE_LITERAL.matcher(part).matches()) {
        literals.add(part);
      }
    }
    return literals;
  }

  private static final Pattern SAFE_LITERAL = Pattern.compile("[A-Za-z0-9 ._:@/=-]+");
  private static final byte[] TIME_KEY = "\"time\":\"".getBytes(StandardCharsets.US_ASCII);
  private static final DateTimeFormatter MILLIS =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'", Locale.ROOT).withZone(ZoneOffset.UTC);

  /**
   * A byte-level prefilter for a time window: reads the {@code time} of a line that holds exactly one
   * {@code "time":"} in the writer's format ({@code 2026-05-01T12:00:00.000Z}, which sorts as text in time order) and
   * skips the line if that time is outside; any other line goes on to be parsed and decided there. Null if unbounded.
   */
  public static Predicate<byte[]> timeWindowBytes(Instant since, Instant until) {
    if (since == null && until == null) {
      return null;
    }
    byte[] low = since == null ? null : MILLIS.format(since.truncatedTo(ChronoUnit.MILLIS)).getBytes(StandardCharsets.US_ASCII);
    Instant untilCeil = until == null ? null : until.truncatedTo(ChronoUnit.MILLIS).equals(until) ? until
        : until.truncatedTo(ChronoUnit.MILLIS).plusMillis(1);
    byte[] high = untilCeil == null ? null : MILLIS.format(untilCeil).getBytes(StandardCharsets.US_ASCII);
    return line -> {
      int at = indexOf(line, TIME_KEY);
      if (at < 0 || indexOf(line, TIME_KEY, at + 1) >= 0) {
        return true;
      }
      int start = at + TIME_KEY.length;
      if (!writerTime(line, start)) {
        return true;
      }
      return (low == null || Arrays.compare(line, start, start + 24, low, 0, 24) >= 0)
          && (high == null || Arrays.compare(line, start, start + 24, high, 0, 24) < 0);
    };
  }

  /** {@code dddd-dd-ddTdd:dd:dd.dddZ"} at {@code start}. */
  private static boolean writerTime(byte[] line, int start) {
    String shape = "dddd-dd-ddTdd:dd:dd.dddZ\"";
    if (start + shape.length() > line.length) {
      return false;
    }
    for (int i = 0; i < shape.length(); i++) {
      byte b = line[start + i];
      char want = shape.charAt(i);
      if (want == 'd' ? b < '0' || b > '9' : b != want) {
        return false;
      }
    }
    return true;
  }

  static int indexOf(byte[] haystack, byte[] needle) {
    return indexOf(haystack, needle, 0);
  }

  static int indexOf(byte[] haystack, byte[] needle, int from) {
    byte first = needle[0];
    int last = haystack.length - needle.length;
    outer:
    for (int i = from; i <= last; i++) {
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

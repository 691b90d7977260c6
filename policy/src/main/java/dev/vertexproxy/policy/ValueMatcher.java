package dev.vertexproxy.policy;

import java.util.Arrays;
import java.util.List;

/**
 * One policy value: an exact string, a glob, or a list of them (any of). Matches token claim values by their string
 * form; a list claim matches when any element does; {@code null} (a missing claim) never matches.
 *
 * <p>Immutable and thread-safe.
 */
final class ValueMatcher {
  private final Glob[] alternatives;

  ValueMatcher(List<String> values, char separator) {
    this.alternatives = values.stream().map(v -> Glob.compile(v, separator)).toArray(Glob[]::new);
  }

  List<String> values() {
    return Arrays.stream(alternatives).map(Glob::text).toList();
  }

  boolean matchesString(String value) {
    if (value == null) {
      return false;
    }
    for (Glob g : alternatives) {
      if (g.matches(value)) {
        return true;
      }
    }
    return false;
  }

  /** Matches a JSON-like claim value: String, Boolean, Number, or a List of those. Maps never match. */
  boolean matchesClaim(Object claim) {
    if (claim instanceof List<?> list) {
      for (Object element : list) {
        if (!(element instanceof List<?>) && matchesString(scalarString(element))) {
          return true;
        }
      }
      return false;
    }
    return matchesString(scalarString(claim));
  }

  /** The string form a scalar claim is compared by ({@code true} → "true", 42 → "42"); null for non-scalars. */
  static String scalarString(Object value) {
    if (value instanceof String s) {
      return s;
    }
    if (value instanceof Boolean b) {
      return b.toString();
    }
    if (value instanceof Double || value instanceof Float) {
      double d = ((Number) value).doubleValue();
      // JSON has one number type: 42 and 42.0 are the same claim value, so integral doubles read as integers.
      if (d == Math.rint(d) && !Double.isInfinite(d) && Math.abs(d) < 1e15) {
        return Long.toString((long) d);
      }
      return Double.toString(d);
    }
    if (value instanceof Number n) {
      return n.toString();
    }
    return null;
  }

  boolean hasWildcard() {
    for (Glob g : alternatives) {
      if (g.isWildcard()) {
        return true;
      }
    }
    return false;
  }

  @Override
  public String toString() {
    return values().toString();
  }
}

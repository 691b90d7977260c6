package dev.vertexproxy.proxy.identity;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns a parsed JWT payload into the plain, immutable Java values {@link dev.vertexproxy.policy.Caller} promises:
 * String, Boolean, Long, Double, List, Map. JSON {@code null}s are dropped from objects (a null claim is an absent
 * claim to the policy) and kept in arrays.
 */
final class JsonValues {
  private JsonValues() {
  }

  static Map<String, Object> claims(Map<String, Object> payload) {
    return object(payload);
  }

  private static Map<String, Object> object(Map<?, ?> map) {
    Map<String, Object> copy = new LinkedHashMap<>();
    for (Map.Entry<?, ?> entry : map.entrySet()) {
      if (entry.getValue() != null) {
        copy.put(String.valueOf(entry.getKey()), value(entry.getValue()));
      }
    }
    return Collections.unmodifiableMap(copy);
  }

  private static Object value(Object value) {
    if (value instanceof Map<?, ?> map) {
      return object(map);
    }
    if (value instanceof List<?> list) {
      List<Object> copy = new ArrayList<>(list.size());
      for (Object element : list) {
        copy.add(element == null ? null : value(element));
      }
      return Collections.unmodifiableList(copy);
    }
    if (value instanceof Integer || value instanceof Short || value instanceof Byte) {
      return ((Number) value).longValue();
    }
    if (value instanceof Float f) {
      return f.doubleValue();
    }
    if (value instanceof Number number && !(value instanceof Long) && !(value instanceof Double)) {
      // BigInteger/BigDecimal: keep integral values integral when they fit, else fall back to double
      double d = number.doubleValue();
      long l = number.longValue();
      return l == d ? (Object) l : (Object) d;
    }
    return value;
  }
}

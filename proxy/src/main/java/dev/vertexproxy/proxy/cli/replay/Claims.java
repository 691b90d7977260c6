package dev.vertexproxy.proxy.cli.replay;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vertexproxy.proxy.audit.SecretNames;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A record's {@code caller.claims} back as the JSON-like values a verified token's claims are (String, Boolean, Long,
 * List, Map), and which of them the writer redacted. Stateless and thread-safe.
 */
final class Claims {
  private Claims() {
  }

  /** The claims; a claim whose value is JSON null is left out (a missing claim and a null one match no rule alike). */
  static Map<String, Object> of(JsonNode claims) {
    Map<String, Object> out = new LinkedHashMap<>();
    if (claims == null || !claims.isObject()) {
      return out;
    }
    for (Map.Entry<String, JsonNode> field : claims.properties()) {
      Object value = value(field.getValue());
      if (value != null) {
        out.put(field.getKey(), value);
      }
    }
    return out;
  }

  /** Top-level claim names whose value holds {@value SecretNames#REDACTED} anywhere (at any depth, in any string). */
  static Set<String> redactedNames(JsonNode claims) {
    Set<String> names = new LinkedHashSet<>();
    if (claims == null || !claims.isObject()) {
      return names;
    }
    for (Map.Entry<String, JsonNode> field : claims.properties()) {
      if (holdsRedacted(field.getValue())) {
        names.add(field.getKey());
      }
    }
    return names;
  }

  private static boolean holdsRedacted(JsonNode node) {
    if (node.isTextual()) {
      return node.asText().contains(SecretNames.REDACTED);
    }
    for (JsonNode child : node) {
      if (holdsRedacted(child)) {
        return true;
      }
    }
    return false;
  }

  private static Object value(JsonNode node) {
    if (node == null || node.isNull() || node.isMissingNode()) {
      return null;
    }
    if (node.isTextual()) {
      return node.asText();
    }
    if (node.isBoolean()) {
      return node.booleanValue();
    }
    if (node.isIntegralNumber()) {
      return node.canConvertToLong() ? (Object) node.longValue() : node.bigIntegerValue();
    }
    if (node.isNumber()) {
      return node.asText();
    }
    if (node.isArray()) {
      List<Object> list = new ArrayList<>();
      node.forEach(item -> list.add(value(item)));
      return list;
    }
    if (node.isObject()) {
      Map<String, Object> map = new LinkedHashMap<>();
      node.properties().forEach(e -> map.put(e.getKey(), value(e.getValue())));
      return map;
    }
    return node.asText();
  }
}

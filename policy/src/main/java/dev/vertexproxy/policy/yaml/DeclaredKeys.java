package dev.vertexproxy.policy.yaml;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Every mapping a file may hold and the keys each one declares, by shape: the key path with list indexes left out
 * ({@code ""} for the top level, {@code listen.tls}, {@code identity.issuers[]}, {@code rules[].identity}). The
 * {@link YamlReader} refuses any other key, and the schema tests compare {@code config/schema/*.json} with these same
 * lists, so a key exists in one place: here.
 *
 * <p>Immutable and thread-safe once built.
 */
public final class DeclaredKeys {
  private final Map<String, List<String>> mappings;

  private DeclaredKeys(Map<String, List<String>> mappings) {
    this.mappings = Collections.unmodifiableMap(new LinkedHashMap<>(mappings));
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * The keys declared for the mapping at {@code shape}.
   *
   * @throws IllegalArgumentException when no mapping is declared there: the code asked for a key no list names
   */
  public List<String> of(String shape) {
    List<String> keys = mappings.get(shape);
    if (keys == null) {
      throw new IllegalArgumentException("no mapping declared at \"" + shape + "\" (declared: " + mappings.keySet() + ")");
    }
    return keys;
  }

  /** Every declared mapping, shape to keys, in declaration order. */
  public Map<String, List<String>> mappings() {
    return mappings;
  }

  /** The shape of a child mapping: {@code parent.key}, or {@code parent.key[]} for the items of a list. */
  public static String child(String shape, String key, boolean listItem) {
    return (shape.isEmpty() ? key : shape + "." + key) + (listItem ? "[]" : "");
  }

  /** Collects mappings; {@link #build()} refuses a nested mapping whose parent does not declare it. */
  public static final class Builder {
    private final Map<String, List<String>> mappings = new LinkedHashMap<>();

    private Builder() {
    }

    public Builder mapping(String shape, String... keys) {
      if (mappings.put(shape, List.of(keys)) != null) {
        throw new IllegalArgumentException("mapping \"" + shape + "\" declared twice");
      }
      return this;
    }

    public DeclaredKeys build() {
      for (String shape : mappings.keySet()) {
        if (shape.isEmpty()) {
          continue;
        }
        String bare = shape.endsWith("[]") ? shape.substring(0, shape.length() - 2) : shape;
        int dot = bare.lastIndexOf('.');
        String parent = dot < 0 ? "" : bare.substring(0, dot);
        String key = bare.substring(dot + 1);
        List<String> parentKeys = mappings.get(parent);
        if (parentKeys == null || !parentKeys.contains(key)) {
          throw new IllegalArgumentException("mapping \"" + shape + "\": \"" + parent + "\" does not declare " + key);
        }
      }
      return new DeclaredKeys(mappings);
    }
  }
}

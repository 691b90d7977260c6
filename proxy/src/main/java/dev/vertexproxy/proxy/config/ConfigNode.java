package dev.vertexproxy.proxy.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * A strict, position-aware view of one YAML mapping in proxy.yaml. Every accessor records what it read, so that
 * {@link #finish()} can report the keys nobody asked for (unknown keys are errors). Problems are collected in a shared
 * {@link Problems} list rather than thrown, so one load reports everything at once.
 *
 * <p>Not thread-safe; used only while loading.
 */
final class ConfigNode {
  private static final Pattern ENV = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?}");
  private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h)");

  private final String path;
  private final MappingNode node;
  private final Problems problems;
  private final Map<String, NodeTuple> entries = new LinkedHashMap<>();
  private final Set<String> seen = new LinkedHashSet<>();
  private final Function<String, String> env;

  ConfigNode(String path, MappingNode node, Problems problems, Function<String, String> env) {
    this.path = path;
    this.node = node;
    this.problems = problems;
    this.env = env;
    for (NodeTuple t : node.getValue()) {
      if (!(t.getKeyNode() instanceof ScalarNode k)) {
        problems.add(t.getKeyNode(), path, "keys must be plain strings");
        continue;
      }
      if (entries.put(k.getValue(), t) != null) {
        problems.add(k, child(k.getValue()), "duplicate key");
      }
    }
  }

  String child(String key) {
    return path.isEmpty() ? key : path + "." + key;
  }

  Node node() {
    return node;
  }

  boolean has(String key) {
    seen.add(key);
    return entries.containsKey(key);
  }

  /** Reports every key that no accessor asked for. */
  void finish() {
    for (Map.Entry<String, NodeTuple> e : entries.entrySet()) {
      if (!seen.contains(e.getKey())) {
        problems.add(e.getValue().getKeyNode(), child(e.getKey()), "unknown key (expected one of: " + String.join(", ", seen) + ")");
      }
    }
  }

  /** A nested mapping, or {@code null} when absent (or wrong type, which is reported). */
  ConfigNode map(String key) {
    seen.add(key);
    NodeTuple t = entries.get(key);
    if (t == null) {
      return null;
    }
    if (t.getValueNode() instanceof MappingNode m) {
      return new ConfigNode(child(key), m, problems, env);
    }
    problems.add(t.getValueNode(), child(key), "expected a mapping");
    return null;
  }

  /** A list of mappings; empty when absent. */
  List<ConfigNode> mapList(String key) {
    seen.add(key);
    NodeTuple t = entries.get(key);
    List<ConfigNode> out = new ArrayList<>();
    if (t == null) {
      return out;
    }
    if (!(t.getValueNode() instanceof SequenceNode s)) {
      problems.add(t.getValueNode(), child(key), "expected a list");
      return out;
    }
    int i = 0;
    for (Node n : s.getValue()) {
      String p = child(key) + "[" + i++ + "]";
      if (n instanceof MappingNode m) {
        out.add(new ConfigNode(p, m, problems, env));
      } else {
        problems.add(n, p, "expected a mapping");
      }
    }
    return out;
  }

  /** A list of strings (a single string is accepted as a one-element list); {@code null} when absent. */
  List<String> strings(String key) {
    seen.add(key);
    NodeTuple t = entries.get(key);
    if (t == null) {
      return null;
    }
    List<String> out = new ArrayList<>();
    if (t.getValueNode() instanceof ScalarNode sc) {
      out.add(substitute(sc, child(key)));
    } else if (t.getValueNode() instanceof SequenceNode s) {
      int i = 0;
      for (Node n : s.getValue()) {
        if (n instanceof ScalarNode sc) {
          out.add(substitute(sc, child(key) + "[" + i + "]"));
        } else {
          problems.add(n, child(key) + "[" + i + "]", "expected a string");
        }
        i++;
      }
    } else {
      problems.add(t.getValueNode(), child(key), "expected a list of strings");
    }
    return out;
  }

  String string(String key, String dflt) {
    seen.add(key);
    NodeTuple t = entries.get(key);
    if (t == null) {
      return dflt;
    }
    if (t.getValueNode() instanceof ScalarNode sc) {
      String v = substitute(sc, child(key));
      return v.isEmpty() ? dflt : v;
    }
    problems.add(t.getValueNode(), child(key), "expected a string");
    return dflt;
  }

  /**
   * {@code true} or {@code false}, unquoted (or a {@code ${ENV}} that expands to one); {@code dflt} when absent.
   * Anything else, {@code yes}, {@code on} and a quoted {@code "true"} included, is reported: a switch that decides
   * what the policy must pin is not guessed at.
   */
  boolean bool(String key, boolean dflt) {
    seen.add(key);
    NodeTuple t = entries.get(key);
    if (t == null) {
      return dflt;
    }
    if (t.getValueNode() instanceof ScalarNode sc) {
      if (sc.isPlain() || sc.getValue().contains("${")) {
        switch (substitute(sc, child(key))) {
          case "true", "True", "TRUE" -> {
            return true;
          }
          case "false", "False", "FALSE" -> {
            return false;
          }
          default -> { }
        }
      }
      report(key, sc.getValue(), "true or false, unquoted");
      return dflt;
    }
    problems.add(t.getValueNode(), child(key), "expected: true or false");
    return dflt;
  }

  String required(String key) {
    String v = string(key, null);
    if (v == null && !entries.containsKey(key)) {
      problems.add(node, child(key), "required");
    }
    return v;
  }

  int integer(String key, int dflt, int min, int max) {
    String v = string(key, null);
    if (v == null) {
      return dflt;
    }
    try {
      int i = Integer.parseInt(v.replace("_", ""));
      if (i < min || i > max) {
        report(key, v, min + ".." + max);
        return dflt;
      }
      return i;
    } catch (NumberFormatException e) {
      report(key, v, "an integer " + min + ".." + max);
      return dflt;
    }
  }

  long bytes(String key, long dflt) {
    String v = string(key, null);
    if (v == null) {
      return dflt;
    }
    Matcher m = Pattern.compile("(\\d+)\\s*(|B|KiB|MiB|GiB)").matcher(v.trim());
    if (!m.matches()) {
      report(key, v, "a size such as 16384, 64KiB, 32MiB or 1GiB");
      return dflt;
    }
    long n = Long.parseLong(m.group(1));
    return switch (m.group(2)) {
      case "KiB" -> n << 10;
      case "MiB" -> n << 20;
      case "GiB" -> n << 30;
      default -> n;
    };
  }

  Duration duration(String key, Duration dflt) {
    String v = string(key, null);
    if (v == null) {
      return dflt;
    }
    Matcher m = DURATION.matcher(v.trim());
    if (!m.matches()) {
      report(key, v, "a duration such as 250ms, 30s, 5m or 1h");
      return dflt;
    }
    try {
      long n = Long.parseLong(m.group(1));
      return switch (m.group(2)) {
        case "ms" -> Duration.ofMillis(n);
        case "s" -> Duration.ofSeconds(n);
        case "m" -> Duration.ofMinutes(n);
        default -> Duration.ofHours(n);
      };
    } catch (NumberFormatException | ArithmeticException e) {
      report(key, v, "a duration such as 250ms, 30s, 5m or 1h; this number is too large");
      return dflt;
    }
  }

  /** A duration in {@code [min, max]}; outside, the value as written is reported with {@code range}. */
  Duration duration(String key, Duration dflt, Duration min, Duration max, String range) {
    Duration d = duration(key, null);
    if (d == null) {
      return dflt;
    }
    if (d.compareTo(min) < 0 || d.compareTo(max) > 0) {
      report(key, string(key, ""), range);
      return dflt;
    }
    return d;
  }

  <E extends Enum<E>> E enumValue(String key, Class<E> type, E dflt) {
    String v = string(key, null);
    if (v == null) {
      return dflt;
    }
    try {
      return Enum.valueOf(type, v.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      List<String> names = new ArrayList<>();
      for (E c : type.getEnumConstants()) {
        names.add(c.name().toLowerCase(Locale.ROOT));
      }
      report(key, v, "one of " + String.join(", ", names));
      return dflt;
    }
  }

  Path path(String key, Path base) {
    String v = string(key, null);
    return v == null ? null : base.resolve(v).normalize();
  }

  URI uri(String key, boolean requireHttp) {
    String v = string(key, null);
    if (v == null) {
      return null;
    }
    try {
      URI u = new URI(v);
      if (requireHttp && (u.getScheme() == null || !(u.getScheme().equals("https") || u.getScheme().equals("http")) || u.getHost() == null)) {
        report(key, v, "an absolute http(s) URL");
        return null;
      }
      return u;
    } catch (URISyntaxException e) {
      report(key, v, "a URL");
      return null;
    }
  }

  void report(String key, String value, String expected) {
    NodeTuple t = entries.get(key);
    problems.add(t == null ? node : t.getValueNode(), child(key), '"' + value + "\" (expected: " + expected + ")");
  }

  void problem(String key, String message) {
    NodeTuple t = entries.get(key);
    problems.add(t == null ? node : t.getValueNode(), child(key), message);
  }

  private String substitute(ScalarNode sc, String where) {
    String raw = sc.getValue();
    if (raw.indexOf("${") < 0) {
      return raw;
    }
    Matcher m = ENV.matcher(raw);
    StringBuilder sb = new StringBuilder();
    while (m.find()) {
      String value = env.apply(m.group(1));
      if (value == null || value.isEmpty()) {
        value = m.group(2);
      }
      if (value == null) {
        problems.add(sc, where, "environment variable " + m.group(1) + " is not set (use ${" + m.group(1) + ":-default} for a default)");
        value = "";
      }
      m.appendReplacement(sb, Matcher.quoteReplacement(value));
    }
    m.appendTail(sb);
    return sb.toString();
  }

  /** Problems found while loading, each with its position. */
  static final class Problems {
    private final String source;
    private final List<String> list = new ArrayList<>();

    Problems(String source) {
      this.source = source;
    }

    void add(Node at, String key, String message) {
      String pos = at == null || at.getStartMark() == null
          ? source
          : source + ":" + (at.getStartMark().getLine() + 1) + ":" + (at.getStartMark().getColumn() + 1);
      list.add(pos + ": " + key + ": " + message);
    }

    List<String> list() {
      return list;
    }
  }
}

package dev.vertexproxy.policy.yaml;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

/**
 * One mapping of a document read by {@link YamlReader}, with its declared keys and typed accessors. Unknown keys were
 * reported when the view was made; asking for a key the declared list does not name is a bug and throws. Every
 * accessor reports what is wrong through the reader (value as written, key path, line, expectation) and returns its
 * default, so one load reports everything at once.
 *
 * <p>Values: a scalar of any YAML type is read as its text (numbers included), except booleans, which must be
 * {@code true} or {@code false} unquoted. An empty or null scalar ({@code key: ""}, {@code key:}) is refused: omit the
 * key for the default. Where the reader has an environment, {@code ${NAME}} and {@code ${NAME:-default}} are
 * substituted (an unset or empty variable takes the default; without one it is a problem), and a value that
 * substitutes to nothing counts as absent, so {@code ${NAME:-}} means "the default unless NAME is set".
 *
 * <p>Not thread-safe; used only while loading.
 */
public final class YamlMap {
  private static final Pattern ENV = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?}");
  private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h)");
  private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*(|B|KiB|MiB|GiB)");
  private static final String DURATION_EXAMPLES = "a duration such as 250ms, 30s, 5m or 1h";
  private static final String SIZE_EXAMPLES = "a size such as 16384, 64KiB, 32MiB or 1GiB";

  private final YamlReader reader;
  private final MappingNode node;
  private final String path;
  private final String shape;
  private final DeclaredKeys declared;
  private final List<String> keys;
  private final Map<String, NodeTuple> entries;

  YamlMap(YamlReader reader, MappingNode node, String path, String shape, DeclaredKeys declared) {
    this.reader = reader;
    this.node = node;
    this.path = path;
    this.shape = shape;
    this.declared = declared;
    this.keys = declared.of(shape);
    this.entries = reader.mapping(node, path, keys);
  }

  /** The key path of this mapping, e.g. {@code identity.issuers[0]}; empty at the top. */
  public String path() {
    return path;
  }

  public Node node() {
    return node;
  }

  /** Whether {@code key} is present. */
  public boolean has(String key) {
    return entry(key) != null;
  }

  private NodeTuple entry(String key) {
    if (!keys.contains(key)) {
      throw new IllegalArgumentException("\"" + key + "\" is not declared for " + (shape.isEmpty() ? "the top level" : shape));
    }
    return entries.get(key);
  }

  private String child(String key) {
    return YamlReader.join(path, key);
  }

  /** A nested mapping, or null when absent (or not a mapping, which is reported). */
  public YamlMap map(String key) {
    NodeTuple t = entry(key);
    return t == null ? null : reader.map(t.getValueNode(), child(key), DeclaredKeys.child(shape, key, false), declared);
  }

  /** A list of mappings; empty when absent, and without the items that are not mappings (which are reported). */
  public List<YamlMap> mapList(String key) {
    NodeTuple t = entry(key);
    List<YamlMap> out = new ArrayList<>();
    if (t == null) {
      return out;
    }
    if (!(t.getValueNode() instanceof SequenceNode s)) {
      reader.problem(t.getValueNode(), child(key), "expected a list, got " + YamlReader.describe(t.getValueNode()));
      return out;
    }
    String itemShape = DeclaredKeys.child(shape, key, true);
    for (int i = 0; i < s.getValue().size(); i++) {
      YamlMap m = reader.map(s.getValue().get(i), child(key) + "[" + i + "]", itemShape, declared);
      if (m != null) {
        out.add(m);
      }
    }
    return out;
  }

  /**
   * A non-empty list of non-empty strings (one string stands for a list of one); null when absent or unusable
   * (reported). An empty list is refused: omit the key for the default.
   */
  public List<String> strings(String key) {
    NodeTuple t = entry(key);
    if (t == null) {
      return null;
    }
    Node v = t.getValueNode();
    if (v instanceof ScalarNode sc) {
      String s = text(sc, child(key), "a string or a list of strings");
      return s == null ? null : List.of(s);
    }
    if (!(v instanceof SequenceNode seq)) {
      reader.problem(v, child(key), YamlReader.describe(v), "a list of strings");
      return null;
    }
    if (seq.getValue().isEmpty()) {
      reader.problem(v, child(key), "[]", "a non-empty list; omit the key for the default");
      return null;
    }
    List<String> out = new ArrayList<>();
    boolean ok = true;
    for (int i = 0; i < seq.getValue().size(); i++) {
      Node item = seq.getValue().get(i);
      String where = child(key) + "[" + i + "]";
      String s = item instanceof ScalarNode sc ? text(sc, where, "a string") : null;
      if (!(item instanceof ScalarNode)) {
        reader.problem(item, where, YamlReader.describe(item), "a string");
      }
      ok &= s != null;
      out.add(s);
    }
    return ok ? out : null;
  }

  /** The value's text after substitution; {@code dflt} when absent or unusable (reported). */
  public String string(String key, String dflt) {
    String v = scalar(key, "a string");
    return v == null ? dflt : v;
  }

  /** The value's text; a problem when {@linkplain #missing missing}. */
  public String required(String key) {
    if (missing(key)) {
      problem(key, "required");
      return null;
    }
    NodeTuple t = entry(key);
    if (t.getValueNode() instanceof ScalarNode sc) {
      return nonEmpty(sc, child(key), "a non-empty value; the key is required");
    }
    return scalar(key, "a string");
  }

  /**
   * Whether {@code key} is absent or its value substitutes to nothing ({@code ${NAME:-}} with NAME unset): the callers
   * of a required key report it. Reports nothing itself.
   */
  public boolean missing(String key) {
    NodeTuple t = entry(key);
    if (t == null) {
      return true;
    }
    if (!(t.getValueNode() instanceof ScalarNode sc) || sc.getTag().equals(Tag.NULL) || sc.getValue().isEmpty()
        || reader.env() == null) {
      return false;
    }
    Matcher m = ENV.matcher(sc.getValue());
    while (m.find()) {
      String value = reader.env().apply(m.group(1));
      if ((value == null || value.isEmpty()) && m.group(2) == null) {
        return false; // an unset variable is its own problem, reported when the value is read
      }
    }
    return substitute(sc, null).isEmpty();
  }

  /**
   * {@code true} or {@code false}, unquoted (or a {@code ${ENV}} that expands to one); {@code dflt} when absent.
   * Anything else, {@code yes}, {@code on} and a quoted {@code "true"} included, is reported: a switch that decides
   * what the policy must pin, or whether a listener runs, is not guessed at.
   */
  public boolean bool(String key, boolean dflt) {
    NodeTuple t = entry(key);
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
    reader.problem(t.getValueNode(), child(key), YamlReader.describe(t.getValueNode()), "true or false");
    return dflt;
  }

  /** An integer in {@code [min, max]} ({@code _} separators allowed); {@code dflt} when absent or unusable. */
  public int integer(String key, int dflt, int min, int max) {
    String v = scalar(key, "an integer " + min + ".." + max);
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

  /**
   * A byte size ({@code 16384}, {@code 64KiB}, {@code 32MiB}, {@code 1GiB}) in {@code [min, max]}; a number too large
   * for a long, before or after its unit, is reported, never wrapped.
   */
  public long bytes(String key, long dflt, long min, long max) {
    String v = scalar(key, SIZE_EXAMPLES);
    if (v == null) {
      return dflt;
    }
    Matcher m = SIZE.matcher(v.trim());
    if (!m.matches()) {
      report(key, v, SIZE_EXAMPLES);
      return dflt;
    }
    long n;
    try {
      int shift = switch (m.group(2)) {
        case "KiB" -> 10;
        case "MiB" -> 20;
        case "GiB" -> 30;
        default -> 0;
      };
      n = Math.multiplyExact(Long.parseLong(m.group(1)), 1L << shift);
    } catch (NumberFormatException | ArithmeticException e) {
      report(key, v, SIZE_EXAMPLES + "; this number is too large");
      return dflt;
    }
    if (n < min || n > max) {
      report(key, v, min + ".." + max + " bytes");
      return dflt;
    }
    return n;
  }

  /** A duration ({@code 250ms}, {@code 30s}, {@code 5m}, {@code 1h}); too large a number is reported, not a crash. */
  public Duration duration(String key, Duration dflt) {
    String v = scalar(key, DURATION_EXAMPLES);
    return v == null ? dflt : parseDuration(key, v, dflt);
  }

  /** A duration in {@code [min, max]}; outside, the value as written is reported with {@code range}. */
  public Duration duration(String key, Duration dflt, Duration min, Duration max, String range) {
    String v = scalar(key, DURATION_EXAMPLES);
    if (v == null) {
      return dflt;
    }
    Duration d = parseDuration(key, v, null);
    if (d == null) {
      return dflt;
    }
    if (d.compareTo(min) < 0 || d.compareTo(max) > 0) {
      report(key, v, range);
      return dflt;
    }
    return d;
  }

  private Duration parseDuration(String key, String v, Duration dflt) {
    Matcher m = DURATION.matcher(v.trim());
    if (!m.matches()) {
      report(key, v, DURATION_EXAMPLES);
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
      report(key, v, DURATION_EXAMPLES + "; this number is too large");
      return dflt;
    }
  }

  /** One of {@code type}'s constants, written in any case ({@code group_commit}); {@code dflt} when absent. */
  public <E extends Enum<E>> E enumValue(String key, Class<E> type, E dflt) {
    List<String> names = new ArrayList<>();
    for (E c : type.getEnumConstants()) {
      names.add(c.name().toLowerCase(Locale.ROOT));
    }
    String v = scalar(key, "one of " + String.join(", ", names));
    if (v == null) {
      return dflt;
    }
    try {
      return Enum.valueOf(type, v.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      report(key, v, "one of " + String.join(", ", names));
      return dflt;
    }
  }

  /** A file path resolved against {@code base}; null when absent or unusable. */
  public Path path(String key, Path base) {
    return resolve(key, scalar(key, "a file path"), base);
  }

  /** {@link #path}, with a problem when {@linkplain #missing missing}. */
  public Path requiredPath(String key, Path base) {
    return resolve(key, required(key), base);
  }

  private Path resolve(String key, String v, Path base) {
    if (v == null) {
      return null;
    }
    try {
      return base.resolve(v).normalize();
    } catch (InvalidPathException e) {
      report(key, v, "a file path");
      return null;
    }
  }

  /** A URI ({@code requireHttp}: an absolute http(s) URL with a host); null when absent or unusable. */
  public URI uri(String key, boolean requireHttp) {
    String v = scalar(key, requireHttp ? "an absolute http(s) URL" : "a URL");
    if (v == null) {
      return null;
    }
    try {
      URI u = new URI(v);
      if (requireHttp && (u.getScheme() == null || !(u.getScheme().equals("https") || u.getScheme().equals("http"))
          || u.getHost() == null)) {
        report(key, v, "an absolute http(s) URL");
        return null;
      }
      return u;
    } catch (URISyntaxException e) {
      report(key, v, "a URL");
      return null;
    }
  }

  /**
   * {@code host:port} ({@code [::1]:8443} for IPv6) with a port 0..65535, unresolved; {@code dflt} (parsed the same
   * way) when absent, null when unusable (reported).
   */
  public InetSocketAddress address(String key, String dflt) {
    int before = reader.problems().size();
    String v = scalar(key, "host:port");
    if (v == null) {
      if (reader.problems().size() != before) {
        return null;
      }
      v = dflt;
    }
    int colon = v.lastIndexOf(':');
    if (colon <= 0) {
      report(key, v, "host:port");
      return null;
    }
    String host = v.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    try {
      int port = Integer.parseInt(v.substring(colon + 1));
      if (port < 0 || port > 65535 || host.isEmpty()) {
        report(key, v, "host:port with port 0..65535");
        return null;
      }
      return InetSocketAddress.createUnresolved(host, port);
    } catch (NumberFormatException e) {
      report(key, v, "host:port with port 0..65535");
      return null;
    }
  }

  /** Reports {@code value} (as written) at {@code key}'s value, or at this mapping when the key is absent. */
  public void report(String key, String value, String expected) {
    NodeTuple t = entry(key);
    reader.problem(t == null ? node : t.getValueNode(), child(key), '"' + value + '"', expected);
  }

  /** Reports a problem at {@code key}'s value, or at this mapping when the key is absent. */
  public void problem(String key, String message) {
    NodeTuple t = entry(key);
    reader.problem(t == null ? node : t.getValueNode(), child(key), message);
  }

  /**
   * The text of {@code key}'s scalar after substitution; null when absent, when it substitutes to nothing, or when
   * unusable (reported: not a scalar, empty, null).
   */
  private String scalar(String key, String expected) {
    NodeTuple t = entry(key);
    if (t == null) {
      return null;
    }
    if (t.getValueNode() instanceof ScalarNode sc) {
      return text(sc, child(key), expected);
    }
    reader.problem(t.getValueNode(), child(key), YamlReader.describe(t.getValueNode()), expected);
    return null;
  }

  private String text(ScalarNode sc, String where, String expected) {
    return nonEmpty(sc, where, expected + "; omit the key for the default");
  }

  /** {@code sc}'s text after substitution; an empty or null scalar is reported with {@code expected}. */
  private String nonEmpty(ScalarNode sc, String where, String expected) {
    if (sc.getTag().equals(Tag.NULL) || sc.getValue().isEmpty()) {
      reader.problem(sc, where, YamlReader.describe(sc), expected);
      return null;
    }
    String v = substitute(sc, where);
    return v.isEmpty() ? null : v;
  }

  /** {@code sc}'s text with {@code ${...}} substituted; {@code where} null: a trial that reports nothing. */
  private String substitute(ScalarNode sc, String where) {
    String raw = sc.getValue();
    if (reader.env() == null || raw.indexOf("${") < 0) {
      return raw;
    }
    Matcher m = ENV.matcher(raw);
    StringBuilder sb = new StringBuilder();
    while (m.find()) {
      String value = reader.env().apply(m.group(1));
      if (value == null || value.isEmpty()) {
        value = m.group(2);
      }
      if (value == null && where != null) {
        reader.problem(sc, where, "environment variable " + m.group(1) + " is not set (use ${" + m.group(1)
            + ":-default} for a default)");
      }
      if (value == null) {
        value = "";
      }
      m.appendReplacement(sb, Matcher.quoteReplacement(value));
    }
    m.appendTail(sb);
    return sb.toString();
  }
}

package dev.vertexproxy.policy.yaml;

import java.io.StringReader;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

/**
 * The one strict YAML reader of the project: proxy.yaml, policies and policy test files all go through it, so they
 * share one model of strictness and one {@link Problem} type. It reads through SnakeYAML's node API (never building
 * objects from tags) and collects every problem with its line and column instead of stopping at the first.
 *
 * <p>What it refuses, for every file: anchors and aliases (a value defined in one place and silently reused in
 * another), merge keys, duplicate keys, non-scalar keys and explicit tags; in a mapping, any key its
 * {@link DeclaredKeys declared list} does not name (with a "did you mean" when one is close); empty and null scalars,
 * unless an accessor allows them. Typed reading of one mapping (durations, byte sizes, enums, URIs, paths,
 * {@code host:port}, strict booleans, {@code ${ENV}} substitution) is {@link YamlMap}'s; the node-level accessors here
 * ({@link #string}, {@link #claimValue}, {@link #strings}) are the policy's.
 *
 * <p>It lives in the policy module because the proxy depends on the policy and not the other way round; it knows
 * nothing of either file's meaning.
 *
 * <p>Not thread-safe: one instance reads one document.
 */
public final class YamlReader {
  private static final Set<Tag> PLAIN_TAGS = Set.of(Tag.MAP, Tag.SEQ, Tag.STR, Tag.INT, Tag.BOOL, Tag.FLOAT, Tag.NULL);

  /**
   * Unquoted booleans in their canonical spellings, read as the text GitLab writes for a boolean claim. Without this a
   * {@code ref_protected: False} would be the text "False", which no token carries: a deny rule would never deny.
   */
  private static final Map<String, String> CANONICAL_BOOLEANS = Map.of("true", "true", "True", "true", "TRUE", "true",
      "false", "false", "False", "false", "FALSE", "false");
  /**
   * Unquoted spellings YAML 1.1 reads as booleans and YAML 1.2 as text: which one the author meant cannot be told, so
   * they are refused rather than guessed.
   */
  private static final Set<String> AMBIGUOUS_BOOLEANS = Set.of("yes", "Yes", "YES", "no", "No", "NO", "on", "On", "ON",
      "off", "Off", "OFF", "y", "Y", "n", "N");

  private final String source;
  private final Function<String, String> env;
  private final List<Problem> problems = new ArrayList<>();

  /** A reader for {@code source} (the file name problems carry) that substitutes no {@code ${ENV}}. */
  public YamlReader(String source) {
    this(source, null);
  }

  /**
   * A reader whose {@link YamlMap} accessors substitute {@code ${NAME}} and {@code ${NAME:-default}} from {@code env}
   * (null: no substitution, {@code ${...}} is literal text).
   */
  public YamlReader(String source, Function<String, String> env) {
    this.source = source;
    this.env = env;
  }

  public String source() {
    return source;
  }

  Function<String, String> env() {
    return env;
  }

  /** Every problem found so far, in the order found. */
  public List<Problem> problems() {
    return problems;
  }

  /** The document's root node after the structural checks, or null (with a problem) if it is unusable. */
  public Node read(String text) {
    LoaderOptions options = new LoaderOptions();
    options.setAllowDuplicateKeys(false);
    options.setMaxAliasesForCollections(10);
    options.setCodePointLimit(4 * 1024 * 1024);
    Node root;
    try {
      root = new Yaml(options).compose(new StringReader(text));
    } catch (MarkedYAMLException e) {
      Mark mark = e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
      String what = e.getProblem() != null ? e.getProblem() : "invalid YAML";
      add(mark == null ? 1 : mark.getLine() + 1, mark == null ? 1 : mark.getColumn() + 1, "", "invalid YAML: " + what);
      return null;
    } catch (YAMLException e) {
      add(1, 1, "", "invalid YAML: " + e.getMessage());
      return null;
    }
    if (root == null) {
      add(1, 1, "", "the document is empty");
      return null;
    }
    int before = problems.size();
    checkStructure(root, "", Collections.newSetFromMap(new IdentityHashMap<>()));
    return problems.size() == before ? root : null;
  }

  private void checkStructure(Node node, String path, Set<Node> seen) {
    if (!seen.add(node)) {
      problem(node, path, "aliases are not allowed; write the value out");
      return;
    }
    if (node.getAnchor() != null) {
      problem(node, path, "anchor &" + node.getAnchor() + " is not allowed; write values out where they apply");
    }
    if (!PLAIN_TAGS.contains(node.getTag())) {
      problem(node, path, "explicit tag " + node.getTag() + " is not allowed");
    }
    if (node instanceof MappingNode map) {
      Map<String, Node> keys = new LinkedHashMap<>();
      for (NodeTuple t : map.getValue()) {
        Node key = t.getKeyNode();
        if (key.getTag().equals(Tag.MERGE)) {
          problem(key, path, "merge keys (<<) are not allowed");
          continue;
        }
        if (!(key instanceof ScalarNode scalar)) {
          problem(key, path, "keys must be plain strings, not " + describe(key));
          continue;
        }
        String childPath = join(path, scalar.getValue());
        Node first = keys.putIfAbsent(scalar.getValue(), key);
        if (first != null) {
          problem(key, childPath, "duplicate key \"" + scalar.getValue() + "\" (first at line "
              + (first.getStartMark().getLine() + 1) + ")");
        }
        checkStructure(t.getValueNode(), childPath, seen);
      }
    } else if (node instanceof SequenceNode seq) {
      List<Node> items = seq.getValue();
      for (int i = 0; i < items.size(); i++) {
        checkStructure(items.get(i), path + "[" + i + "]", seen);
      }
    }
  }

  public static String join(String path, String key) {
    return path.isEmpty() ? key : path + "." + key;
  }

  /** Records a problem at {@code node}'s start. */
  public void problem(Node node, String path, String message) {
    problem(node, path, message, null);
  }

  /** Records a problem at {@code node}'s start with what would have been accepted. */
  public void problem(Node node, String path, String message, String expected) {
    Mark m = node.getStartMark();
    problems.add(new Problem(source, m.getLine() + 1, m.getColumn() + 1, path, message, expected));
  }

  void add(int line, int column, String path, String message) {
    problems.add(new Problem(source, line, column, path, message));
  }

  /**
   * The mapping at {@code node} as a typed view whose keys are {@code keys.of(shape)}; null (with a problem) when the
   * node is not a mapping. Unknown keys are reported here, once.
   */
  public YamlMap map(Node node, String path, String shape, DeclaredKeys keys) {
    if (!(node instanceof MappingNode)) {
      problem(node, path, "expected a mapping, got " + describe(node));
      return null;
    }
    return new YamlMap(this, (MappingNode) node, path, shape, keys);
  }

  /**
   * The entries of a mapping by key, with a problem for every key not in {@code allowed} (null: any key); null (with a
   * problem) when the node is not a mapping.
   */
  public Map<String, NodeTuple> mapping(Node node, String path, List<String> allowed) {
    if (!(node instanceof MappingNode map)) {
      problem(node, path, "expected a mapping, got " + describe(node));
      return null;
    }
    Map<String, NodeTuple> entries = new LinkedHashMap<>();
    for (NodeTuple t : map.getValue()) {
      String key = ((ScalarNode) t.getKeyNode()).getValue();
      if (allowed != null && !allowed.contains(key)) {
        String close = closest(key, allowed);
        problem(t.getKeyNode(), join(path, key), "unknown key \"" + key + "\" ("
            + (close == null ? "" : "did you mean " + close + "? ") + "expected one of: " + String.join(", ", allowed) + ")");
      } else {
        entries.put(key, t);
      }
    }
    return entries;
  }

  /** A non-empty string scalar; booleans and numbers only where {@code anyScalar} (claims read them as text). */
  public String string(Node node, String path, boolean anyScalar) {
    if (node instanceof ScalarNode s && !s.getTag().equals(Tag.NULL)) {
      if (!anyScalar && !s.getTag().equals(Tag.STR)) {
        problem(node, path, "expected a string, got " + describe(node) + " (quote it)");
        return null;
      }
      if (s.getValue().isEmpty()) {
        problem(node, path, "expected a non-empty string, got \"\"");
        return null;
      }
      return s.getValue();
    }
    problem(node, path, "expected a string, got " + describe(node));
    return null;
  }

  /**
   * A number as a JSON claim's string form reads ({@code 42}, {@code -7}, {@code 1.5}): no plus, no leading zero, no
   * separators, no exponent, no trailing fractional zero.
   */
  private static final Pattern PLAIN_DECIMAL = Pattern.compile("-?(0|[1-9][0-9]*)(\\.[0-9]*[1-9])?");

  /**
   * A claim value as the text it is compared by: any non-empty scalar, with unquoted {@code true/True/TRUE} and
   * {@code false/False/FALSE} read as "true" and "false", and the unquoted YAML 1.1 booleans ({@code yes}, {@code on},
   * {@code n}, ...) refused. Quoted scalars are always literal. Null (with a problem) when unusable.
   */
  public String claimValue(Node node, String path) {
    if (node instanceof ScalarNode s && s.isPlain()) {
      String canonical = CANONICAL_BOOLEANS.get(s.getValue());
      if (canonical != null) {
        return canonical;
      }
      if (AMBIGUOUS_BOOLEANS.contains(s.getValue())) {
        problem(node, path, s.getValue() + " — YAML reads this as a boolean; write true or false, or quote it (\""
            + s.getValue() + "\") if you mean the text");
        return null;
      }
      // GitLab sends numeric claims (project_id, namespace_id, user_id) as decimal strings. YAML also reads 0x1267,
      // 04711, 1_000, 1:20 and 1e3 as numbers; kept as text they would never match, and a deny rule would never deny.
      boolean number = s.getTag().equals(Tag.INT) || s.getTag().equals(Tag.FLOAT);
      if (number && !PLAIN_DECIMAL.matcher(s.getValue()).matches()) {
        problem(node, path, s.getValue() + " — YAML reads this as a number written another way, and claims are compared"
            + " as text; write the decimal digits the issuer sends, or quote it (\"" + s.getValue() + "\")");
        return null;
      }
    }
    return string(node, path, true);
  }

  /** One {@link #claimValue} or a non-empty list of them. Null on problems. */
  public List<String> claimValues(Node node, String path) {
    return strings(node, path, true, true, true);
  }

  /** A list of strings, or (when {@code singleAllowed}) one string standing for a list of one. Null on problems. */
  public List<String> strings(Node node, String path, boolean singleAllowed, boolean anyScalar) {
    return strings(node, path, singleAllowed, anyScalar, false);
  }

  private List<String> strings(Node node, String path, boolean singleAllowed, boolean anyScalar, boolean claims) {
    if (node instanceof ScalarNode && singleAllowed) {
      String s = claims ? claimValue(node, path) : string(node, path, anyScalar);
      return s == null ? null : List.of(s);
    }
    if (!(node instanceof SequenceNode seq)) {
      problem(node, path, "expected a list" + (singleAllowed ? " or a string" : "") + ", got " + describe(node));
      return null;
    }
    if (seq.getValue().isEmpty()) {
      problem(node, path, "expected a non-empty list; an empty list matches nothing (omit the key instead)");
      return null;
    }
    List<String> values = new ArrayList<>();
    boolean ok = true;
    for (int i = 0; i < seq.getValue().size(); i++) {
      Node item = seq.getValue().get(i);
      String s = claims ? claimValue(item, path + "[" + i + "]") : string(item, path + "[" + i + "]", anyScalar);
      ok &= s != null;
      values.add(s);
    }
    return ok ? values : null;
  }

  /** How a node reads in a message: {@code a mapping}, {@code the number 2}, {@code "text"}, .... */
  public static String describe(Node node) {
    if (node instanceof MappingNode) {
      return "a mapping";
    }
    if (node instanceof SequenceNode) {
      return "a list";
    }
    ScalarNode s = (ScalarNode) node;
    Tag tag = s.getTag();
    if (tag.equals(Tag.NULL)) {
      return "nothing (null)";
    }
    if (tag.equals(Tag.BOOL)) {
      return "the boolean " + s.getValue();
    }
    if (tag.equals(Tag.INT) || tag.equals(Tag.FLOAT)) {
      return "the number " + s.getValue();
    }
    return "\"" + s.getValue() + "\"";
  }

  public static int line(Node node) {
    return node.getStartMark().getLine() + 1;
  }

  public static int column(Node node) {
    return node.getStartMark().getColumn() + 1;
  }

  /** The name in {@code candidates} within a small edit distance of {@code typo}, or null. */
  public static String closest(String typo, Collection<String> candidates) {
    String best = null;
    int bestDistance = Math.max(2, typo.length() / 5) + 1;
    for (String name : candidates) {
      if (Math.abs(name.length() - typo.length()) >= bestDistance) {
        continue;
      }
      int d = editDistance(typo, name, bestDistance);
      if (d < bestDistance) {
        bestDistance = d;
        best = name;
      }
    }
    return best;
  }

  /** Levenshtein distance, giving up (returning {@code limit}) once every path exceeds it. */
  public static int editDistance(String a, String b, int limit) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      int rowMin = cur[0];
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
        rowMin = Math.min(rowMin, cur[j]);
      }
      if (rowMin >= limit) {
        return limit;
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return Math.min(prev[b.length()], limit);
  }
}

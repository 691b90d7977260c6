package dev.vertexproxy.proxy.testing;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * A small, strict parser of the Prometheus text exposition format (version 0.0.4), for tests that read
 * {@code /metrics}: {@code # HELP} and {@code # TYPE} lines per family, then samples {@code name{label="value",…} value}
 * with the format's escapes ({@code \\}, {@code \"}, {@code \n}) in label values. Anything it does not understand is
 * an {@link IllegalArgumentException} naming the line, so a malformed exposition fails the test instead of being
 * skipped.
 */
public final class PrometheusText {
  /** One sample line. */
  public record Sample(String name, Map<String, String> labels, double value) {
    public String label(String key) {
      return labels.get(key);
    }
  }

  /** One metric family: its {@code # HELP} text, its {@code # TYPE} and its samples. */
  public record Family(String name, String help, String type, List<Sample> samples) {
  }

  private final Map<String, Family> families;

  private PrometheusText(Map<String, Family> families) {
    this.families = families;
  }

  public static PrometheusText parse(String text) {
    Map<String, String> help = new LinkedHashMap<>();
    Map<String, String> type = new LinkedHashMap<>();
    Map<String, List<Sample>> samples = new LinkedHashMap<>();
    String[] lines = text.split("\n", -1);
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i];
      if (line.isEmpty()) {
        continue;
      }
      try {
        if (line.startsWith("# HELP ")) {
          String rest = line.substring(7);
          int sp = rest.indexOf(' ');
          String name = sp < 0 ? rest : rest.substring(0, sp);
          help.put(name, sp < 0 ? "" : rest.substring(sp + 1));
        } else if (line.startsWith("# TYPE ")) {
          String[] parts = line.substring(7).split(" ");
          if (parts.length != 2) {
            throw new IllegalArgumentException("TYPE line without a type");
          }
          type.put(parts[0], parts[1]);
          samples.putIfAbsent(parts[0], new ArrayList<>());
        } else if (line.startsWith("#")) {
          continue; // a comment
        } else {
          Sample s = sample(line);
          samples.computeIfAbsent(familyOf(s.name(), type), k -> new ArrayList<>()).add(s);
        }
      } catch (RuntimeException e) {
        throw new IllegalArgumentException("line " + (i + 1) + ": " + e.getMessage() + ": " + line, e);
      }
    }
    Map<String, Family> out = new LinkedHashMap<>();
    for (Map.Entry<String, List<Sample>> e : samples.entrySet()) {
      out.put(e.getKey(), new Family(e.getKey(), help.get(e.getKey()), type.get(e.getKey()),
          Collections.unmodifiableList(e.getValue())));
    }
    return new PrometheusText(Collections.unmodifiableMap(out));
  }

  /** The family a sample belongs to: its own name, or the histogram/summary/counter it is a part of. */
  private static String familyOf(String sample, Map<String, String> types) {
    if (types.containsKey(sample)) {
      return sample;
    }
    for (String suffix : List.of("_bucket", "_count", "_sum", "_total", "_created", "_info")) {
      if (sample.endsWith(suffix)) {
        String base = sample.substring(0, sample.length() - suffix.length());
        if (types.containsKey(base)) {
          return base;
        }
      }
    }
    throw new IllegalArgumentException("sample " + sample + " belongs to no family announced by a TYPE line");
  }

  private static Sample sample(String line) {
    int i = 0;
    while (i < line.length() && line.charAt(i) != '{' && line.charAt(i) != ' ') {
      i++;
    }
    String name = line.substring(0, i);
    if (!name.matches("[a-zA-Z_:][a-zA-Z0-9_:]*")) {
      throw new IllegalArgumentException("bad metric name '" + name + "'");
    }
    Map<String, String> labels = new LinkedHashMap<>();
    if (i < line.length() && line.charAt(i) == '{') {
      i++;
      while (line.charAt(i) != '}') {
        int eq = line.indexOf('=', i);
        String key = line.substring(i, eq);
        if (!key.matches("[a-zA-Z_][a-zA-Z0-9_]*")) {
          throw new IllegalArgumentException("bad label name '" + key + "'");
        }
        if (line.charAt(eq + 1) != '"') {
          throw new IllegalArgumentException("label value not quoted");
        }
        StringBuilder value = new StringBuilder();
        int j = eq + 2;
        for (char c = line.charAt(j); c != '"'; c = line.charAt(++j)) {
          if (c == '\\') {
            char next = line.charAt(++j);
            value.append(switch (next) {
              case 'n' -> '\n';
              case '\\' -> '\\';
              case '"' -> '"';
              default -> throw new IllegalArgumentException("bad escape \\" + next);
            });
          } else {
            value.append(c);
          }
        }
        if (labels.put(key, value.toString()) != null) {
          throw new IllegalArgumentException("label " + key + " twice");
        }
        i = j + 1;
        if (line.charAt(i) == ',') {
          i++;
        }
      }
      i++;
    }
    if (i >= line.length() || line.charAt(i) != ' ') {
      throw new IllegalArgumentException("no value");
    }
    String[] rest = line.substring(i + 1).split(" ");
    return new Sample(name, Collections.unmodifiableMap(labels), value(rest[0]));
  }

  private static double value(String v) {
    return switch (v) {
      case "+Inf" -> Double.POSITIVE_INFINITY;
      case "-Inf" -> Double.NEGATIVE_INFINITY;
      case "NaN" -> Double.NaN;
      default -> Double.parseDouble(v);
    };
  }

  public Map<String, Family> families() {
    return families;
  }

  public Family family(String name) {
    Family f = families.get(name);
    if (f == null) {
      throw new AssertionError("no metric family " + name + " in the exposition; there are " + families.keySet());
    }
    return f;
  }

  /** Every sample, of every family. */
  public List<Sample> samples() {
    List<Sample> all = new ArrayList<>();
    families.values().forEach(f -> all.addAll(f.samples()));
    return all;
  }

  /**
   * The value of the one sample named {@code sample} whose labels include all of {@code labels} (key, value, key,
   * value, …); fails unless exactly one matches.
   */
  public double value(String sample, String... labels) {
    List<Sample> matching = samples().stream().filter(s -> s.name().equals(sample)).filter(having(labels)).toList();
    if (matching.size() != 1) {
      throw new AssertionError(matching.size() + " samples " + sample + " with " + List.of(labels) + ": " + matching);
    }
    return matching.get(0).value();
  }

  /** The sum over every sample named {@code sample} whose labels include all of {@code labels}. */
  public double sum(String sample, String... labels) {
    return samples().stream().filter(s -> s.name().equals(sample)).filter(having(labels)).mapToDouble(Sample::value).sum();
  }

  private static Predicate<Sample> having(String... labels) {
    return s -> {
      for (int i = 0; i < labels.length; i += 2) {
        if (!labels[i + 1].equals(s.labels().get(labels[i]))) {
          return false;
        }
      }
      return true;
    };
  }
}

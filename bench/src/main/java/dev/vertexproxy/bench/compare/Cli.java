package dev.vertexproxy.bench.compare;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The command line of the comparison tools: {@code --name value} pairs, some repeatable ({@code --header}). An unknown
 * option, a missing value or a value of the wrong type is refused with a message naming the option and what was
 * expected, so a typo in {@code scripts/bench} fails the run instead of measuring something else.
 */
final class Cli {
  private final Map<String, List<String>> values = new HashMap<>();

  private Cli() {
  }

  /** Parses {@code args}; {@code known} lists every option the tool accepts, without the leading dashes. */
  static Cli parse(String[] args, Set<String> known) {
    Cli cli = new Cli();
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (!a.startsWith("--")) {
        throw new IllegalArgumentException(a + ": unexpected argument (expected: --option value)");
      }
      String name = a.substring(2);
      String value;
      int eq = name.indexOf('=');
      if (eq >= 0) {
        value = name.substring(eq + 1);
        name = name.substring(0, eq);
      } else if (i + 1 < args.length) {
        value = args[++i];
      } else {
        throw new IllegalArgumentException("--" + name + ": missing value");
      }
      if (!known.contains(name)) {
        throw new IllegalArgumentException("--" + name + ": unknown option (expected one of " + known + ")");
      }
      cli.values.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
    }
    return cli;
  }

  String string(String name, String fallback) {
    List<String> v = values.get(name);
    return v == null ? fallback : v.get(v.size() - 1);
  }

  String required(String name) {
    String v = string(name, null);
    if (v == null) {
      throw new IllegalArgumentException("--" + name + ": required");
    }
    return v;
  }

  List<String> all(String name) {
    return values.getOrDefault(name, List.of());
  }

  long integer(String name, long fallback, long min) {
    String v = string(name, null);
    if (v == null) {
      return fallback;
    }
    try {
      long n = Long.parseLong(v.trim());
      if (n < min) {
        throw new IllegalArgumentException("--" + name + ": " + v + " (expected: an integer >= " + min + ")");
      }
      return n;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--" + name + ": " + v + " (expected: an integer >= " + min + ")", e);
    }
  }

  double decimal(String name, double fallback, double min) {
    String v = string(name, null);
    if (v == null) {
      return fallback;
    }
    try {
      double d = Double.parseDouble(v.trim());
      if (!(d >= min) || Double.isInfinite(d)) {
        throw new IllegalArgumentException("--" + name + ": " + v + " (expected: a number >= " + min + ")");
      }
      return d;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--" + name + ": " + v + " (expected: a number >= " + min + ")", e);
    }
  }

  /** Seconds, possibly fractional, as nanoseconds. */
  long seconds(String name, double fallback) {
    return (long) (decimal(name, fallback, 0) * 1e9);
  }
}

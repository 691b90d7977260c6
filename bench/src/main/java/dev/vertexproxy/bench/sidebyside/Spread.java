package dev.vertexproxy.bench.sidebyside;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** A figure measured several times: its median and its range, which is what the report prints. */
record Spread(List<Double> values) {
  Spread {
    values = List.copyOf(values);
  }

  static Spread of(List<Double> values) {
    return new Spread(values);
  }

  boolean empty() {
    return values.isEmpty();
  }

  double median() {
    if (values.isEmpty()) {
      return Double.NaN;
    }
    List<Double> s = new ArrayList<>(values);
    Collections.sort(s);
    int n = s.size();
    return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
  }

  double min() {
    return values.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
  }

  double max() {
    return values.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
  }

  /** As {@link #show(String)}, with a unit after the figures, e.g. {@code "2.5 (1.0–10.0) µs"}. */
  String show(String format, String unit) {
    return values.isEmpty() ? show(format) : show(format) + " " + unit;
  }

  /** {@code median (min–max)} with the given number format, e.g. {@code "%,.0f"}. */
  String show(String format) {
    if (values.isEmpty()) {
      return "not measured";
    }
    if (values.size() == 1) {
      return String.format(format, median());
    }
    return String.format(format, median()) + " (" + String.format(format, min()) + "–" + String.format(format, max()) + ")";
  }
}

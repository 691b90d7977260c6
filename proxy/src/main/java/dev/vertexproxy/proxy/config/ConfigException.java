package dev.vertexproxy.proxy.config;

import java.util.List;

/** A configuration that cannot be used; {@link #problems()} lists every problem, each with file, line and key. */
public final class ConfigException extends Exception {
  private static final long serialVersionUID = 1L;
  private final List<String> problems;

  public ConfigException(List<String> problems) {
    super(String.join("\n", problems), null, false, false);
    this.problems = List.copyOf(problems);
  }

  public List<String> problems() {
    return problems;
  }
}

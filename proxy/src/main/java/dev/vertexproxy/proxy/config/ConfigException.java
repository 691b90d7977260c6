package dev.vertexproxy.proxy.config;

import dev.vertexproxy.policy.yaml.Problem;
import java.util.List;
import java.util.stream.Collectors;

/**
 * A configuration that cannot be used; {@link #problems()} lists every problem, each with file, line, column and key,
 * in the same {@link Problem} form as a policy's.
 */
public final class ConfigException extends Exception {
  private static final long serialVersionUID = 1L;
  private final transient List<Problem> problems;

  public ConfigException(List<Problem> problems) {
    super(problems.stream().map(Problem::toString).collect(Collectors.joining("\n")), null, false, false);
    this.problems = List.copyOf(problems);
  }

  public List<Problem> problems() {
    return problems;
  }
}

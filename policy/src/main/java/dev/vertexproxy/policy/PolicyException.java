package dev.vertexproxy.policy;

import dev.vertexproxy.policy.yaml.Problem;
import java.util.List;
import java.util.stream.Collectors;

/**
 * A policy (or policy test) file that cannot be used. Carries every problem found, not just the first, so one edit
 * cycle fixes them all. Messages quote policy values, never token material.
 */
public final class PolicyException extends Exception {
  private static final long serialVersionUID = 1L;
  private final transient List<Problem> problems;

  public PolicyException(List<Problem> problems) {
    super(problems.size() + (problems.size() == 1 ? " problem" : " problems") + ":\n"
        + problems.stream().map(Problem::toString).collect(Collectors.joining("\n")));
    this.problems = List.copyOf(problems);
  }

  public List<Problem> problems() {
    return problems;
  }
}

package dev.vertexproxy.proxy.cli;

import dev.vertexproxy.policy.yaml.Problem;
import java.io.PrintWriter;
import java.util.List;

/**
 * How every command prints what is wrong with a file it read (proxy.yaml, a policy, a policy test file): a heading,
 * one {@code file:line:column: key: message} per problem, and the count, so {@code serve --check}, {@code policy
 * check|explain|test|lint} and {@code dev} read alike and an editor can jump to each line.
 */
final class ProblemReport {
  private ProblemReport() {
  }

  static void print(PrintWriter err, String heading, List<Problem> problems) {
    err.println(heading + ":");
    for (Problem p : problems) {
      err.println("  " + p);
    }
    err.println(problems.size() + (problems.size() == 1 ? " problem" : " problems"));
    err.flush();
  }
}

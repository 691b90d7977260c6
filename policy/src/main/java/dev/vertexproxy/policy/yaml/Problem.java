package dev.vertexproxy.policy.yaml;

/**
 * One thing wrong with a file the proxy reads (proxy.yaml, a policy, a policy test file), located precisely enough to
 * fix without searching. Every command prints it through {@link #toString()}:
 * {@code policy.yaml:12:7: rules[0].methods[2]: "customJobs.creat" matches no Vertex method} or, with an expectation,
 * {@code proxy.yaml:3:12: listen.address: "0.0.0.0:70000" (expected: host:port with port 0..65535)}.
 *
 * @param source   the file name as given
 * @param line     1-based line (1 for problems with the file as a whole)
 * @param column   1-based column
 * @param path     the key path, e.g. {@code rules[0].methods[2]}; empty for the document itself
 * @param message  what is wrong, with the offending value quoted
 * @param expected what would have been accepted, or {@code null} when the message already says it
 *
 * <p>Immutable and thread-safe.
 */
public record Problem(String source, int line, int column, String path, String message, String expected) {
  /** A problem whose message says everything, including what was expected. */
  public Problem(String source, int line, int column, String path, String message) {
    this(source, line, column, path, message, null);
  }

  /** A problem with the file as a whole (it cannot be read, say), placed at its start. */
  public static Problem ofFile(String source, String message) {
    return new Problem(source, 1, 1, "", message, null);
  }

  @Override
  public String toString() {
    return source + ":" + line + ":" + column + ": " + (path.isEmpty() ? "" : path + ": ") + message
        + (expected == null ? "" : " (expected: " + expected + ")");
  }
}

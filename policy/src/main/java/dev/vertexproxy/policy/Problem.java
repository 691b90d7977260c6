package dev.vertexproxy.policy;

/**
 * One thing wrong with a policy (or policy test) file, located precisely enough to fix without searching.
 * {@link #toString()} reads {@code policy.yaml:12:7: rules[0].methods[2]: "customJobs.creat" matches no Vertex method}.
 *
 * @param source  the file name as given
 * @param line    1-based line
 * @param column  1-based column
 * @param path    the key path, e.g. {@code rules[0].methods[2]}; empty for the document itself
 * @param message what is wrong, with the offending value quoted
 *
 * <p>Immutable and thread-safe.
 */
public record Problem(String source, int line, int column, String path, String message) {
  @Override
  public String toString() {
    return source + ":" + line + ":" + column + ": " + (path.isEmpty() ? "" : path + ": ") + message;
  }
}

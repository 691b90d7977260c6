package dev.vertexproxy.policy.route;

import dev.vertexproxy.policy.catalog.VertexMethod;

/**
 * The result of routing one HTTP request: which Vertex method it calls and on which resource.
 *
 * @param method   the catalog method
 * @param resource the resource name the method acts on, without version prefix and verb, e.g.
 *                 {@code projects/p/locations/us-central1/publishers/google/models/gemini-2.0-flash};
 *                 for collection methods (create/list) the parent collection path
 * @param project  the project id or number from the path, or {@code null} (express-mode top-level collections)
 * @param location the location from the path, or {@code "global"} when the path names none
 * @param upload   whether the request came on the {@code /upload/} media path
 *
 * <p>Immutable and thread-safe.
 */
public record Route(VertexMethod method, String resource, String project, String location, boolean upload) {
  public String version() {
    return method.version();
  }

  /**
   * The model the resource names: {@code M} of {@code …/publishers/P/models/M} or {@code …/models/M}, as written (a tuned
   * model's {@code @version} included); {@code null} when the resource is not a model (an endpoint, a job, a
   * collection). Endpoint calls name their endpoint, not the model deployed on it, so they have none.
   */
  public String model() {
    return modelOf(resource);
  }

  /** The publisher {@code P} of a {@code …/publishers/P/models/M} resource; {@code null} for any other resource. */
  public String publisher() {
    int slash = modelSlash(resource);
    if (slash < 0) {
      return null;
    }
    // resource is …/P/models/M: the segment before "models", if the one before it is "publishers"
    int models = slash - "/models".length(); // index of the slash before "models", or -1 when it is the first segment
    if (models <= 0) {
      return null;
    }
    int start = resource.lastIndexOf('/', models - 1) + 1;
    return start > 0 && resource.startsWith("publishers/", start - "publishers/".length())
        && (start == "publishers/".length() || resource.charAt(start - "publishers/".length() - 1) == '/')
        ? resource.substring(start, models) : null;
  }

  /** {@link #model()} of a resource name; see there. */
  public static String modelOf(String resource) {
    int slash = modelSlash(resource);
    return slash < 0 ? null : resource.substring(slash + 1);
  }

  /**
   * The index of the slash before {@code M} in {@code …models/M}, or -1 when the resource names no model. Works on
   * indices, not substrings: it runs for every decision of a rule with {@code models}.
   */
  private static int modelSlash(String resource) {
    if (resource == null) {
      return -1;
    }
    int slash = resource.lastIndexOf('/');
    if (slash < 0 || slash == resource.length() - 1) {
      return -1;
    }
    boolean models = slash == "models".length() ? resource.startsWith("models")
        : slash > "models".length() && resource.startsWith("/models", slash - "/models".length());
    return models ? slash : -1;
  }
}

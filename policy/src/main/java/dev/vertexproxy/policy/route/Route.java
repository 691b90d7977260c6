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
}

package dev.vertexproxy.policy.catalog;

/**
 * One REST method of the Vertex AI API, as described by Google's discovery document.
 *
 * @param id          full discovery id, e.g. {@code aiplatform.projects.locations.publishers.models.generateContent}
 * @param name        the policy-facing name: the id without {@code aiplatform.} and without a leading
 *                    {@code projects.locations.}, e.g. {@code publishers.models.generateContent}
 * @param version     API version, {@code v1} or {@code v1beta1}
 * @param httpMethod  upper-case HTTP method
 * @param flatPath    the discovery {@code flatPath} (no leading slash), e.g.
 *                    {@code v1/projects/{projectsId}/locations/{locationsId}/endpoints/{endpointsId}:predict}
 * @param uploadPath  the media upload path in flat form (leading slash, one single-segment placeholder per segment, e.g.
 *                    {@code /upload/v1/projects/{projectsId}/locations/{locationsId}/ragCorpora/{ragCorporaId}/ragFiles:upload})
 *                    or {@code null} when the method takes no media
 *
 * <p>Immutable and thread-safe.
 */
public record VertexMethod(String id, String name, String version, String httpMethod, String flatPath, String uploadPath) {
}

package dev.vertexproxy.policy.route;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Reads the methods straight from Google's discovery documents, independently of the generated catalog, so tests
 * that compare the two prove the catalog complete and current. Directory: system property {@code vertex.discovery.dir}
 * (set by surefire), default {@code ../../shared/vertex} relative to the module.
 */
final class DiscoveryDocuments {
  static final List<String> VERSIONS = List.of("v1", "v1beta1");

  /** One discovery method, as the document states it. */
  record DiscoveryMethod(String version, String id, String httpMethod, String flatPath, String uploadPath,
                         String uploadParentPattern) {
  }

  private DiscoveryDocuments() {
  }

  static Path dir() {
    Path dir = Path.of(System.getProperty("vertex.discovery.dir", "../../shared/vertex"));
    if (!Files.isDirectory(dir)) {
      throw new IllegalStateException("discovery documents not found in " + dir.toAbsolutePath());
    }
    return dir;
  }

  static List<DiscoveryMethod> methods() {
    List<DiscoveryMethod> all = new ArrayList<>();
    for (String version : VERSIONS) {
      try {
        JsonNode root = new ObjectMapper().readTree(dir().resolve("aiplatform-" + version + "-discovery.json").toFile());
        collect(root, version, all);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return all;
  }

  private static void collect(JsonNode node, String version, List<DiscoveryMethod> into) {
    for (Map.Entry<String, JsonNode> e : node.path("methods").properties()) {
      JsonNode m = e.getValue();
      JsonNode upload = m.path("mediaUpload").path("protocols").path("simple").path("path");
      into.add(new DiscoveryMethod(version, m.get("id").asText(), m.get("httpMethod").asText(),
          m.get("flatPath").asText(), upload.isTextual() ? upload.asText() : null,
          m.path("parameters").path("parent").path("pattern").asText(null)));
    }
    for (Map.Entry<String, JsonNode> e : node.path("resources").properties()) {
      collect(e.getValue(), version, into);
    }
  }
}

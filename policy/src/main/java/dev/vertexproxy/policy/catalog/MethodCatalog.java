package dev.vertexproxy.policy.catalog;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Every Vertex AI REST method the proxy recognises, for every API version, loaded from the compact catalog
 * resource that {@link CatalogGenerator} produces from Google's discovery documents.
 *
 * <p>Resource format ({@value #RESOURCE}): one method per line, tab-separated:
 * {@code version  httpMethod  id  flatPath  uploadPath-or-dash}; lines starting with {@code #} are comments.
 *
 * <p>Immutable and thread-safe.
 */
public final class MethodCatalog {
  public static final String RESOURCE = "/dev/vertexproxy/policy/catalog/vertex-methods.tsv";
  private static final String PREFIX = "aiplatform.";
  private static final String LOCATIONS = "projects.locations.";

  private final List<VertexMethod> methods;
  private final Map<String, List<VertexMethod>> byName;

  private MethodCatalog(List<VertexMethod> methods) {
    this.methods = List.copyOf(methods);
    Map<String, List<VertexMethod>> index = new LinkedHashMap<>();
    for (VertexMethod m : methods) {
      index.computeIfAbsent(m.name(), k -> new ArrayList<>()).add(m);
    }
    index.replaceAll((k, v) -> List.copyOf(v));
    this.byName = Collections.unmodifiableMap(index);
  }

  /** The catalog bundled with this build. */
  public static MethodCatalog bundled() {
    return Holder.BUNDLED;
  }

  /** Builds a catalog from explicit methods (tests, generator). */
  public static MethodCatalog of(List<VertexMethod> methods) {
    return new MethodCatalog(methods);
  }

  /** Parses the TSV catalog format. */
  public static MethodCatalog parse(InputStream in) throws IOException {
    List<VertexMethod> methods = new ArrayList<>();
    try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
      String line;
      int lineNo = 0;
      while ((line = r.readLine()) != null) {
        lineNo++;
        if (line.isBlank() || line.startsWith("#")) {
          continue;
        }
        String[] f = line.split("\t", -1);
        if (f.length != 5) {
          throw new IOException("catalog line " + lineNo + ": expected 5 tab-separated fields, got " + f.length);
        }
        methods.add(new VertexMethod(f[2], shortName(f[2]), f[0], f[1], f[3], "-".equals(f[4]) ? null : f[4]));
      }
    }
    return new MethodCatalog(methods);
  }

  /**
   * The policy-facing name of a discovery id: without {@code aiplatform.} and without a leading
   * {@code projects.locations.} ({@code aiplatform.projects.locations.endpoints.predict} → {@code endpoints.predict}).
   */
  public static String shortName(String discoveryId) {
    String n = discoveryId.startsWith(PREFIX) ? discoveryId.substring(PREFIX.length()) : discoveryId;
    return n.startsWith(LOCATIONS) ? n.substring(LOCATIONS.length()) : n;
  }

  /** All methods, in catalog order. */
  public List<VertexMethod> methods() {
    return methods;
  }

  /** Distinct policy-facing method names, in catalog order. */
  public Set<String> names() {
    return byName.keySet();
  }

  /** Methods with this policy-facing name (several: one per version and per path shape), or an empty list. */
  public List<VertexMethod> byName(String name) {
    return byName.getOrDefault(name, List.of());
  }

  private static final class Holder {
    static final MethodCatalog BUNDLED = load();

    private static MethodCatalog load() {
      try (InputStream in = MethodCatalog.class.getResourceAsStream(RESOURCE)) {
        if (in == null) {
          throw new IllegalStateException("catalog resource missing: " + RESOURCE);
        }
        return parse(in);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }
}

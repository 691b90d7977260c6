package dev.vertexproxy.policy.route;

import dev.vertexproxy.policy.catalog.MethodCatalog;
import dev.vertexproxy.policy.catalog.VertexMethod;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Maps an HTTP request (method and request target) to the Vertex AI method it calls and the resource it acts on, or
 * refuses it. Runs first in the request flow, before identity and policy: a request that does not route is never
 * forwarded.
 *
 * <p>Design note: the catalog's flat paths are compiled at construction into one segment trie per API version (and
 * one per version for {@code /upload/} media paths). Routing a request walks the trie once, segment by segment, so its
 * cost depends on the path's length, not on the number of methods. Before that, {@link RequestTarget} refuses every
 * request target that is not in canonical form, so that what the policy checks is what Google executes.
 *
 * <p>Precedence when several catalog methods could match one request (there are none in the current discovery
 * documents; the rule exists so that a future document cannot make routing depend on catalog order): the match with
 * more literal segments wins; among equally literal matches, the one whose first literal segment comes earlier
 * (a literal beats a placeholder at the leftmost point where they differ); for two methods with exactly the same HTTP
 * method, shape and verb, the one with the lexicographically smaller discovery id.
 *
 * <p>Immutable and thread-safe; safe to call on an event-loop thread (no I/O, no locks, no regex).
 */
public final class Router {
  /** Reason: no catalog method matches (unknown version, collection, verb, or wrong HTTP method). 404. */
  public static final String ROUTE_NOT_FOUND = "route-not-found";
  /** Reason: the request target is not in the one canonical form the proxy accepts. 400. */
  public static final String PATH_NOT_CANONICAL = RequestTarget.NOT_CANONICAL;
  /** Reason: the query string carries a credential, JSONP, a method override or a malformed parameter name. 400. */
  public static final String QUERY_NOT_ALLOWED = RequestTarget.QUERY_NOT_ALLOWED;

  private static final String UPLOAD = "upload";
  private static final String NO_VERB = "";

  /** Trie roots by version ({@code "v1"}) and by {@code "upload/" + version}. */
  private final Map<String, Node> roots;

  public Router(MethodCatalog catalog) {
    Map<String, Node> building = new HashMap<>();
    for (VertexMethod method : catalog.methods()) {
      add(building, method, method.flatPath(), false);
      if (method.uploadPath() != null) {
        String upload = method.uploadPath();
        String prefix = "/" + UPLOAD + "/";
        if (!upload.startsWith(prefix)) {
          throw new IllegalArgumentException(method.id() + ": upload path must start with " + prefix);
        }
        add(building, method, upload.substring(prefix.length()), true);
      }
    }
    building.values().forEach(Node::freeze);
    this.roots = Map.copyOf(building);
  }

  /**
   * Routes one request.
   *
   * @param httpMethod      the request's HTTP method, as sent (methods are case-sensitive: {@code post} matches
   *                        nothing)
   * @param rawPathAndQuery the request target exactly as received, in origin form ({@code /v1/...?alt=sse})
   * @throws RouteException with reason {@link #ROUTE_NOT_FOUND}, {@link #PATH_NOT_CANONICAL} or
   *                        {@link #QUERY_NOT_ALLOWED}; its message never echoes query values
   */
  public Route route(String httpMethod, String rawPathAndQuery) throws RouteException {
    RequestTarget target = RequestTarget.parse(rawPathAndQuery);
    List<String> segments = target.segments();
    boolean upload = segments.get(0).equals(UPLOAD) && segments.size() > 1;
    int first = upload ? 1 : 0;
    // The version segment itself may carry the verb (v1:evaluateInstances); then nothing follows it.
    Node root = roots.get(upload ? UPLOAD + "/" + segments.get(first) : segments.get(first));
    String verb = target.verb() == null ? NO_VERB : target.verb();
    if (root == null || httpMethod == null || (target.verb() != null && verb.isEmpty())) {
      throw notFound();
    }
    Search search = new Search(segments, verb, httpMethod);
    search.walk(root, first + 1, 0);
    Endpoint e = search.best;
    if (e == null) {
      throw notFound();
    }
    List<String> path = segments.subList(first + 1, segments.size());
    return new Route(e.method, String.join("/", path),
        e.projectIndex < 0 ? null : path.get(e.projectIndex),
        e.locationIndex < 0 ? "global" : path.get(e.locationIndex),
        upload);
  }

  /**
   * A form of the request target that is safe to log: the path (at most 512 characters, anything but visible ASCII
   * percent-encoded) and only the names of the query parameters, never their values; a name that is not of the plain
   * parameter shape is shown as {@code *}. Example: {@code /v1/projects/p/...:streamGenerateContent?alt&$fields}.
   */
  public static String loggableTarget(String rawPathAndQuery) {
    if (rawPathAndQuery == null) {
      return "";
    }
    int fragment = rawPathAndQuery.indexOf('#');
    String target = fragment < 0 ? rawPathAndQuery : rawPathAndQuery.substring(0, fragment);
    int q = target.indexOf('?');
    String path = q < 0 ? target : target.substring(0, q);
    StringBuilder out = new StringBuilder(Math.min(path.length(), 512) + 32);
    byte[] bytes = path.getBytes(StandardCharsets.UTF_8);
    for (int i = 0; i < bytes.length && out.length() < 512; i++) {
      int b = bytes[i] & 0xff;
      if (b > 0x20 && b < 0x7f && b != '\\') {
        out.append((char) b);
      } else {
        out.append('%').append(Character.toUpperCase(Character.forDigit(b >> 4, 16)))
            .append(Character.toUpperCase(Character.forDigit(b & 0xf, 16)));
      }
    }
    if (bytes.length > 512) {
      out.append("...");
    }
    if (q >= 0) {
      String query = target.substring(q + 1);
      char separator = '?';
      int count = 0;
      for (String parameter : query.split("&")) {
        if (parameter.isEmpty()) {
          continue;
        }
        if (++count > 32) {
          out.append("&...");
          break;
        }
        int eq = parameter.indexOf('=');
        String name = eq < 0 ? parameter : parameter.substring(0, eq);
        out.append(separator).append(RequestTarget.isParameterName(name) && name.length() <= 64 ? name : "*");
        separator = '&';
      }
    }
    return out.toString();
  }

  private static RouteException notFound() {
    return new RouteException(ROUTE_NOT_FOUND, "no Vertex AI method matches this HTTP method and path");
  }

  // ---- construction ----

  private static void add(Map<String, Node> roots, VertexMethod method, String flatPath, boolean upload) {
    String[] parts = flatPath.split("/", -1);
    String last = parts[parts.length - 1];
    // The verb follows the last ':' that is not inside a placeholder: {modelsId}:predict, models:upload, v1:evaluate.
    int colon = last.indexOf(':', Math.max(0, last.lastIndexOf('}')));
    String verb = colon < 0 ? NO_VERB : last.substring(colon + 1);
    parts[parts.length - 1] = colon < 0 ? last : last.substring(0, colon);
    if (colon >= 0 && verb.isEmpty()) {
      throw new IllegalArgumentException(method.id() + ": empty verb in " + flatPath);
    }
    String version = parts[0];
    if (!version.equals(method.version())) {
      throw new IllegalArgumentException(method.id() + ": path " + flatPath + " is not under " + method.version());
    }
    Node node = roots.computeIfAbsent(upload ? UPLOAD + "/" + version : version, k -> new Node());
    int projectIndex = -1;
    int locationIndex = -1;
    for (int i = 1; i < parts.length; i++) {
      String part = parts[i];
      boolean placeholder = part.startsWith("{") && part.endsWith("}") && part.length() > 2;
      if (!placeholder && (part.isEmpty() || part.contains("{") || part.contains("}") || part.contains(":"))) {
        throw new IllegalArgumentException(method.id() + ": unsupported path segment '" + part + "' in " + flatPath);
      }
      if (placeholder) {
        String previous = parts[i - 1];
        if (projectIndex < 0 && previous.equals("projects")) {
          projectIndex = i - 1;
        } else if (locationIndex < 0 && previous.equals("locations")) {
          locationIndex = i - 1;
        }
        node = node.wildcard == null ? (node.wildcard = new Node()) : node.wildcard;
      } else {
        node = node.literals.computeIfAbsent(part, k -> new Node());
      }
    }
    Endpoint candidate = new Endpoint(method, projectIndex, locationIndex);
    node.endpoints.computeIfAbsent(verb, k -> new HashMap<>())
        .merge(method.httpMethod(), candidate, (a, b) -> a.method.id().compareTo(b.method.id()) <= 0 ? a : b);
  }

  /** One catalog method at a trie leaf, with where its project and location sit among the path's segments. */
  private record Endpoint(VertexMethod method, int projectIndex, int locationIndex) {
  }

  /** A trie node: literal children by decoded segment, at most one placeholder child, endpoints by verb and method. */
  private static final class Node {
    Map<String, Node> literals = new HashMap<>();
    Node wildcard;
    Map<String, Map<String, Endpoint>> endpoints = new HashMap<>();

    void freeze() {
      literals.values().forEach(Node::freeze);
      if (wildcard != null) {
        wildcard.freeze();
      }
      endpoints.replaceAll((verb, byMethod) -> Map.copyOf(byMethod));
      literals = Map.copyOf(literals);
      endpoints = Map.copyOf(endpoints);
    }
  }

  /** One routing walk; per call, never shared. */
  private static final class Search {
    private final List<String> segments;
    private final String verb;
    private final String httpMethod;
    Endpoint best;
    private int bestLiterals = -1;

    Search(List<String> segments, String verb, String httpMethod) {
      this.segments = segments;
      this.verb = verb;
      this.httpMethod = httpMethod;
    }

    /**
     * Depth-first, literal child before placeholder child, so that among equally literal matches the first one found
     * is the one with the leftmost literal. Only nodes that have both kinds of child branch, which the Vertex catalog
     * (no overlapping shapes) never makes the walk revisit.
     */
    void walk(Node node, int i, int literals) {
      if (i == segments.size()) {
        Map<String, Endpoint> byMethod = node.endpoints.get(verb);
        Endpoint e = byMethod == null ? null : byMethod.get(httpMethod);
        if (e != null && literals > bestLiterals) {
          best = e;
          bestLiterals = literals;
        }
        return;
      }
      String segment = segments.get(i);
      Node literal = node.literals.get(segment);
      if (literal != null) {
        walk(literal, i + 1, literals + 1);
      }
      // Resource ids never contain ':' in Vertex; a ':' before the last segment names no method.
      if (node.wildcard != null && segment.indexOf(':') < 0) {
        walk(node.wildcard, i + 1, literals);
      }
    }
  }
}

package dev.vertexproxy.policy;

import dev.vertexproxy.policy.catalog.MethodCatalog;
import dev.vertexproxy.policy.catalog.VertexMethod;
import dev.vertexproxy.policy.route.Route;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * What a rule can reach, decided from the catalog's path templates and the other rules, for {@link PolicyLinter}:
 * methods no {@code resources} or {@code models} entry can ever match, and allow rules a deny rule always overrides.
 * Conservative: it reports only what it can prove, so a glob it cannot compare counts as reachable.
 *
 * <p>Stateless and thread-safe.
 */
final class RuleReach {
  private RuleReach() {
  }

  /**
   * The resource names a method's requests carry, as templates: the catalog's {@code flatPath} without the version
   * and the verb, one entry per shape ({@code projects/{projectsId}/locations/{locationsId}/customJobs}).
   */
  static List<String[]> resourceTemplates(MethodCatalog catalog, String methodName) {
    List<String[]> templates = new ArrayList<>();
    for (VertexMethod m : catalog.byName(methodName)) {
      String path = m.flatPath();
      int slash = path.indexOf('/');
      String resource = slash < 0 ? "" : path.substring(slash + 1);
      int colon = resource.indexOf(':', Math.max(0, resource.lastIndexOf('}')));
      templates.add((colon < 0 ? resource : resource.substring(0, colon)).split("/", -1));
    }
    return templates;
  }

  /** Methods of the rule no shape of which names a project: a {@code resources.projects} list never matches them. */
  static List<String> projectless(MethodCatalog catalog, Rule r) {
    List<String> out = new ArrayList<>();
    for (String method : r.methods()) {
      List<String[]> templates = resourceTemplates(catalog, method);
      if (!templates.isEmpty() && templates.stream().noneMatch(t -> t.length > 1 && t[0].equals("projects"))) {
        out.add(method);
      }
    }
    return out.stream().sorted().toList();
  }

  /** Methods of the rule no shape of which names a model: a {@code models} list never matches them. */
  static List<String> modelless(MethodCatalog catalog, Rule r) {
    List<String> out = new ArrayList<>();
    for (String method : r.methods()) {
      List<String[]> templates = resourceTemplates(catalog, method);
      if (!templates.isEmpty() && templates.stream().noneMatch(t -> Route.modelOf(String.join("/", t)) != null)) {
        out.add(method);
      }
    }
    return out.stream().sorted().toList();
  }

  /** Methods of the rule that none of its {@code resources.names} globs can match in any shape. */
  static List<String> unnamed(MethodCatalog catalog, Rule r) {
    List<String> out = new ArrayList<>();
    for (String method : r.methods()) {
      List<String[]> templates = resourceTemplates(catalog, method);
      boolean reachable = templates.isEmpty();
      for (String glob : r.namePatterns()) {
        for (String[] template : templates) {
          reachable |= mayMatch(glob, template);
        }
      }
      if (!reachable) {
        out.add(method);
      }
    }
    return out.stream().sorted().toList();
  }

  /**
   * Whether a {@code /}-separated glob may match some name of the template. Segments are compared pairwise; a template
   * placeholder ({@code {endpointsId}}) may be anything. Before a {@code **} segment only the prefix is compared, and a
   * glob holding {@code **} anywhere else counts as possibly matching.
   */
  static boolean mayMatch(String glob, String[] template) {
    String[] g = glob.split("/", -1);
    for (int i = 0; i < g.length; i++) {
      if (g[i].contains("**")) {
        return prefixMayMatch(g, i, template);
      }
    }
    return g.length == template.length && prefixMayMatch(g, g.length, template);
  }

  private static boolean prefixMayMatch(String[] g, int upTo, String[] template) {
    for (int i = 0; i < upTo; i++) {
      if (i >= template.length) {
        return false;
      }
      if (!template[i].startsWith("{") && !Glob.compile(g[i], '/').matches(template[i])) {
        return false;
      }
    }
    return true;
  }

  /**
   * Whether {@code deny} matches every request {@code allow} matches: its issuers, subject, claims, methods, projects,
   * locations, names and models are each absent, universal, or a superset of the allow rule's by exact string.
   */
  static boolean shadows(Rule deny, Rule allow) {
    if (!deny.issuers().isEmpty() && !deny.issuers().containsAll(allow.issuers())) {
      return false;
    }
    if (deny.subject() != null && !deny.subject().values().contains("**")
        && (allow.subject() == null || !covers(deny.subject().values(), allow.subject().values(), "**"))) {
      return false;
    }
    for (String claim : deny.claimNames()) {
      // a claim the allow rule does not constrain may be missing from a token, and a missing claim matches no deny
      if (allow.claim(claim) == null || !covers(deny.claim(claim).values(), allow.claim(claim).values(), "**")) {
        return false;
      }
    }
    if (!deny.anyMethod() && !deny.methods().containsAll(allow.methods())) {
      return false;
    }
    return covers(deny.projectPatterns(), allow.projectPatterns(), "*")
        && covers(deny.locationPatterns(), allow.locationPatterns(), "*")
        && covers(deny.namePatterns(), allow.namePatterns(), "**")
        && covers(deny.modelPatterns(), allow.modelPatterns(), null);
  }

  /** An empty deny list constrains nothing; an empty allow list is covered only by a universal or absent deny list. */
  private static boolean covers(List<String> deny, List<String> allow, String universal) {
    if (deny.isEmpty() || (universal != null && deny.contains(universal))) {
      return true;
    }
    return !allow.isEmpty() && Set.copyOf(deny).containsAll(allow);
  }
}

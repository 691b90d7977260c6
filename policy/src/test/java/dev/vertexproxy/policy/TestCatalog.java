package dev.vertexproxy.policy;

import dev.vertexproxy.policy.catalog.MethodCatalog;
import dev.vertexproxy.policy.catalog.VertexMethod;
import dev.vertexproxy.policy.route.Route;
import dev.vertexproxy.policy.route.RouteException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A small catalog of real Vertex methods (copied from the v1 discovery document) and a minimal router over it. */
final class TestCatalog {
  static final String[] METHODS = {
      "POST v1/projects/{projectsId}/locations/{locationsId}/customJobs aiplatform.projects.locations.customJobs.create",
      "GET v1/projects/{projectsId}/locations/{locationsId}/customJobs/{customJobsId}"
          + " aiplatform.projects.locations.customJobs.get",
      "GET v1/projects/{projectsId}/locations/{locationsId}/customJobs aiplatform.projects.locations.customJobs.list",
      "POST v1/projects/{projectsId}/locations/{locationsId}/customJobs/{customJobsId}:cancel"
          + " aiplatform.projects.locations.customJobs.cancel",
      "GET v1/projects/{projectsId}/locations/{locationsId}/customJobs/{customJobsId}/operations/{operationsId}"
          + " aiplatform.projects.locations.customJobs.operations.get",
      "POST v1/projects/{projectsId}/locations/{locationsId}/customJobs/{customJobsId}/operations/{operationsId}:cancel"
          + " aiplatform.projects.locations.customJobs.operations.cancel",
      "POST v1/projects/{projectsId}/locations/{locationsId}/models:upload aiplatform.projects.locations.models.upload",
      "DELETE v1/projects/{projectsId}/locations/{locationsId}/models/{modelsId} aiplatform.projects.locations.models.delete",
      "POST v1/projects/{projectsId}/locations/{locationsId}/endpoints aiplatform.projects.locations.endpoints.create",
      "POST v1/projects/{projectsId}/locations/{locationsId}/endpoints/{endpointsId}:predict"
          + " aiplatform.projects.locations.endpoints.predict",
      "POST v1/projects/{projectsId}/locations/{locationsId}/endpoints/{endpointsId}:deployModel"
          + " aiplatform.projects.locations.endpoints.deployModel",
      "POST v1/projects/{projectsId}/locations/{locationsId}/endpoints/{endpointsId}:undeployModel"
          + " aiplatform.projects.locations.endpoints.undeployModel",
      "POST v1/projects/{projectsId}/locations/{locationsId}/publishers/{publishersId}/models/{modelsId}:generateContent"
          + " aiplatform.projects.locations.publishers.models.generateContent",
      "POST v1/projects/{projectsId}/locations/{locationsId}/publishers/{publishersId}/models/{modelsId}:streamGenerateContent"
          + " aiplatform.projects.locations.publishers.models.streamGenerateContent",
      "POST v1/projects/{projectsId}/locations/{locationsId}/publishers/{publishersId}/models/{modelsId}:countTokens"
          + " aiplatform.projects.locations.publishers.models.countTokens",
      "POST v1/publishers/{publishersId}/models/{modelsId}:generateContent aiplatform.publishers.models.generateContent",
      "POST v1/publishers/{publishersId}/models/{modelsId}:countTokens aiplatform.publishers.models.countTokens",
  };

  static final MethodCatalog CATALOG = build();

  private TestCatalog() {
  }

  private static MethodCatalog build() {
    List<VertexMethod> methods = new ArrayList<>();
    for (String line : METHODS) {
      String[] f = line.split(" ");
      methods.add(new VertexMethod(f[2], MethodCatalog.shortName(f[2]), "v1", f[0], f[1], null));
    }
    return MethodCatalog.of(methods);
  }

  static VertexMethod method(String name) {
    return CATALOG.byName(name).get(0);
  }

  static Route route(String name, String project, String location, String resource) {
    return new Route(method(name), resource, project, location, false);
  }

  static Route route(String name, String project, String location) {
    return route(name, project, location, "projects/" + project + "/locations/" + location);
  }

  /** Enough of a router for the test runner: matches flat paths, reads project and location from the path. */
  static Route routeRequest(String httpMethod, String pathAndQuery) throws RouteException {
    String path = pathAndQuery.split("\\?", 2)[0].substring(1);
    for (VertexMethod m : CATALOG.methods()) {
      String regex = m.flatPath().replaceAll("\\{[A-Za-z]+\\}", "[^/:]+").replace(".", "\\.");
      if (m.httpMethod().equals(httpMethod) && path.matches(regex)) {
        String resource = path.substring(path.indexOf('/') + 1).replaceFirst(":[A-Za-z]+$", "");
        Matcher p = Pattern.compile("^projects/([^/]+)").matcher(resource);
        Matcher l = Pattern.compile("^projects/[^/]+/locations/([^/]+)").matcher(resource);
        return new Route(m, resource, p.find() ? p.group(1) : null, l.find() ? l.group(1) : "global", false);
      }
    }
    throw new RouteException("route-not-found", "no Vertex method for " + httpMethod + " " + path);
  }
}

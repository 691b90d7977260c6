package dev.vertexproxy.proxy.admission;

import dev.vertexproxy.policy.route.Route;
import dev.vertexproxy.policy.route.RouteException;
import dev.vertexproxy.policy.route.Router;
import dev.vertexproxy.proxy.reason.Reason;
import dev.vertexproxy.proxy.upstream.UpstreamHosts;
import java.util.concurrent.CompletionStage;

/**
 * Maps method and path to the Vertex method and resource; anything the catalog does not know is never forwarded.
 * After {@link GuardStep}, before {@link IdentityStep}; synchronous. The router refuses credentials in the query string in
 * every spelling Google reads; the record then keeps parameter names, never values.
 */
public final class RouteStep implements AdmissionStep {
  private final Router router;

  public RouteStep(Router router) {
    this.router = router;
  }

  @Override
  public String name() {
    return "route";
  }

  @Override
  public CompletionStage<Verdict> decide(Admission admission) {
    RequestHead head = admission.head();
    try {
      Route r = router.route(head.method(), head.uri());
      admission.route(r);
      if (!UpstreamHosts.validLocation(r.location())) {
        return AdmissionStep.decided(Verdict.refuse(Reason.LOCATION_INVALID,
            "The location in the path is not a valid Vertex AI location."));
      }
      return AdmissionStep.decided(Verdict.proceed());
    } catch (RouteException e) {
      admission.queryRefused(true);
      if (Router.ROUTE_NOT_FOUND.equals(e.reason())) {
        return AdmissionStep.decided(Verdict.refuse(Reason.ROUTE_NOT_FOUND, "No Vertex AI method matches " + head.method() + " "
            + Router.loggableTarget(pathOf(head.uri())) + "."));
      }
      return AdmissionStep.decided(Verdict.refuse(Reason.of(e.reason()), e.getMessage()));
    }
  }

  private static String pathOf(String uri) {
    int q = uri.indexOf('?');
    return q < 0 ? uri : uri.substring(0, q);
  }
}

package dev.vertexproxy.proxy.admission;

import dev.vertexproxy.proxy.reason.Reason;
import dev.vertexproxy.proxy.reserved.ReservedRoutes;
import io.netty.handler.codec.http.HttpMethod;
import java.util.concurrent.CompletionStage;

/**
 * Keeps the proxy's own routes apart from Vertex's: a path under {@code /_proxy/} or {@code /.well-known/} is answered
 * by its {@link ReservedRoutes reserved endpoint} — login, the page for people, the proxy's issuer metadata and OAuth
 * endpoints — or refused (404 unknown, 405 wrong method, 413 a body larger than such routes read). Nothing under
 * those prefixes is ever routed to Vertex, and nothing else is touched here. After {@link GuardStep}, before
 * {@link RouteStep}; synchronous.
 */
public final class ReservedRouteStep implements AdmissionStep {
  private final ReservedRoutes routes;

  public ReservedRouteStep(ReservedRoutes routes) {
    this.routes = routes;
  }

  @Override
  public String name() {
    return "reserved";
  }

  @Override
  public CompletionStage<Verdict> decide(Admission admission) {
    RequestHead head = admission.head();
    String uri = head.uri();
    int q = uri.indexOf('?');
    String path = q < 0 ? uri : uri.substring(0, q);
    if (!ReservedRoutes.reserved(path)) {
      return AdmissionStep.decided(Verdict.proceed());
    }
    admission.reserved(true);
    ReservedRoutes.Match match = routes.match(HttpMethod.valueOf(head.method()), path);
    if (!match.found()) {
      if (!match.allowed().isEmpty()) {
        admission.allowHeader(match.allowHeader());
        return AdmissionStep.decided(Verdict.refuse(Reason.METHOD_NOT_ALLOWED,
            "This proxy route serves " + match.allowHeader() + " only."));
      }
      return AdmissionStep.decided(Verdict.refuse(Reason.ROUTE_NOT_FOUND, "The proxy has no route here."));
    }
    if (head.declaredBodyBytes() > ReservedRoutes.MAX_BODY_BYTES) {
      return AdmissionStep.decided(Verdict.refuse(Reason.BODY_TOO_LARGE,
          "The request body is larger than this proxy route accepts (" + ReservedRoutes.MAX_BODY_BYTES + " bytes)."));
    }
    return AdmissionStep.decided(Verdict.serve(match.endpoint()));
  }
}

package dev.vertexproxy.proxy.server;

import dev.vertexproxy.policy.Policy;
import dev.vertexproxy.policy.route.Router;
import dev.vertexproxy.proxy.admission.AdmissionChain;
import dev.vertexproxy.proxy.admission.CredentialsStep;
import dev.vertexproxy.proxy.admission.GuardStep;
import dev.vertexproxy.proxy.admission.IdentityStep;
import dev.vertexproxy.proxy.admission.PolicyStep;
import dev.vertexproxy.proxy.admission.ReservedRouteStep;
import dev.vertexproxy.proxy.admission.RouteStep;
import dev.vertexproxy.proxy.audit.AuditLog;
import dev.vertexproxy.proxy.config.AuditConfig;
import dev.vertexproxy.proxy.config.ProxyConfig;
import dev.vertexproxy.proxy.credentials.GoogleTokenProvider;
import dev.vertexproxy.proxy.identity.TokenVerifier;
import dev.vertexproxy.proxy.reserved.ReservedRoutes;
import java.util.List;
import java.util.function.Supplier;

/**
 * The request flow, top-down, in one place. A request meets, in this order:
 * <ol>
 *   <li>the caller pipeline ({@link ProxyChannelInitializer}): TLS, idle timeout, the HTTP/1.1 codec;</li>
 *   <li>the {@link ExchangeDriver}, which runs the admission steps built here, first refusal wins —
 *     {@link GuardStep guard} (limits, framing, audit health) → {@link ReservedRouteStep reserved} (the proxy's own
 *     routes, {@code /_proxy/} and {@code /.well-known/}, answered here and never forwarded) →
 *     {@link RouteStep route} (Vertex method and resource) →
 *     {@link IdentityStep identity} (the caller's token) → {@link PolicyStep policy} (default deny) →
 *     {@link CredentialsStep credentials} (the Google token);</li>
 *   <li>the {@link dev.vertexproxy.proxy.upstream.UpstreamRelay}, to Vertex and back;</li>
 *   <li>one audit record and one metric, allowed or not.</li>
 * </ol>
 */
final class RequestFlow {
  private RequestFlow() {
  }

  static AdmissionChain admission(ProxyConfig config, Router router, Supplier<Policy> policy, TokenVerifier verifier,
      GoogleTokenProvider tokens, AuditLog audit) {
    return admission(config, router, policy, verifier, tokens, audit, ReservedRoutes.none());
  }

  static AdmissionChain admission(ProxyConfig config, Router router, Supplier<Policy> policy, TokenVerifier verifier,
      GoogleTokenProvider tokens, AuditLog audit, ReservedRoutes reserved) {
    return admission(config, router, policy, verifier, tokens, audit, reserved, Ablation.NONE);
  }

  static AdmissionChain admission(ProxyConfig config, Router router, Supplier<Policy> policy, TokenVerifier verifier,
      GoogleTokenProvider tokens, AuditLog audit, ReservedRoutes reserved, Ablation ablation) {
    boolean refuseWhenAuditDown = config.audit().onFailure() == AuditConfig.OnFailure.REJECT;
    return new AdmissionChain(ablation.apply(List.of(
        new GuardStep(config.limits().maxBodyBytes(), () -> refuseWhenAuditDown && !audit.healthy()),
        new ReservedRouteStep(reserved),
        new RouteStep(router),
        new IdentityStep(verifier),
        new PolicyStep(policy, config.policy().explainDenials()),
        new CredentialsStep(tokens, config.credentials()))));
  }
}

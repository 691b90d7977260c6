package dev.vertexproxy.proxy.admission;

import dev.vertexproxy.policy.Decision;
import dev.vertexproxy.policy.Reasons;
import dev.vertexproxy.proxy.config.ProxyConfig.ExplainDenials;

/**
 * What a policy denial tells the caller ({@code policy.explain_denials}). {@code full} is {@link Decision#message()}:
 * the closest rule and the claim that differed, which on a shared issuer lets any authenticated caller probe the
 * policy's structure. {@code reason} is a fixed sentence per reason code: it names the request's own Vertex method (and,
 * for {@code model-not-granted}, the model the request itself named) at most, never a rule, claim, project or anything
 * else the policy holds. {@code none} says the policy denied it; the request id
 * is in the answer's header and {@code error.details}. The audit record keeps the full message in every mode. Stateless.
 */
final class DenialText {
  static final String NONE = "Permission denied by the proxy's policy.";

  private DenialText() {
  }

  /** {@code model}: the model the request's path names (the caller's own choice), or {@code null}. */
  static String of(ExplainDenials mode, Decision d, String method, String model) {
    return switch (mode) {
      case FULL -> d.message();
      case NONE -> NONE;
      case REASON -> sentence(d.reason(), method == null ? "this method" : method, model) + " (reason: " + d.reason() + ")";
    };
  }

  private static String sentence(String reason, String method, String model) {
    return switch (reason) {
      case Reasons.DENIED_BY_RULE -> "the policy denies " + method + " to this caller";
      case Reasons.ISSUER_NOT_TRUSTED -> "the policy grants nothing to callers of this token's issuer";
      case Reasons.IDENTITY_NOT_MATCHED -> "the policy grants nothing to this caller";
      case Reasons.METHOD_NOT_GRANTED -> "the policy does not grant " + method + " to this caller";
      case Reasons.PROJECT_NOT_GRANTED -> "the policy does not grant " + method + " on this project to this caller";
      case Reasons.LOCATION_NOT_GRANTED -> "the policy does not grant " + method + " in this location to this caller";
      case Reasons.RESOURCE_NOT_GRANTED -> "the policy does not grant " + method + " on this resource to this caller";
      case Reasons.MODEL_NOT_GRANTED -> model == null
          ? "the policy grants " + method + " to this caller only on models its path names"
          : "the policy does not grant model " + model + " to this caller for " + method;
      // a reason added later: still only the code, never the rule that produced it
      default -> "the policy does not allow " + method + " for this caller";
    };
  }
}

package dev.vertexproxy.proxy.admission;

import dev.vertexproxy.policy.Decision;
import dev.vertexproxy.policy.Policy;
import dev.vertexproxy.proxy.config.ProxyConfig.ExplainDenials;
import dev.vertexproxy.proxy.reason.Reason;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/**
 * Whether this caller may call this method on this resource: default deny, deny rules win. After {@link IdentityStep},
 * before {@link CredentialsStep}; synchronous. Reads the policy in force when the request reaches it, so a reload
 * applies to the next request and never to one already past this step. A denial tells the caller what
 * {@code policy.explain_denials} allows ({@link DenialText}); the full explanation stays in the admission's decision,
 * for the audit record.
 */
public final class PolicyStep implements AdmissionStep {
  private final Supplier<Policy> policy;
  private final ExplainDenials explain;

  public PolicyStep(Supplier<Policy> policy, ExplainDenials explain) {
    this.policy = policy;
    this.explain = explain;
  }

  /** A step whose denials are explained in full (tests of the decision itself). */
  public PolicyStep(Supplier<Policy> policy) {
    this(policy, ExplainDenials.FULL);
  }

  @Override
  public String name() {
    return "policy";
  }

  @Override
  public CompletionStage<Verdict> decide(Admission admission) {
    Policy p = policy.get();
    Decision d = p.decide(admission.caller(), admission.route());
    admission.decision(d, p.version());
    return AdmissionStep.decided(d.allowed() ? Verdict.proceed()
        : Verdict.refuse(Reason.of(d.reason()), DenialText.of(explain, d,
            admission.route() == null ? null : admission.route().method().name(),
            admission.route() == null ? null : admission.route().model())));
  }
}

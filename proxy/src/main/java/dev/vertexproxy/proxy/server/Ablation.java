package dev.vertexproxy.proxy.server;

import dev.vertexproxy.proxy.admission.AdmissionStep;
import dev.vertexproxy.proxy.admission.Verdict;
import dev.vertexproxy.proxy.credentials.GoogleTokenProvider.GoogleToken;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * What the benchmark's ablation ladder leaves out of the request path, to measure what each piece costs
 * (docs/benchmarks.md). Package-private and reachable from no configuration: {@code serve} always runs
 * {@link #NONE}; only the bench module's {@code AblatedServe} starts a proxy with anything else.
 *
 * @param withoutSteps admission steps (by {@link AdmissionStep#name()}) left out; without {@code credentials} every
 *                     forwarded request carries a fixed placeholder Google token
 * @param withoutAudit no audit record is written (the answer does not wait for one)
 */
record Ablation(Set<String> withoutSteps, boolean withoutAudit) {
  static final Ablation NONE = new Ablation(Set.of(), false);
  private static final GoogleToken PLACEHOLDER =
      new GoogleToken("ya29.ablation-placeholder", Instant.MAX, "ablation@bench.invalid");

  Ablation {
    withoutSteps = Set.copyOf(withoutSteps);
  }

  List<AdmissionStep> apply(List<AdmissionStep> steps) {
    if (withoutSteps.isEmpty()) {
      return steps;
    }
    List<AdmissionStep> out = new ArrayList<>();
    for (AdmissionStep step : steps) {
      if (!withoutSteps.contains(step.name())) {
        out.add(step);
      }
    }
    if (withoutSteps.contains("credentials")) {
      out.add(AdmissionStep.of("placeholder-credentials", admission -> {
        admission.googleToken(PLACEHOLDER);
        return AdmissionStep.decided(Verdict.proceed());
      }));
    }
    return out;
  }
}

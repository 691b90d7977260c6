package dev.vertexproxy.proxy.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vertexproxy.proxy.admission.AdmissionStep;
import dev.vertexproxy.proxy.admission.Verdict;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The benchmark-only ablation leaves the product's chain alone and cuts only what it names. */
class AblationTest {
  private static final List<AdmissionStep> CHAIN = List.of(step("guard"), step("reserved"), step("route"), step("identity"),
      step("policy"), step("credentials"));

  @Test
  void noneIsTheChainItself() {
    assertThat(Ablation.NONE.apply(CHAIN)).isSameAs(CHAIN);
    assertThat(Ablation.NONE.withoutAudit()).isFalse();
  }

  @Test
  void withoutCredentialsAPlaceholderTokenTakesTheirPlace() {
    List<AdmissionStep> cut = new Ablation(Set.of("identity", "policy", "credentials"), true).apply(CHAIN);
    assertThat(cut).extracting(AdmissionStep::name)
        .containsExactly("guard", "reserved", "route", "placeholder-credentials");
  }

  @Test
  void withoutAuditThePlanWritesNoRecord() {
    assertThat(AuditPlan.NOT_RECORDED).isCompleted();
    assertThat(new Ablation(Set.of(), true).withoutAudit()).isTrue();
  }

  private static AdmissionStep step(String name) {
    return AdmissionStep.of(name, a -> AdmissionStep.decided(Verdict.proceed()));
  }
}

package dev.vertexproxy.proxy.admission;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vertexproxy.policy.Decision;
import dev.vertexproxy.policy.Reasons;
import dev.vertexproxy.proxy.config.ProxyConfig.ExplainDenials;
import org.junit.jupiter.api.Test;

/** What each {@code explain_denials} mode lets out of a denial, for every reason of the catalog and one it lacks. */
class DenialTextTest {
  private static final String METHOD = "publishers.models.generateContent";

  private static Decision denied(String reason) {
    return new Decision(false, "secret-rule", reason, null,
        "caller does not match any allow rule (closest rule: secret-rule, claim project_path differs)");
  }

  @Test
  void reasonNamesTheCodeAndAtMostTheCallersOwnMethodForEveryReason() {
    for (String reason : Reasons.ALL) {
      if (reason.equals(Reasons.ALLOWED)) {
        continue;
      }
      String text = DenialText.of(ExplainDenials.REASON, denied(reason), METHOD, null);
      assertThat(text).as(reason).endsWith("(reason: " + reason + ")").doesNotContain("secret-rule", "project_path", "closest");
      assertThat(text.replace(METHOD, "").replace(reason, "")).as(reason).doesNotContain(".").startsWith("the policy ");
    }
  }

  @Test
  void aReasonAddedLaterStillTellsOnlyItsCode() {
    assertThat(DenialText.of(ExplainDenials.REASON, denied("quota-not-granted"), METHOD, null))
        .isEqualTo("the policy does not allow " + METHOD + " for this caller (reason: quota-not-granted)");
  }

  @Test
  void aModelDenialNamesTheModelTheCallerAskedForAndNothingOfThePolicy() {
    assertThat(DenialText.of(ExplainDenials.REASON, denied(Reasons.MODEL_NOT_GRANTED), METHOD, "gemini-2.5-pro"))
        .isEqualTo("the policy does not grant model gemini-2.5-pro to this caller for " + METHOD
            + " (reason: model-not-granted)");
  }

  @Test
  void fullIsThePolicysMessageAndNoneIsOneFixedSentence() {
    Decision d = denied(Reasons.IDENTITY_NOT_MATCHED);
    assertThat(DenialText.of(ExplainDenials.FULL, d, METHOD, null)).isEqualTo(d.message());
    assertThat(DenialText.of(ExplainDenials.NONE, d, METHOD, null)).isEqualTo("Permission denied by the proxy's policy.");
    assertThat(DenialText.of(ExplainDenials.REASON, d, null, null))
        .isEqualTo("the policy grants nothing to this caller (reason: identity-not-matched)");
  }
}

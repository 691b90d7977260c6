package dev.vertexproxy.proxy.doctor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vertexproxy.proxy.doctor.CheckResult.Status;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;

/**
 * What the doctor makes of Google STS' answers, on Google's wire bodies. The Google emulator does not answer
 * {@code invalid_target} or {@code unauthorized_client} yet (its provider registry is being added), so these answers
 * are classified here directly; {@link DoctorTest} covers the exchange over HTTPS.
 */
class StsAnswersTest {
  private static final String PROVIDER =
      "//iam.googleapis.com/projects/123456789/locations/global/workloadIdentityPools/ci-pool/providers/gitlab";
  private static final String REAL_TOKEN = jwt("{\"iss\":\"https://gitlab.example.com\",\"aud\":\"https://vp.example\"}");

  @Test
  void invalidTargetMeansTheProviderDoesNotExist() {
    CheckResult r = StsChecks.classify(PROVIDER, 400, "{\"error\":\"invalid_target\",\"error_description\":\"The target"
        + " service indicated by the \\\"audience\\\" parameters is invalid. This might either be because the pool or"
        + " provider is disabled or deleted or because it doesn't exist.\"}", null);

    assertThat(r.status()).isEqualTo(Status.FAIL);
    assertThat(r.detail()).startsWith("STS answered 400 invalid_target: The target service");
    assertThat(r.fix()).isEqualTo("workload identity provider " + PROVIDER
        + " does not exist or is disabled: create it or fix the audience");
  }

  @Test
  void invalidGrantForTheUnsignedProbeMeansTheProviderExists() {
    CheckResult r = StsChecks.classify(PROVIDER, 400,
        "{\"error\":\"invalid_grant\",\"error_description\":\"Unable to parse the ID Token.\"}", null);

    assertThat(r.status()).isEqualTo(Status.PASS);
    assertThat(r.detail()).isEqualTo("provider exists; subject token not checked (give --subject-token-file to"
        + " exchange a real CI token)");
  }

  @Test
  void anAudienceMismatchOfARealTokenNamesTheAllowedAudiencesCommand() {
    CheckResult r = StsChecks.classify(PROVIDER, 400, "{\"error\":\"invalid_grant\",\"error_description\":\"The audience"
        + " in ID Token [https://vp.example] does not match the expected audience.\"}", REAL_TOKEN);

    assertThat(r.status()).isEqualTo(Status.FAIL);
    assertThat(r.fix()).isEqualTo("add the token's audience to the provider's allowed audiences: gcloud iam"
        + " workload-identity-pools providers update-oidc gitlab --workload-identity-pool=ci-pool --location=global"
        + " --project=123456789 --allowed-audiences=https://vp.example");
  }

  @Test
  void anAttributeConditionRefusalSaysSo() {
    CheckResult r = StsChecks.classify(PROVIDER, 400, "{\"error\":\"unauthorized_client\",\"error_description\":\"The"
        + " given credential is rejected by the attribute condition.\"}", REAL_TOKEN);

    assertThat(r.status()).isEqualTo(Status.FAIL);
    assertThat(r.fix()).isEqualTo("the provider's attribute condition rejected the token");
  }

  @Test
  void anAudienceInTheTokenFormGetsItsOwnFix() {
    CheckResult r = StsChecks.classify(PROVIDER, 400, "{\"error\":\"invalid_request\",\"error_description\":\"Invalid"
        + " value for \\\"audience\\\": https://iam.googleapis.com/projects/1/locations/global/...\"}", null);

    assertThat(r.status()).isEqualTo(Status.FAIL);
    assertThat(r.fix()).isEqualTo(StsChecks.HTTPS_AUDIENCE_FIX);
  }

  @Test
  void aSuccessNeverQuotesTheIssuedToken() {
    CheckResult r = StsChecks.classify(PROVIDER, 200,
        "{\"access_token\":\"ya29.secret\",\"issued_token_type\":\"urn:ietf:params:oauth:token-type:access_token\"}",
        REAL_TOKEN);

    assertThat(r.status()).isEqualTo(Status.PASS);
    assertThat(r.toString()).doesNotContain("ya29.secret");
  }

  @Test
  void aServerErrorIsGooglesSide() {
    CheckResult r = StsChecks.classify(PROVIDER, 503, "<html>unavailable</html>", null);

    assertThat(r.status()).isEqualTo(Status.FAIL);
    assertThat(r.detail()).isEqualTo("STS answered 503");
    assertThat(r.fix()).contains("again in a minute");
  }

  private static String jwt(String payload) {
    Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
    return b64.encodeToString("{\"alg\":\"RS256\"}".getBytes(StandardCharsets.UTF_8)) + "."
        + b64.encodeToString(payload.getBytes(StandardCharsets.UTF_8)) + ".c2ln";
  }
}

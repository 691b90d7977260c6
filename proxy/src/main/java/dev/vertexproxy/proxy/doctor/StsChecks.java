package dev.vertexproxy.proxy.doctor;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vertexproxy.policy.RuleCredentials;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;

/**
 * Every workload identity provider the configuration federates through ({@code credentials.sts.audience}, and each
 * sts rule's own {@code credentials.audience}): the name has the form STS wants, and Google STS knows the provider.
 *
 * <p>The probe is an RFC 8693 exchange of a syntactically valid but unsigned JWT (or, given one, a real CI token):
 * Google answers {@code invalid_target} when the pool or provider does not exist or is disabled, and
 * {@code invalid_grant} for a subject token it will not accept, which for the dummy means the provider is there.
 */
final class StsChecks implements Check {
  static final String CHECK = "sts provider";
  static final String HTTPS_AUDIENCE_FIX =
      "STS wants the audience without https:, i.e. //iam.googleapis.com/...";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final List<String> audiences;
  private final URI tokenUrl;
  private final DoctorHttp http;
  private final String subjectToken;
  private final String dummyIssuer;
  private final Clock clock;

  /**
   * @param audiences    the provider names to check, in order, without repetitions
   * @param subjectToken a real CI token to exchange, or {@code null} for the unsigned dummy
   * @param dummyIssuer  the {@code iss} of the dummy token
   */
  StsChecks(List<String> audiences, URI tokenUrl, DoctorHttp http, String subjectToken, String dummyIssuer,
      Clock clock) {
    this.audiences = List.copyOf(audiences);
    this.tokenUrl = tokenUrl;
    this.http = http;
    this.subjectToken = subjectToken;
    this.dummyIssuer = dummyIssuer;
    this.clock = clock;
  }

  @Override
  public List<CheckResult> run() throws InterruptedException {
    List<CheckResult> rows = new ArrayList<>();
    for (String audience : audiences) {
      rows.add(check(audience));
    }
    return rows;
  }

  /** The fix for an audience that is not a provider name, or {@code null} when {@code value} is not one. */
  static String audienceFix(String value) {
    if (value != null && value.contains("https://iam.googleapis.com/")) {
      return HTTPS_AUDIENCE_FIX;
    }
    return null;
  }

  private CheckResult check(String audience) throws InterruptedException {
    if (!RuleCredentials.PROVIDER_AUDIENCE.matcher(audience).matches()) {
      String fix = audienceFix(audience);
      return CheckResult.fail(CHECK, audience, "not a workload identity provider name",
          fix != null ? fix : "write it as " + RuleCredentials.AUDIENCE_EXAMPLE);
    }
    boolean real = subjectToken != null;
    Map<String, String> form = new LinkedHashMap<>();
    form.put("grant_type", "urn:ietf:params:oauth:grant-type:token-exchange");
    form.put("audience", audience);
    form.put("scope", "https://www.googleapis.com/auth/cloud-platform");
    form.put("requested_token_type", "urn:ietf:params:oauth:token-type:access_token");
    form.put("subject_token_type", "urn:ietf:params:oauth:token-type:jwt");
    form.put("subject_token", real ? subjectToken : dummyToken(audience));
    DoctorHttp.Answer answer;
    try {
      answer = http.postForm(tokenUrl, form);
    } catch (IOException e) {
      return CheckResult.fail(CHECK, audience, "STS " + tokenUrl + " unreachable: " + DoctorHttp.describe(e),
          "check this host's network/egress to STS and credentials.sts.token_url");
    }
    return classify(audience, answer.status(), answer.body(), real ? subjectToken : null);
  }

  /**
   * What STS' answer says about the provider. Never quotes the answer's token, only the OAuth error and description.
   *
   * @param subjectToken the real subject token sent, or {@code null} when it was the dummy
   */
  static CheckResult classify(String audience, int status, String body, String subjectToken) {
    boolean real = subjectToken != null;
    if (status == 200) {
      return CheckResult.pass(CHECK, audience, real ? "provider exists; the subject token was exchanged"
          : "provider exists (STS accepted even the unsigned probe token: is this an emulator?)");
    }
    String error = "";
    String description = "";
    try {
      JsonNode json = JSON.readTree(body == null ? "" : body);
      if (json != null && json.isObject()) {
        error = json.path("error").isTextual() ? json.path("error").asText() : "";
        description = json.path("error_description").asText("");
      }
    } catch (IOException e) {
      // not OAuth's error shape: classified by status alone below
    }
    String said = "STS answered " + status + (error.isEmpty() ? "" : " " + error)
        + (description.isEmpty() ? "" : ": " + description);
    switch (error) {
      case "invalid_target":
        return CheckResult.fail(CHECK, audience, said, "workload identity provider " + audience
            + " does not exist or is disabled: create it or fix the audience");
      case "invalid_grant":
        if (!real) {
          return CheckResult.pass(CHECK, audience, "provider exists; subject token not checked (give"
              + " --subject-token-file to exchange a real CI token)");
        }
        if (description.toLowerCase(Locale.ROOT).contains("audience")) {
          return CheckResult.fail(CHECK, audience, said, "add the token's audience to the provider's allowed"
              + " audiences: " + updateOidc(audience, tokenAudience(subjectToken)));
        }
        return CheckResult.fail(CHECK, audience, said, "STS refused the subject token: give a fresh token of the"
            + " issuer the provider trusts (its issuer URI and keys)");
      case "unauthorized_client":
        if (!real) {
          return CheckResult.pass(CHECK, audience, "provider exists; subject token not checked (give"
              + " --subject-token-file to exchange a real CI token)");
        }
        return CheckResult.fail(CHECK, audience, said, "the provider's attribute condition rejected the token");
      default:
        String fix = audienceFix(description);
        return CheckResult.fail(CHECK, audience, said, fix != null ? fix
            : status >= 500 ? "Google failed on its side: run the doctor again in a minute"
            : "check credentials.sts.token_url and the audience");
    }
  }

  private static String updateOidc(String audience, String tokenAudience) {
    Matcher m = RuleCredentials.PROVIDER_AUDIENCE.matcher(audience);
    String command = "gcloud iam workload-identity-pools providers update-oidc";
    if (m.matches()) {
      command += " " + m.group(3) + " --workload-identity-pool=" + m.group(2) + " --location=global --project="
          + m.group(1);
    } else {
      command += " ...";
    }
    return command + " --allowed-audiences=" + (tokenAudience == null ? "AUDIENCE" : tokenAudience);
  }

  /** The {@code aud} of a JWT, read without verifying (it is no secret); {@code null} if unreadable. */
  static String tokenAudience(String jwt) {
    String[] parts = jwt.split("\\.", -1);
    if (parts.length < 2) {
      return null;
    }
    try {
      JsonNode aud = JSON.readTree(Base64.getUrlDecoder().decode(parts[1])).path("aud");
      if (aud.isArray() && !aud.isEmpty()) {
        return aud.get(0).asText();
      }
      return aud.isTextual() ? aud.asText() : null;
    } catch (IOException | IllegalArgumentException e) {
      return null;
    }
  }

  /** An unsecured JWT ({@code alg: none}) naming the provider as audience: well-formed, and worthless. */
  private String dummyToken(String audience) {
    long now = clock.instant().getEpochSecond();
    Map<String, Object> claims = new LinkedHashMap<>();
    claims.put("iss", dummyIssuer);
    claims.put("sub", "vertex-proxy-doctor");
    claims.put("aud", audience);
    claims.put("iat", now);
    claims.put("exp", now + 300);
    try {
      Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
      return b64.encodeToString("{\"alg\":\"none\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8)) + "."
          + b64.encodeToString(JSON.writeValueAsBytes(claims)) + ".";
    } catch (IOException e) {
      throw new IllegalStateException("cannot serialise the probe token's claims", e);
    }
  }
}

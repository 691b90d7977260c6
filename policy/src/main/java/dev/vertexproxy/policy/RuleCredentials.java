package dev.vertexproxy.policy;

import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A rule's own {@code credentials:} block: how the proxy obtains the Google token for the requests the rule allows,
 * overriding proxy.yaml's {@code credentials.mode} for that rule.
 *
 * <ul>
 *   <li>{@code impersonate}: the proxy's own identity impersonates the rule's {@code service_account} (required);</li>
 *   <li>{@code sts}: the caller's own verified OIDC token is exchanged at Google STS for a federated token of the
 *       workload identity provider {@code audience} (or proxy.yaml's {@code credentials.sts.audience}); with a
 *       {@code service_account} that federated identity then impersonates it, without one the call runs as the
 *       federated caller ({@code principal://…/subject/SUB}) — Google's own audit logs name the caller either way.</li>
 * </ul>
 *
 * @param mode     the mode
 * @param audience the workload identity provider, {@code //iam.googleapis.com/projects/N/locations/global/
 *                 workloadIdentityPools/P/providers/Q}; {@code null} for proxy.yaml's, always {@code null} in
 *                 {@code impersonate}
 */
public record RuleCredentials(Mode mode, String audience) {
  /** The canonical name of a workload identity pool provider, as Google STS expects it for {@code audience}. */
  public static final Pattern PROVIDER_AUDIENCE = Pattern.compile(
      "//iam\\.googleapis\\.com/projects/([0-9]{1,20})/locations/global/workloadIdentityPools/([a-z0-9-]{4,32})"
          + "/providers/([a-z0-9-]{4,32})");

  /** How the Google token is obtained. */
  public enum Mode {
    IMPERSONATE, STS;

    /** The name as written in YAML. */
    public String yamlName() {
      return this == IMPERSONATE ? "impersonate" : "sts";
    }
  }

  public RuleCredentials {
    Objects.requireNonNull(mode, "mode");
    if (audience != null && mode != Mode.STS) {
      throw new IllegalArgumentException("credentials.audience: only in sts mode");
    }
    if (audience != null && !PROVIDER_AUDIENCE.matcher(audience).matches()) {
      throw new IllegalArgumentException("credentials.audience: " + audience + " (expected: " + AUDIENCE_EXAMPLE + ")");
    }
  }

  /** What a provider audience looks like, for messages. */
  public static final String AUDIENCE_EXAMPLE =
      "//iam.googleapis.com/projects/PROJECT_NUMBER/locations/global/workloadIdentityPools/POOL/providers/PROVIDER";

  /**
   * The principal Google's logs name for a caller federated through {@code audience}, when the provider maps
   * {@code google.subject} to {@code subject}: {@code principal://iam.googleapis.com/projects/N/locations/global/
   * workloadIdentityPools/P/subject/SUBJECT}. {@code null} when {@code audience} is not a provider name.
   */
  public static String federatedPrincipal(String audience, String subject) {
    Matcher m = audience == null ? null : PROVIDER_AUDIENCE.matcher(audience);
    if (m == null || !m.matches()) {
      return null;
    }
    return "principal://iam.googleapis.com/projects/" + m.group(1) + "/locations/global/workloadIdentityPools/"
        + m.group(2) + "/subject/" + subject;
  }
}

package dev.vertexproxy.proxy.config;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The {@code credentials} section of proxy.yaml: how the proxy obtains the Google access tokens it injects.
 * Immutable; defaults are filled in and impossible combinations refused when the record is built.
 *
 * @param mode                  {@code impersonate} (default: the proxy's own identity impersonates the rule's service
 *                              account) or {@code sts} (the caller's own OIDC token is exchanged at Google STS, then
 *                              optionally impersonates the rule's service account); a rule's {@code credentials:}
 *                              block overrides it
 * @param sourceCredentialsFile ({@code source_credentials}) the proxy's own Google credential file
 *                              ({@code external_account}, {@code impersonated_service_account}, {@code authorized_user});
 *                              {@code null} means Application Default Credentials. Service-account keys are refused.
 * @param iamEndpoint           ({@code iam_endpoint}) base URL of IAM Credentials, {@code null} for Google's
 *                              ({@code https://iamcredentials.googleapis.com}); the proxy appends
 *                              {@code /v1/projects/-/serviceAccounts/{email}:generateAccessToken}
 * @param sts                   ({@code sts}) the {@code sts} mode's provider and endpoint
 * @param scopes                OAuth scopes of the injected tokens (default: cloud-platform)
 * @param lifetime              requested token lifetime (default 1h; Google allows up to 12h where the org policy permits)
 * @param refreshBefore         ({@code refresh_before}) a token is refreshed in the background once it is this close to
 *                              expiry (default 5m); must be shorter than {@code lifetime}
 * @param delegates             ({@code delegates}) the delegation chain of impersonation: service accounts each of which
 *                              may impersonate the next, ending at the rule's account (default: none, direct)
 * @param caFile                ({@code ca_file}) extra PEM trust anchors for STS and IAM Credentials (emulators,
 *                              private endpoints); the system's trust store otherwise
 * @param fetchTimeout          ({@code fetch_timeout}) how long one request to Google for a token may take before it
 *                              counts as failed (default 10s), so requests waiting for it fail fast instead of piling up
 */
public record CredentialsConfig(
    Mode mode,
    Path sourceCredentialsFile,
    URI iamEndpoint,
    Sts sts,
    List<String> scopes,
    Duration lifetime,
    Duration refreshBefore,
    List<String> delegates,
    Path caFile,
    Duration fetchTimeout) {
  public static final String CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform";
  public static final Duration DEFAULT_LIFETIME = Duration.ofHours(1);
  public static final Duration DEFAULT_REFRESH_BEFORE = Duration.ofMinutes(5);
  public static final Duration DEFAULT_FETCH_TIMEOUT = Duration.ofSeconds(10);
  public static final URI GOOGLE_STS_TOKEN_URL = URI.create("https://sts.googleapis.com/v1/token");
  private static final Duration MAX_LIFETIME = Duration.ofHours(12);

  public enum Mode { IMPERSONATE, STS }

  /**
   * The {@code credentials.sts} block.
   *
   * @param audience the default workload identity provider
   *                 ({@code //iam.googleapis.com/projects/N/locations/global/workloadIdentityPools/P/providers/Q}) for
   *                 rules in {@code sts} mode that name none; {@code null}: every such rule must name its own
   * @param tokenUrl ({@code token_url}) Google STS' token endpoint (default {@code https://sts.googleapis.com/v1/token})
   */
  public record Sts(String audience, URI tokenUrl) {
    public static final Sts DEFAULT = new Sts(null, null);

    public Sts {
      tokenUrl = tokenUrl == null ? GOOGLE_STS_TOKEN_URL : tokenUrl;
    }
  }

  public CredentialsConfig {
    mode = mode == null ? Mode.IMPERSONATE : mode;
    sts = sts == null ? Sts.DEFAULT : sts;
    scopes = scopes == null || scopes.isEmpty() ? List.of(CLOUD_PLATFORM_SCOPE) : List.copyOf(scopes);
    lifetime = lifetime == null ? DEFAULT_LIFETIME : lifetime;
    refreshBefore = refreshBefore == null ? DEFAULT_REFRESH_BEFORE : refreshBefore;
    delegates = delegates == null ? List.of() : List.copyOf(delegates);
    fetchTimeout = fetchTimeout == null ? DEFAULT_FETCH_TIMEOUT : fetchTimeout;
    if (lifetime.compareTo(Duration.ofSeconds(1)) < 0 || lifetime.compareTo(MAX_LIFETIME) > 0
        || lifetime.getNano() != 0) {
      throw new IllegalArgumentException("credentials.lifetime: " + lifetime + " (expected: whole seconds, 1s..12h)");
    }
    if (refreshBefore.isNegative() || refreshBefore.isZero() || refreshBefore.compareTo(lifetime) >= 0) {
      throw new IllegalArgumentException(
          "credentials.refresh_before: " + refreshBefore + " (expected: positive and shorter than lifetime " + lifetime + ")");
    }
    if (iamEndpoint != null && (!iamEndpoint.isAbsolute() || iamEndpoint.getHost() == null
        || iamEndpoint.getQuery() != null || iamEndpoint.getFragment() != null)) {
      throw new IllegalArgumentException("credentials.iam_endpoint: " + iamEndpoint
          + " (expected: an absolute URL such as https://iamcredentials.googleapis.com)");
    }
    if (fetchTimeout.isNegative() || fetchTimeout.isZero()) {
      throw new IllegalArgumentException("credentials.fetch_timeout: " + fetchTimeout + " (expected: more than 0)");
    }
  }

  /** The shape most callers and tests need: no delegates, no extra CA, the default fetch timeout. */
  public CredentialsConfig(Mode mode, Path sourceCredentialsFile, URI iamEndpoint, String stsAudience,
      List<String> scopes, Duration lifetime, Duration refreshBefore) {
    this(mode, sourceCredentialsFile, iamEndpoint, new Sts(stsAudience, null), scopes, lifetime, refreshBefore, null, null,
        null);
  }

  /** {@code impersonate} mode with every default, reading the proxy's own credentials from {@code file} (null: ADC). */
  public static CredentialsConfig impersonate(Path sourceCredentialsFile) {
    return new CredentialsConfig(Mode.IMPERSONATE, sourceCredentialsFile, null, (String) null, null, null, null);
  }

  /** The default workload identity provider of the {@code sts} mode, or {@code null}. */
  public String stsAudience() {
    return sts.audience();
  }

  /** A copy with the IAM Credentials base URL overridden (tests, dev mode, private endpoints). */
  public CredentialsConfig withIamEndpoint(URI endpoint) {
    return new CredentialsConfig(mode, sourceCredentialsFile, endpoint, sts, scopes, lifetime, refreshBefore, delegates,
        caFile, fetchTimeout);
  }

  /** A copy in {@code mode} with the {@code sts} block {@code sts} (tests, dev mode). */
  public CredentialsConfig withSts(Mode mode, Sts sts) {
    return new CredentialsConfig(mode, sourceCredentialsFile, iamEndpoint, sts, scopes, lifetime, refreshBefore, delegates,
        caFile, fetchTimeout);
  }
}

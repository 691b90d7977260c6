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
 *                              account) or {@code sts} (the caller's token is exchanged at Google STS; not implemented
 *                              yet, refused when the token provider starts)
 * @param sourceCredentialsFile ({@code source_credentials_file}) the proxy's own Google credential file
 *                              ({@code external_account}, {@code impersonated_service_account}, {@code authorized_user});
 *                              {@code null} means Application Default Credentials. Service-account keys are refused.
 * @param iamEndpoint           ({@code iam_endpoint}) base URL of IAM Credentials, {@code null} for Google's
 *                              ({@code https://iamcredentials.googleapis.com}); the proxy appends
 *                              {@code /v1/projects/-/serviceAccounts/{email}:generateAccessToken}
 * @param stsAudience           ({@code sts.audience}) the workload identity provider audience for {@code sts} mode
 * @param scopes                OAuth scopes of the injected tokens (default: cloud-platform)
 * @param lifetime              requested token lifetime (default 1h; Google allows up to 12h where the org policy permits)
 * @param refreshBefore         ({@code refresh_before}) a token is refreshed in the background once it is this close to
 *                              expiry (default 5m); must be shorter than {@code lifetime}
 */
public record CredentialsConfig(
    Mode mode,
    Path sourceCredentialsFile,
    URI iamEndpoint,
    String stsAudience,
    List<String> scopes,
    Duration lifetime,
    Duration refreshBefore) {
  public static final String CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform";
  public static final Duration DEFAULT_LIFETIME = Duration.ofHours(1);
  public static final Duration DEFAULT_REFRESH_BEFORE = Duration.ofMinutes(5);
  private static final Duration MAX_LIFETIME = Duration.ofHours(12);

  public enum Mode { IMPERSONATE, STS }

  public CredentialsConfig {
    mode = mode == null ? Mode.IMPERSONATE : mode;
    scopes = scopes == null || scopes.isEmpty() ? List.of(CLOUD_PLATFORM_SCOPE) : List.copyOf(scopes);
    lifetime = lifetime == null ? DEFAULT_LIFETIME : lifetime;
    refreshBefore = refreshBefore == null ? DEFAULT_REFRESH_BEFORE : refreshBefore;
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
  }

  /** {@code impersonate} mode with every default, reading the proxy's own credentials from {@code file} (null: ADC). */
  public static CredentialsConfig impersonate(Path sourceCredentialsFile) {
    return new CredentialsConfig(Mode.IMPERSONATE, sourceCredentialsFile, null, null, null, null, null);
  }

  /** A copy with the IAM Credentials base URL overridden (tests, dev mode, private endpoints). */
  public CredentialsConfig withIamEndpoint(URI endpoint) {
    return new CredentialsConfig(mode, sourceCredentialsFile, endpoint, stsAudience, scopes, lifetime, refreshBefore);
  }
}

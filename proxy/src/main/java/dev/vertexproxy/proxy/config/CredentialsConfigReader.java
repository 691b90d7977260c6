package dev.vertexproxy.proxy.config;

import dev.vertexproxy.policy.RuleCredentials;
import dev.vertexproxy.policy.yaml.YamlMap;
import dev.vertexproxy.policy.yaml.YamlReader;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Reads proxy.yaml's {@code credentials} section. Like the rest of {@link ConfigLoader}, every problem is reported
 * with its line; what {@link CredentialsConfig} asserts is checked here first, so its constructor never throws for a
 * loaded file.
 */
final class CredentialsConfigReader {
  /** Service-account emails as IAM Credentials names them in a delegation chain. */
  private static final Pattern SERVICE_ACCOUNT =
      Pattern.compile("[a-z0-9][a-z0-9-]{0,62}@[a-z0-9][a-z0-9.-]{0,126}\\.iam\\.gserviceaccount\\.com");

  private CredentialsConfigReader() {
  }

  static CredentialsConfig credentials(YamlMap n, Path base, YamlReader reader) {
    if (n == null) {
      return CredentialsConfig.impersonate(null);
    }
    int before = reader.problems().size();
    CredentialsConfig.Mode mode = n.enumValue("mode", CredentialsConfig.Mode.class, CredentialsConfig.Mode.IMPERSONATE);
    Path source = n.path("source_credentials", base);
    URI iam = endpoint(n, "iam_endpoint", "https://iamcredentials.googleapis.com");
    CredentialsConfig.Sts sts = sts(n.map("sts"));
    List<String> scopes = n.strings("scopes");
    Duration lifetime = n.duration("lifetime", CredentialsConfig.DEFAULT_LIFETIME, Duration.ofMinutes(5),
        Duration.ofHours(12), "5m..12h (Google caps impersonated tokens at 1h unless the org policy extends it)");
    if (lifetime.getNano() != 0) {
      n.report("lifetime", n.string("lifetime", ""), "whole seconds, 5m..12h");
    }
    Duration refreshBefore = n.duration("refresh_before", CredentialsConfig.DEFAULT_REFRESH_BEFORE, Duration.ofMillis(1),
        ChronoUnit.FOREVER.getDuration(), "more than 0 and shorter than lifetime");
    if (refreshBefore.compareTo(lifetime) >= 0) {
      n.report("refresh_before", n.has("refresh_before") ? n.string("refresh_before", "") : "5m (the default)",
          "shorter than lifetime (" + n.string("lifetime", "1h") + ")");
    }
    List<String> delegates = n.strings("delegates");
    if (delegates != null) {
      for (String d : delegates) {
        if (d != null && !SERVICE_ACCOUNT.matcher(d).matches()) {
          n.report("delegates", d, "service account emails (NAME@PROJECT.iam.gserviceaccount.com), each allowed to"
              + " impersonate the next");
        }
      }
    }
    Path caFile = n.path("ca_file", base);
    Duration fetchTimeout = n.duration("fetch_timeout", CredentialsConfig.DEFAULT_FETCH_TIMEOUT, Duration.ofMillis(100),
        Duration.ofMinutes(5), "100ms..5m");
    if (reader.problems().size() != before) {
      return null;
    }
    return new CredentialsConfig(mode, source, iam, sts, scopes, lifetime, refreshBefore, delegates, caFile, fetchTimeout);
  }

  private static CredentialsConfig.Sts sts(YamlMap n) {
    if (n == null) {
      return CredentialsConfig.Sts.DEFAULT;
    }
    String audience = n.string("audience", null);
    if (audience != null && !RuleCredentials.PROVIDER_AUDIENCE.matcher(audience).matches()) {
      n.report("audience", audience, "a workload identity provider, " + RuleCredentials.AUDIENCE_EXAMPLE);
      audience = null;
    }
    URI tokenUrl = endpoint(n, "token_url", "https://sts.googleapis.com/v1/token");
    return new CredentialsConfig.Sts(audience, tokenUrl);
  }

  /** An absolute http(s) URL without query or fragment; {@code null} when absent or refused (reported). */
  private static URI endpoint(YamlMap n, String key, String example) {
    URI uri = n.uri(key, true);
    if (uri != null && (uri.getRawQuery() != null || uri.getRawFragment() != null)) {
      n.report(key, uri.toString(), "an absolute URL without query or fragment, such as " + example);
      return null;
    }
    return uri;
  }
}

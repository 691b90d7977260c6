package dev.vertexproxy.proxy.config;

import dev.vertexproxy.policy.yaml.YamlMap;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads the parts of proxy.yaml that make the proxy an issuer for people: {@code sessions} and each issuer's
 * {@code login}. Like the rest of {@link ConfigLoader}, every problem is reported with its line and the defaults are
 * the documented ones. The client secret itself is never in the YAML: a file or an environment variable names it,
 * read when the proxy starts ({@link IssuerConfig.Login#clientSecret()}).
 */
final class SessionsConfigReader {
  private static final List<String> DEFAULT_SCOPES = List.of("openid", "email", "profile");

  private SessionsConfigReader() {
  }

  static IssuerConfig.Login login(YamlMap n, Path base) {
    if (n == null) {
      return null;
    }
    String clientId = n.required("client_id");
    Path secretFile = n.path("client_secret_file", base);
    String secretEnv = n.string("client_secret_env", null);
    if (secretFile != null && secretEnv != null) {
      n.problem("client_secret_env", "set client_secret_file or client_secret_env, not both");
    }
    if (secretEnv != null && !secretEnv.matches("[A-Za-z_][A-Za-z0-9_]*")) {
      n.report("client_secret_env", secretEnv, "the name of an environment variable (the secret itself never goes here)");
    }
    List<String> scopes = n.strings("scopes");
    List<String> effective = new ArrayList<>(scopes == null ? DEFAULT_SCOPES : scopes);
    for (String s : effective) {
      if (s != null && !s.matches("[\\x21\\x23-\\x5B\\x5D-\\x7E]+")) {
        n.report("scopes", s, "scope tokens without spaces, quotes or backslashes (RFC 6749 §3.3)");
      }
    }
    if (!effective.contains("openid")) {
      effective.add(0, "openid");
    }
    return new IssuerConfig.Login(clientId, secretFile, secretEnv, effective);
  }

  static SessionsConfig sessions(YamlMap n, Path base, List<IssuerConfig> issuers, YamlMap top) {
    if (n == null) {
      for (IssuerConfig i : issuers) {
        if (i.login() != null && !top.has("sessions")) {
          top.problem("sessions", "required: identity.issuers[" + i.name() + "].login needs the proxy to issue"
              + " session tokens (sessions: { issuer: https://vertex-proxy.example.com, signing_keys_dir: keys/ })");
          break;
        }
      }
      return null;
    }
    URI issuer = n.missing("issuer") ? null : n.uri("issuer", true);
    if (n.missing("issuer")) {
      n.problem("issuer", "required: the proxy's public base URL, e.g. https://vertex-proxy.example.com");
    } else if (issuer != null) {
      String path = issuer.getRawPath() == null ? "" : issuer.getRawPath();
      if (!path.isEmpty() && !path.equals("/") || issuer.getRawQuery() != null || issuer.getRawFragment() != null
          || issuer.getRawUserInfo() != null) {
        n.report("issuer", issuer.toString(), "an origin without path, query or user info, e.g."
            + " https://vertex-proxy.example.com (the proxy serves /_proxy/ and /.well-known/ at its root)");
      }
      for (IssuerConfig i : issuers) {
        if (i.issuer() != null && strip(i.issuer().toString()).equals(strip(issuer.toString()))) {
          n.report("issuer", issuer.toString(), "the proxy's own URL, not that of identity.issuers[" + i.name() + "]");
        }
      }
    }
    Duration lifetime = n.duration("lifetime", SessionsConfig.DEFAULT_LIFETIME, Duration.ofMinutes(5),
        Duration.ofDays(7), "a duration from 5m to 168h, e.g. 8h");
    Duration access = n.duration("access_token_lifetime", SessionsConfig.DEFAULT_ACCESS_TOKEN_LIFETIME,
        Duration.ofMinutes(1), Duration.ofHours(12), "a duration from 1m to 12h, e.g. 1h");
    Path dir = n.path("signing_keys_dir", base);
    Path file = n.path("signing_key_file", base);
    if (dir == null && file == null && !n.has("signing_keys_dir") && !n.has("signing_key_file")) {
      n.problem("signing_keys_dir", "required: signing_keys_dir (keys generated and rotated there) or"
          + " signing_key_file (one fixed PEM private key)");
    } else if (dir != null && file != null) {
      n.problem("signing_key_file", "set signing_keys_dir or signing_key_file, not both");
    }
    String algorithm = n.string("algorithm", "RS256");
    if (!algorithm.equals("RS256") && !algorithm.equals("ES256")) {
      n.report("algorithm", algorithm, "RS256 (the default; fastest to verify) or ES256");
    }
    Duration rotation = n.duration("rotation_interval", SessionsConfig.DEFAULT_ROTATION_INTERVAL, Duration.ofHours(1),
        Duration.ofDays(3650), "a duration of at least 1h, e.g. 720h (30 days)");
    if (n.has("rotation_interval") && file != null) {
      n.problem("rotation_interval", "applies to signing_keys_dir only: a fixed signing_key_file is never rotated");
    }
    List<String> claims = n.strings("claims");
    if (claims != null) {
      for (String c : claims) {
        if (c != null && SessionsConfig.REGISTERED_CLAIMS.contains(c)) {
          n.report("claims", c, "a claim about the person (e.g. email, groups): the session sets " + c + " itself");
        }
      }
    }
    Path revocations = n.path("revocations_file", base);
    if (revocations == null && file != null && !n.has("revocations_file")) {
      n.problem("revocations_file", "required with signing_key_file: a writable file every replica sees, e.g. on a"
          + " shared volume");
    }
    if (revocations == null && dir != null) {
      revocations = dir.resolve("revocations.json");
    }
    return new SessionsConfig(issuer, lifetime, access, dir, file, algorithm, rotation, claims, revocations);
  }

  private static String strip(String url) {
    return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
  }
}

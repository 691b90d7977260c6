package dev.vertexproxy.proxy.config;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * One trusted OIDC issuer ({@code identity.issuers[]} in proxy.yaml).
 *
 * @param name       the name policy rules use ({@code identity.issuer: gitlab})
 * @param issuer     the exact {@code iss} value; also the base of {@code /.well-known/openid-configuration}
 * @param audiences  accepted {@code aud} values; at least one must be present in the token
 * @param algorithms allowed JWS algorithms (asymmetric only: RS*, PS*, ES*, EdDSA)
 * @param jwksUri    explicit JWKS URI, or {@code null} to discover it
 * @param shared     whether projects that do not trust each other get tokens from this issuer (gitlab.com): then
 *                   every allow rule for it must pin a namespace or project
 * @param maxTokenLifetime tokens whose {@code exp - iat} is longer are refused ({@code max_token_lifetime})
 * @param login      {@code login}: how people log in through this issuer (browser login); {@code null}: they do not
 */
public record IssuerConfig(String name, URI issuer, List<String> audiences, List<String> algorithms, URI jwksUri,
    boolean shared, Duration maxTokenLifetime, Login login) {
  /** A GitLab ID token lives as long as its job; a day is beyond what CI jobs normally run. */
  public static final Duration DEFAULT_MAX_TOKEN_LIFETIME = Duration.ofHours(24);
  /**
   * The largest {@code max_token_lifetime} accepted at load: GitLab keeps a job's timeout under a month, so a larger
   * value can only be a mistake that switches the check off.
   */
  public static final Duration MAX_MAX_TOKEN_LIFETIME = Duration.ofDays(30);

  public IssuerConfig {
    audiences = List.copyOf(audiences);
    algorithms = List.copyOf(algorithms);
  }

  /** An issuer people do not log in through. */
  public IssuerConfig(String name, URI issuer, List<String> audiences, List<String> algorithms, URI jwksUri,
      boolean shared, Duration maxTokenLifetime) {
    this(name, issuer, audiences, algorithms, jwksUri, shared, maxTokenLifetime, null);
  }

  /**
   * {@code identity.issuers[].login}: the proxy as an OIDC client of this issuer, for people.
   *
   * <p>The client secret is read when the proxy starts ({@link #clientSecret()}), like TLS keys, not when the file is
   * checked: {@code serve --check} runs where the secret is not mounted. It never appears in {@link #toString()}.
   *
   * @param clientId         {@code client_id}: the client registered at the issuer for the proxy
   * @param clientSecretFile {@code client_secret_file}: a file holding the secret, or {@code null}
   * @param clientSecretEnv  {@code client_secret_env}: an environment variable holding it, or {@code null}; neither: a
   *                         public client (PKCE only)
   * @param scopes           {@code scopes}: requested scopes (default {@code openid email profile}; {@code openid} always)
   */
  public record Login(String clientId, Path clientSecretFile, String clientSecretEnv, List<String> scopes) {
    public Login {
      scopes = List.copyOf(scopes);
    }

    /**
     * The client secret, read now from the file or the environment; empty for a public client. Blocking (a file read).
     *
     * @throws IllegalStateException when the file cannot be read, is empty, or the variable is unset
     */
    public Optional<String> clientSecret() {
      if (clientSecretFile != null) {
        try {
          String s = Files.readString(clientSecretFile, StandardCharsets.UTF_8).strip();
          if (s.isEmpty()) {
            throw new IllegalStateException("login.client_secret_file " + clientSecretFile + " is empty");
          }
          return Optional.of(s);
        } catch (IOException e) {
          throw new IllegalStateException("cannot read login.client_secret_file " + clientSecretFile + ": " + e.getMessage());
        }
      }
      if (clientSecretEnv != null) {
        String s = System.getenv(clientSecretEnv);
        if (s == null || s.isBlank()) {
          throw new IllegalStateException("login.client_secret_env: the variable " + clientSecretEnv + " is not set");
        }
        return Optional.of(s.strip());
      }
      return Optional.empty();
    }

    @Override
    public String toString() {
      return "Login[clientId=" + clientId + ", clientSecret=" + (clientSecretFile != null ? "file " + clientSecretFile
          : clientSecretEnv != null ? "env " + clientSecretEnv : "(none)") + ", scopes=" + scopes + "]";
    }
  }

  /** An issuer {@link #sharedByDefault shared by default} only if it is gitlab.com, with the default lifetime bound. */
  public IssuerConfig(String name, URI issuer, List<String> audiences, List<String> algorithms, URI jwksUri) {
    this(name, issuer, audiences, algorithms, jwksUri, sharedByDefault(issuer), DEFAULT_MAX_TOKEN_LIFETIME);
  }

  /** An issuer that is shared as given, with the default lifetime bound. */
  public IssuerConfig(String name, URI issuer, List<String> audiences, List<String> algorithms, URI jwksUri, boolean shared) {
    this(name, issuer, audiences, algorithms, jwksUri, shared, DEFAULT_MAX_TOKEN_LIFETIME);
  }

  /** An issuer {@link #sharedByDefault shared by default} only if it is gitlab.com, with the given lifetime bound. */
  public IssuerConfig(String name, URI issuer, List<String> audiences, List<String> algorithms, URI jwksUri,
      Duration maxTokenLifetime) {
    this(name, issuer, audiences, algorithms, jwksUri, sharedByDefault(issuer), maxTokenLifetime);
  }

  /**
   * Whether {@code issuer} is https://gitlab.com, compared the way an {@code iss} would be meant: host in any case,
   * with or without a trailing slash or the default port. Every project on gitlab.com gets tokens from it.
   */
  public static boolean sharedByDefault(URI issuer) {
    if (issuer == null || issuer.getHost() == null || !"https".equalsIgnoreCase(issuer.getScheme())) {
      return false;
    }
    String path = issuer.getRawPath() == null ? "" : issuer.getRawPath();
    return "gitlab.com".equalsIgnoreCase(issuer.getHost()) && (issuer.getPort() == -1 || issuer.getPort() == 443)
        && path.matches("/*") && issuer.getRawQuery() == null && issuer.getRawFragment() == null
        && issuer.getRawUserInfo() == null;
  }
}

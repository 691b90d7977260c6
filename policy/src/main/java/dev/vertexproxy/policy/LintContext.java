package dev.vertexproxy.policy;

import dev.vertexproxy.policy.catalog.MethodCatalog;
import java.util.Map;
import java.util.Set;

/**
 * What {@link PolicyLinter} knows besides the policy: the catalog (each method's path templates) and, when the proxy's
 * configuration was given, which claims each issuer's tokens can carry.
 *
 * @param catalog      the catalog the policy was loaded against
 * @param issuerClaims per issuer name, the claims its callers' tokens can carry; an issuer absent from the map is of
 *                     unknown kind (no claim is reported). {@code null}: no configuration was given, so claim names are
 *                     checked only for near misses of {@link #GITLAB_CLAIMS}
 *
 * <p>Immutable and thread-safe.
 */
public record LintContext(MethodCatalog catalog, Map<String, KnownClaims> issuerClaims) {
  /**
   * The claims of a GitLab CI/CD ID token, as GitLab documents them (ci/secrets/id_token_authentication): the
   * registered JWT claims and GitLab's own. {@code job_workflow_ref} is GitHub's, not GitLab's.
   */
  public static final Set<String> GITLAB_CLAIMS = Set.of("iss", "sub", "aud", "exp", "nbf", "iat", "jti",
      "namespace_id", "namespace_path", "project_id", "project_path", "project_visibility", "user_id", "user_login",
      "user_email", "user_identities", "user_access_level", "groups_direct", "pipeline_id", "pipeline_source", "job_id",
      "ref", "ref_type", "ref_path", "ref_protected", "environment", "environment_protected", "environment_action",
      "deployment_tier", "runner_id", "runner_environment", "sha", "ci_config_ref_uri", "ci_config_sha",
      "job_namespace_id", "job_namespace_path", "job_project_id", "job_project_path");

  /**
   * The claims an issuer's tokens can carry.
   *
   * @param names the claim names
   * @param what  what they are, for messages: {@code "GitLab ID tokens"}, {@code "sessions.claims"}
   */
  public record KnownClaims(Set<String> names, String what) {
    /** A GitLab issuer's. */
    public static final KnownClaims GITLAB = new KnownClaims(GITLAB_CLAIMS, "GitLab ID tokens");

    public KnownClaims {
      names = Set.copyOf(names);
    }
  }

  public LintContext {
    issuerClaims = issuerClaims == null ? null : Map.copyOf(issuerClaims);
  }

  /** The bundled catalog and no configuration. */
  public static LintContext withoutConfig(MethodCatalog catalog) {
    return new LintContext(catalog, null);
  }

  /** Whether the configuration was given. */
  public boolean configKnown() {
    return issuerClaims != null;
  }
}

package dev.vertexproxy.policy;

/**
 * The policy's answer for one request.
 *
 * @param allowed        whether the request may be forwarded
 * @param rule           the allow rule that granted it, the deny rule that refused it, or {@code null} for the
 *                       default deny
 * @param reason         one of {@link Reasons}
 * @param serviceAccount the service account to act as when allowed, otherwise {@code null}
 * @param message        a short human explanation, safe to show the caller (names rules, methods, claim names and
 *                       projects, never claim values)
 * @param credentials    the allowing rule's own {@code credentials:} block, or {@code null}: proxy.yaml's mode
 *
 * <p>Immutable and thread-safe.
 */
public record Decision(boolean allowed, String rule, String reason, String serviceAccount, String message,
    RuleCredentials credentials) {
  /** A decision whose rule has no {@code credentials:} block of its own. */
  public Decision(boolean allowed, String rule, String reason, String serviceAccount, String message) {
    this(allowed, rule, reason, serviceAccount, message, null);
  }
}

package dev.vertexproxy.policy;

import java.util.Set;

/**
 * The closed set of kebab-case reasons a {@link Decision} carries. One value picks the HTTP status, fills the audit
 * record and tags the metric. The default-deny reasons are listed in the order the checks run: the reason names the
 * first check the closest allow rule failed.
 */
public final class Reasons {
  /** An allow rule matched and no deny rule did. */
  public static final String ALLOWED = "allowed";
  /** A deny rule matched (deny wins over any allow rule). */
  public static final String DENIED_BY_RULE = "denied-by-rule";
  /** Default deny: no allow rule names the caller's issuer. */
  public static final String ISSUER_NOT_TRUSTED = "issuer-not-trusted";
  /** Default deny: allow rules name the issuer, but the subject or a claim did not match. */
  public static final String IDENTITY_NOT_MATCHED = "identity-not-matched";
  /** Default deny: an allow rule matches the identity but none grants the routed method. */
  public static final String METHOD_NOT_GRANTED = "method-not-granted";
  /** Default deny: the identity and method match, the project does not. */
  public static final String PROJECT_NOT_GRANTED = "project-not-granted";
  /** Default deny: identity, method and project match, the location does not. */
  public static final String LOCATION_NOT_GRANTED = "location-not-granted";
  /** Default deny: everything but the resource name glob matches. */
  public static final String RESOURCE_NOT_GRANTED = "resource-not-granted";
  /** Default deny: everything but the rule's {@code models} matches (or the path names no model). */
  public static final String MODEL_NOT_GRANTED = "model-not-granted";

  /** Every reason, in check order after the two rule reasons. */
  public static final Set<String> ALL = Set.of(ALLOWED, DENIED_BY_RULE, ISSUER_NOT_TRUSTED, IDENTITY_NOT_MATCHED,
      METHOD_NOT_GRANTED, PROJECT_NOT_GRANTED, LOCATION_NOT_GRANTED, RESOURCE_NOT_GRANTED, MODEL_NOT_GRANTED);

  private Reasons() {
  }
}

package dev.vertexproxy.policy;

import java.util.Map;
import java.util.Objects;

/**
 * A verified caller: who presented the credential, as the policy sees it.
 *
 * @param issuer  the configured issuer <em>name</em> (e.g. {@code gitlab}), not its URL
 * @param subject the token's {@code sub}
 * @param claims  every claim of the verified token, as JSON-like values (String, Boolean, Number, List, Map);
 *                never the token itself
 *
 * <p>Immutable and thread-safe.
 */
public record Caller(String issuer, String subject, Map<String, Object> claims) {
  public Caller {
    Objects.requireNonNull(issuer, "issuer");
    Objects.requireNonNull(subject, "subject");
    claims = Map.copyOf(claims);
  }
}

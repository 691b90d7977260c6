package dev.vertexproxy.emulators;

import com.nimbusds.jwt.JWTClaimsSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A workload identity pool provider as the emulated STS judges a token exchange against it: the audiences a subject
 * token may carry and an attribute condition reduced to claim equalities (Google's is a CEL expression; tests only
 * need "this claim must be exactly that"). Immutable.
 *
 * @param allowedAudiences   the provider's {@code allowedAudiences}; empty means Google's default, the canonical name
 *                           with or without the {@code https:} prefix
 * @param attributeCondition claim name to the value its string form must equal; empty means no condition
 */
record WorkloadIdentityProvider(Name name, Set<String> allowedAudiences, Map<String, String> attributeCondition) {

  WorkloadIdentityProvider {
    allowedAudiences = Set.copyOf(allowedAudiences);
    attributeCondition = Map.copyOf(attributeCondition);
  }

  /** Whether one of the subject token's {@code aud} values is an audience this provider accepts. */
  boolean acceptsAudience(List<String> tokenAudiences) {
    Set<String> expected = allowedAudiences.isEmpty()
        ? Set.of(name.canonical(), "https:" + name.canonical())
        : allowedAudiences;
    return tokenAudiences.stream().anyMatch(expected::contains);
  }

  /** Whether every claim the condition names is present with exactly the required string form. */
  boolean conditionHolds(JWTClaimsSet claims) {
    for (Map.Entry<String, String> required : attributeCondition.entrySet()) {
      Object actual = claims.getClaim(required.getKey());
      if (actual == null || !required.getValue().equals(String.valueOf(actual))) {
        return false;
      }
    }
    return true;
  }

  /**
   * A provider's canonical resource name, the only shape STS accepts as {@code audience}:
   * {@code //iam.googleapis.com/projects/{number}/locations/global/workloadIdentityPools/{pool}/providers/{provider}}.
   * Pool and provider ids are lowercase letters, digits and hyphens; unlike Google, ids shorter than four characters
   * are accepted, because the dev setup's pool and provider are both called {@code dev}.
   */
  record Name(String projectNumber, String pool, String provider) {
    static final String SHAPE =
        "//iam.googleapis.com/projects/{number}/locations/global/workloadIdentityPools/{pool}/providers/{provider}";
    private static final Pattern CANONICAL = Pattern.compile("//iam\\.googleapis\\.com/projects/([0-9]{1,20})"
        + "/locations/global/workloadIdentityPools/([a-z0-9][a-z0-9-]{0,31})/providers/([a-z0-9][a-z0-9-]{0,31})");

    static Optional<Name> parse(String audience) {
      if (audience == null) {
        return Optional.empty();
      }
      Matcher matcher = CANONICAL.matcher(audience);
      return matcher.matches()
          ? Optional.of(new Name(matcher.group(1), matcher.group(2), matcher.group(3)))
          : Optional.empty();
    }

    String canonical() {
      return "//iam.googleapis.com/projects/" + projectNumber + "/locations/global/workloadIdentityPools/" + pool
          + "/providers/" + provider;
    }

    /** The federated principal STS issues for {@code subject}: it names the pool, not the provider. */
    String principal(String subject) {
      return "principal://iam.googleapis.com/projects/" + projectNumber + "/locations/global/workloadIdentityPools/"
          + pool + "/subject/" + subject;
    }
  }
}

package dev.vertexproxy.proxy.identity;

import com.nimbusds.jose.JWSAlgorithm;
import dev.vertexproxy.proxy.config.IdentityConfig;
import dev.vertexproxy.proxy.config.IssuerConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The {@link TokenVerifier}'s own check of its configuration: the loader reports these with line numbers first, so a
 * problem here is a caller that built an {@link IdentityConfig} by hand. Every problem is reported at once.
 */
final class VerifierConfigCheck {
  static final Set<JWSAlgorithm> ASYMMETRIC;

  static {
    Set<JWSAlgorithm> algorithms = new LinkedHashSet<>();
    algorithms.addAll(JWSAlgorithm.Family.RSA);
    algorithms.addAll(JWSAlgorithm.Family.EC);
    ASYMMETRIC = Collections.unmodifiableSet(algorithms);
  }

  private VerifierConfigCheck() {
  }

  static void validate(IdentityConfig config) {
    List<String> problems = new ArrayList<>();
    Set<String> names = new HashSet<>();
    Set<String> urls = new HashSet<>();
    for (IssuerConfig issuer : config.issuers()) {
      String at = "identity.issuers[" + issuer.name() + "]";
      if (issuer.name() == null || issuer.name().isBlank()) {
        problems.add("identity.issuers[].name: empty (expected: a name policy rules use)");
      } else if (!names.add(issuer.name())) {
        problems.add(at + ".name: " + issuer.name() + " (expected: unique)");
      }
      if (issuer.issuer() == null) {
        problems.add(at + ".issuer: missing (expected: the exact iss URL)");
        continue;
      }
      if (!urls.add(issuer.issuer().toString())) {
        problems.add(at + ".issuer: " + issuer.issuer() + " (expected: each issuer configured once)");
      }
      if (!issuer.issuer().isAbsolute() || issuer.issuer().getHost() == null) {
        problems.add(at + ".issuer: " + issuer.issuer() + " (expected: an absolute http(s) URL)");
      }
      if (issuer.audiences().isEmpty() && issuer.login() == null) {
        problems.add(at + ".audiences: [] (expected: at least one accepted audience)");
      }
      if (TokenVerifier.OWN_NAME.equals(issuer.name())) {
        problems.add(at + ".name: " + TokenVerifier.OWN_NAME + " (expected: another name; the proxy's own issuer has it)");
      }
      if (issuer.algorithms().isEmpty()) {
        problems.add(at + ".algorithms: [] (expected: at least one of " + ASYMMETRIC + ")");
      }
      for (String algorithm : issuer.algorithms()) {
        if (!ASYMMETRIC.contains(JWSAlgorithm.parse(algorithm))) {
          problems.add(at + ".algorithms: " + algorithm + " (expected: one of " + ASYMMETRIC + ")");
        }
      }
      Duration lifetime = issuer.maxTokenLifetime();
      if (lifetime == null || lifetime.isNegative() || lifetime.isZero()
          || lifetime.compareTo(IssuerConfig.MAX_MAX_TOKEN_LIFETIME) > 0) {
        problems.add(at + ".max_token_lifetime: " + lifetime + " (expected: > 0 and at most "
            + IssuerConfig.MAX_MAX_TOKEN_LIFETIME + ")");
      }
    }
    if (config.maxTokenBytes() < 1) {
      problems.add("identity.max_token_bytes: " + config.maxTokenBytes() + " (expected: > 0)");
    }
    if (config.verifiedTokenCacheSize() < 0) {
      problems.add("identity.verified_token_cache_size: " + config.verifiedTokenCacheSize() + " (expected: >= 0)");
    }
    positive(problems, "identity.clock_skew", config.clockSkew(), true);
    positive(problems, "identity.jwks_cache_ttl", config.jwksCacheTtl(), false);
    positive(problems, "identity.jwks_refresh_min_interval", config.jwksRefreshMinInterval(), true);
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException(String.join("\n", problems));
    }
  }

  private static void positive(List<String> problems, String key, Duration value, boolean zeroAllowed) {
    if (value == null || value.isNegative() || (!zeroAllowed && value.isZero())) {
      problems.add(key + ": " + value + " (expected: " + (zeroAllowed ? ">= 0" : "> 0") + ")");
    }
  }
}

package dev.vertexproxy.proxy.config;

import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The {@code identity} section of proxy.yaml.
 *
 * @param issuers                 trusted issuers
 * @param clockSkew               tolerated skew for exp/nbf/iat ({@code clock_skew}, default 30s)
 * @param maxTokenBytes           tokens longer than this are refused unparsed ({@code max_token_bytes}, default 16384)
 * @param jwksRefreshMinInterval  at most one JWKS refetch per issuer per this interval when an unknown kid appears
 *                                ({@code jwks_refresh_min_interval}, default 30s)
 * @param jwksCacheTtl            how long fetched keys are trusted before a routine refresh ({@code jwks_cache_ttl}, default 5m)
 * @param verifiedTokenCacheSize  how many verified tokens are remembered ({@code verified_token_cache_size}, default 10000)
 */
public record IdentityConfig(
    List<IssuerConfig> issuers,
    Duration clockSkew,
    int maxTokenBytes,
    Duration jwksRefreshMinInterval,
    Duration jwksCacheTtl,
    int verifiedTokenCacheSize) {
  public IdentityConfig {
    issuers = List.copyOf(issuers);
  }

  /** The names policy rules may use for these issuers, in file order. */
  public Set<String> issuerNames() {
    Set<String> names = new LinkedHashSet<>();
    issuers.forEach(i -> names.add(i.name()));
    return names;
  }

  /** The names of the issuers marked {@code shared}: the policy refuses allow rules for them that pin no project. */
  public Set<String> sharedIssuerNames() {
    Set<String> names = new LinkedHashSet<>();
    issuers.stream().filter(IssuerConfig::shared).forEach(i -> names.add(i.name()));
    return names;
  }

  public static IdentityConfig of(List<IssuerConfig> issuers) {
    return new IdentityConfig(issuers, Duration.ofSeconds(30), 16384, Duration.ofSeconds(30), Duration.ofMinutes(5), 10_000);
  }
}

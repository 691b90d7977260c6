package dev.vertexproxy.proxy.identity;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import com.github.benmanes.caffeine.cache.Ticker;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.proc.BadJOSEException;
import com.nimbusds.jose.proc.BadJWSException;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jose.util.DefaultResourceRetriever;
import com.nimbusds.jose.util.ResourceRetriever;
import com.nimbusds.jwt.EncryptedJWT;
import com.nimbusds.jwt.JWT;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.JWTParser;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import dev.vertexproxy.policy.Caller;
import dev.vertexproxy.proxy.config.IdentityConfig;
import dev.vertexproxy.proxy.config.IssuerConfig;
import dev.vertexproxy.proxy.identity.IdentityException.Reason;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Verifies OIDC bearer JWTs against the configured issuers and turns them into {@link Caller}s.
 *
 * <p>Design note. The checks run cheapest and least trusting first: size bound, parse (unsigned and encrypted tokens
 * refused), issuer picked by the <em>unverified</em> {@code iss} (exact string match), that issuer's algorithm
 * allow-list (HMAC and {@code none} are never allowed, so a token "signed" with an issuer's public key as an HMAC
 * secret cannot pass), then nimbus' {@link DefaultJWTProcessor} verifies the signature against the issuer's JWKS
 * ({@link IssuerKeys}: fetch → rate-limited refetch on unknown {@code kid} → outage tolerance → cache) and the
 * claims ({@link ClockedClaimsVerifier}). A verified token is remembered by the SHA-256 of its text (never the text)
 * until its {@code exp} plus skew, so a CI job's repeated calls cost one hash each.
 *
 * <p>Threading: {@link #verify} never blocks. Cache hits complete on the calling thread; when keys are cached the
 * (CPU-only, tens of microseconds) signature check also runs on the calling thread; when keys must be fetched, the
 * fetch and the rest of the verification run on {@code blockingExecutor}, so the caller must hop back to its own
 * thread if it needs to. Thread-safe.
 */
public final class TokenVerifier {
  private static final Set<JWSAlgorithm> ASYMMETRIC;

  static {
    Set<JWSAlgorithm> algorithms = new LinkedHashSet<>();
    algorithms.addAll(JWSAlgorithm.Family.RSA);
    algorithms.addAll(JWSAlgorithm.Family.EC);
    ASYMMETRIC = Collections.unmodifiableSet(algorithms);
  }

  private static final int HTTP_TIMEOUT_MILLIS = 5_000;
  private static final int MAX_JWKS_BYTES = 512 * 1024;

  private final Map<String, IssuerVerifier> issuersByIss;
  private final List<IssuerVerifier> issuers;
  private final int maxTokenBytes;
  private final Duration skew;
  private final Clock clock;
  private final Cache<String, Verified> verified;
  private final AtomicLong fullVerifications = new AtomicLong();
  private volatile boolean closed;

  private record Verified(Caller caller, Instant validUntil) {
  }

  /** Carries the key set fetched for this one token into nimbus' key selector. */
  private record KeySetContext(JWKSet keys) implements SecurityContext {
  }

  private record IssuerVerifier(IssuerConfig config, Set<JWSAlgorithm> algorithms, IssuerKeys keys,
      DefaultJWTProcessor<KeySetContext> processor) {
  }

  private TokenVerifier(IdentityConfig config, Clock clock, Executor blockingExecutor, ResourceRetriever http,
      KeyFetchEvents events) {
    this.maxTokenBytes = config.maxTokenBytes();
    this.skew = config.clockSkew();
    this.clock = clock;
    Map<String, IssuerVerifier> byIss = new LinkedHashMap<>();
    for (IssuerConfig issuer : config.issuers()) {
      byIss.put(issuer.issuer().toString(), issuerVerifier(issuer, config, clock, blockingExecutor, http, events));
    }
    this.issuersByIss = Collections.unmodifiableMap(byIss);
    this.issuers = List.copyOf(byIss.values());
    this.verified = Caffeine.newBuilder()
        .maximumSize(config.verifiedTokenCacheSize())
        .ticker(ticker(clock))
        .executor(Runnable::run)
        .expireAfter(Expiry.<String, Verified>creating((token, entry) -> remaining(entry)))
        .build();
  }

  /**
   * @param config           the issuers and limits; validated here, all problems reported at once
   * @param clock            the time every expiry check and cache uses
   * @param blockingExecutor where discovery and JWKS fetches run (never an event loop)
   * @throws IllegalArgumentException if the configuration cannot be used safely
   */
  public static TokenVerifier create(IdentityConfig config, Clock clock, Executor blockingExecutor) {
    return create(config, clock, blockingExecutor, KeyFetchEvents.NONE);
  }

  /** As {@link #create(IdentityConfig, Clock, Executor)}, reporting every key fetch that goes out to {@code events}. */
  public static TokenVerifier create(IdentityConfig config, Clock clock, Executor blockingExecutor, KeyFetchEvents events) {
    validate(config);
    return new TokenVerifier(config, clock, blockingExecutor,
        new DefaultResourceRetriever(HTTP_TIMEOUT_MILLIS, HTTP_TIMEOUT_MILLIS, MAX_JWKS_BYTES), events);
  }

  /**
   * Verifies a bearer token (the text after {@code Bearer }). The future completes with the caller, or fails with
   * an {@link IdentityException} itself (not wrapped in a {@code CompletionException}) for every refusal and every
   * unreachable issuer; anything else would be a bug.
   */
  public CompletableFuture<Caller> verify(String token) {
    if (closed) {
      return CompletableFuture.failedFuture(
          new IdentityException(Reason.ISSUER_UNAVAILABLE, "token verification is shut down"));
    }
    try {
      checkSize(token);
      String cacheKey = sha256(token);
      Verified hit = verified.getIfPresent(cacheKey);
      if (hit != null && clock.instant().isBefore(hit.validUntil)) {
        return CompletableFuture.completedFuture(hit.caller);
      }
      SignedJWT jwt = parseSigned(token);
      JWTClaimsSet unverifiedClaims = claimsOf(jwt);
      IssuerVerifier issuer = issuerOf(unverifiedClaims);
      JWSHeader header = jwt.getHeader();
      checkHeader(issuer, header);
      CompletableFuture<Caller> result = new CompletableFuture<>();
      issuer.keys.keysFor(header).whenComplete((keys, fetchFailure) -> {
        if (fetchFailure != null) {
          IdentityException refusal = IssuerKeys.unwrap(fetchFailure);
          result.completeExceptionally(refusal != null ? refusal : fetchFailure);
          return;
        }
        try {
          Caller caller = verifySignatureAndClaims(issuer, jwt, keys);
          verified.put(cacheKey, new Verified(caller, validUntil(jwt)));
          result.complete(caller);
        } catch (RuntimeException e) {
          result.completeExceptionally(e);
        }
      });
      return result;
    } catch (IdentityException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /** Fetches discovery documents and JWKS of every issuer; completes when all are usable (readiness). */
  public CompletableFuture<Void> warmUp() {
    return CompletableFuture.allOf(issuers.stream().map(i -> i.keys.refresh()).toArray(CompletableFuture[]::new));
  }

  /** Forgets verified tokens; later {@link #verify} calls fail with {@code issuer-unavailable}. */
  public void close() {
    closed = true;
    verified.invalidateAll();
  }

  /** How many tokens went through signature and claims verification (cache misses), for tests and metrics. */
  long fullVerifications() {
    return fullVerifications.get();
  }

  private void checkSize(String token) {
    if (token == null || token.isEmpty()) {
      throw new IdentityException(Reason.TOKEN_MALFORMED, "bearer token is empty");
    }
    if (token.length() > maxTokenBytes) {
      throw new IdentityException(Reason.TOKEN_TOO_LARGE, "bearer token is longer than " + maxTokenBytes + " bytes");
    }
    // A compact JWS is printable ASCII, so after this check characters and bytes are the same count.
    for (int i = 0; i < token.length(); i++) {
      char c = token.charAt(i);
      if (c < 0x21 || c > 0x7e) {
        throw new IdentityException(Reason.TOKEN_MALFORMED, "bearer token is not a compact JWT");
      }
    }
  }

  private static SignedJWT parseSigned(String token) {
    JWT jwt;
    try {
      jwt = JWTParser.parse(token);
    } catch (ParseException e) {
      throw new IdentityException(Reason.TOKEN_MALFORMED, "bearer token is not a valid JWT");
    }
    if (jwt instanceof SignedJWT signed) {
      return signed;
    }
    if (jwt instanceof PlainJWT) {
      throw new IdentityException(Reason.ALGORITHM_NOT_ALLOWED, "unsigned tokens (alg none) are not accepted");
    }
    if (jwt instanceof EncryptedJWT) {
      throw new IdentityException(Reason.ALGORITHM_NOT_ALLOWED, "encrypted tokens (JWE) are not accepted");
    }
    throw new IdentityException(Reason.TOKEN_MALFORMED, "bearer token is not a signed JWT");
  }

  private static JWTClaimsSet claimsOf(SignedJWT jwt) {
    try {
      return jwt.getJWTClaimsSet();
    } catch (ParseException e) {
      throw new IdentityException(Reason.TOKEN_MALFORMED, "token claims are not a valid JWT claims set");
    }
  }

  private IssuerVerifier issuerOf(JWTClaimsSet unverifiedClaims) {
    String iss = unverifiedClaims.getIssuer();
    IssuerVerifier issuer = iss == null ? null : issuersByIss.get(iss);
    if (issuer == null) {
      throw new IdentityException(Reason.ISSUER_UNKNOWN,
          iss == null ? "token has no iss claim" : "token issuer is not trusted");
    }
    return issuer;
  }

  private static void checkHeader(IssuerVerifier issuer, JWSHeader header) {
    if (!issuer.algorithms.contains(header.getAlgorithm())) {
      throw new IdentityException(Reason.ALGORITHM_NOT_ALLOWED,
          "token algorithm is not allowed for issuer '" + issuer.config.name() + "' (expected one of: "
              + String.join(", ", issuer.config.algorithms()) + ")");
    }
    JOSEObjectType type = header.getType();
    if (type != null && !JOSEObjectType.JWT.equals(type)) {
      throw new IdentityException(Reason.CLAIMS_INVALID, "token type (typ) is not JWT");
    }
  }

  private Caller verifySignatureAndClaims(IssuerVerifier issuer, SignedJWT jwt, JWKSet keys) {
    if (!IssuerKeys.hasMatchingKey(keys, jwt.getHeader())) {
      throw new IdentityException(Reason.KEY_UNKNOWN,
          "token signing key is not published by issuer '" + issuer.config.name() + "'");
    }
    fullVerifications.incrementAndGet();
    JWTClaimsSet claims;
    try {
      claims = issuer.processor.process(jwt, new KeySetContext(keys));
    } catch (ClaimsRefused e) {
      throw new IdentityException(e.reason(), e.getMessage());
    } catch (BadJWSException e) {
      throw new IdentityException(Reason.SIGNATURE_INVALID, "token signature is invalid");
    } catch (BadJOSEException e) {
      throw new IdentityException(Reason.KEY_UNKNOWN,
          "token signing key is not published by issuer '" + issuer.config.name() + "'");
    } catch (JOSEException e) {
      throw new IdentityException(Reason.SIGNATURE_INVALID, "token signature could not be verified");
    }
    return new Caller(issuer.config.name(), claims.getSubject(), JsonValues.claims(jwt.getPayload().toJSONObject()));
  }

  private Instant validUntil(SignedJWT jwt) {
    try {
      return jwt.getJWTClaimsSet().getExpirationTime().toInstant().plus(skew);
    } catch (ParseException e) {
      throw new IllegalStateException("claims parsed before", e);
    }
  }

  private Duration remaining(Verified entry) {
    Duration left = Duration.between(clock.instant(), entry.validUntil);
    return left.isNegative() ? Duration.ZERO : left;
  }

  private static Ticker ticker(Clock clock) {
    return () -> {
      Instant now = clock.instant();
      return now.getEpochSecond() * 1_000_000_000L + now.getNano();
    };
  }

  private static String sha256(String token) {
    try {
      return HexFormat.of().formatHex(
          MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.US_ASCII)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
  }

  private static IssuerVerifier issuerVerifier(IssuerConfig issuer, IdentityConfig config, Clock clock,
      Executor executor, ResourceRetriever http, KeyFetchEvents events) {
    Set<JWSAlgorithm> algorithms = new LinkedHashSet<>();
    for (String name : issuer.algorithms()) {
      algorithms.add(JWSAlgorithm.parse(name));
    }
    JwksFetcher fetcher = new JwksFetcher(issuer, http);
    IssuerKeys keys = IssuerKeys.builder(issuer.name()).fetch(fetcher::fetch).executor(executor).clock(clock)
        .cacheTtl(config.jwksCacheTtl()).refetchMinInterval(config.jwksRefreshMinInterval()).events(events).build();
    DefaultJWTProcessor<KeySetContext> processor = new DefaultJWTProcessor<>();
    processor.setJWSKeySelector(new JWSVerificationKeySelector<KeySetContext>(algorithms,
        (selector, context) -> selector.select(context.keys())));
    processor.setJWTClaimsSetVerifier(
        new ClockedClaimsVerifier<>(issuer.issuer().toString(), issuer.audiences(), config.clockSkew(),
            issuer.maxTokenLifetime(), clock));
    return new IssuerVerifier(issuer, Set.copyOf(algorithms), keys, processor);
  }

  private static void validate(IdentityConfig config) {
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
      if (issuer.audiences().isEmpty()) {
        problems.add(at + ".audiences: [] (expected: at least one accepted audience)");
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

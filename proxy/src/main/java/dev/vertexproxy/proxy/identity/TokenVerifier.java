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
import java.net.URI;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

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
  private static final int HTTP_TIMEOUT_MILLIS = 5_000;
  private static final int MAX_JWKS_BYTES = 512 * 1024;

  private final Map<String, IssuerVerifier> issuersByIss;
  private final Map<String, IssuerVerifier> issuersByName;
  private final List<IssuerVerifier> issuers;
  private final OwnTokens own;
  private final IssuerVerifier ownVerifier;
  private final Map<String, DefaultJWTProcessor<KeySetContext>> idTokenProcessors = new ConcurrentHashMap<>();
  private final IdentityConfig config;
  private final int maxTokenBytes;
  private final Duration skew;
  private final Clock clock;
  private final Cache<String, Verified> verified;
  private final AtomicLong fullVerifications = new AtomicLong();
  private volatile boolean closed;

  private record Verified(VerifiedToken token, Instant validUntil) {
  }

  /** The claim a proxy token's caller carries about the token itself: {@code {id, use, via}}. */
  public static final String PROXY_SESSION = "proxy_session";

  /** Carries the key set fetched for this one token into nimbus' key selector. */
  record KeySetContext(JWKSet keys) implements SecurityContext {
  }

  record IssuerVerifier(IssuerConfig config, Set<JWSAlgorithm> algorithms, IssuerKeys keys,
      DefaultJWTProcessor<KeySetContext> processor) {
  }

  private TokenVerifier(IdentityConfig config, Clock clock, Executor blockingExecutor, ResourceRetriever http,
      KeyFetchEvents events, OwnTokens own) {
    this.config = config;
    this.maxTokenBytes = config.maxTokenBytes();
    this.skew = config.clockSkew();
    this.clock = clock;
    Map<String, IssuerVerifier> byIss = new LinkedHashMap<>();
    Map<String, IssuerVerifier> byName = new LinkedHashMap<>();
    for (IssuerConfig issuer : config.issuers()) {
      IssuerVerifier v = issuerVerifier(issuer, config, clock, blockingExecutor, new JwksFetcher(issuer, http)::fetch, events);
      byIss.put(issuer.issuer().toString(), v);
      byName.put(issuer.name(), v);
    }
    this.own = own;
    if (own != null) {
      IssuerConfig self = new IssuerConfig(OWN_NAME, URI.create(own.issuerUrl()), List.of(own.issuerUrl()),
          List.of(own.algorithm().getName()), null, false, own.longestLifetime().plus(Duration.ofMinutes(1)));
      this.ownVerifier = issuerVerifier(self, config, clock, blockingExecutor, own::reloadPublicKeys, events);
      byIss.put(own.issuerUrl(), ownVerifier);
    } else {
      this.ownVerifier = null;
    }
    this.issuersByIss = Collections.unmodifiableMap(byIss);
    this.issuersByName = Collections.unmodifiableMap(byName);
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
    return create(config, clock, blockingExecutor, events, null);
  }

  /**
   * As {@link #create(IdentityConfig, Clock, Executor, KeyFetchEvents)}, also accepting the proxy's own tokens when
   * {@code own} is not {@code null}: sessions and exchanged access tokens, turned back into the caller they name.
   */
  public static TokenVerifier create(IdentityConfig config, Clock clock, Executor blockingExecutor, KeyFetchEvents events,
      OwnTokens own) {
    VerifierConfigCheck.validate(config);
    return new TokenVerifier(config, clock, blockingExecutor,
        new DefaultResourceRetriever(HTTP_TIMEOUT_MILLIS, HTTP_TIMEOUT_MILLIS, MAX_JWKS_BYTES), events, own);
  }

  /** The internal name of the proxy's own issuer in logs and metrics; no configured issuer may take it. */
  public static final String OWN_NAME = "vertex-proxy";

  /**
   * Verifies a bearer token (the text after {@code Bearer }). The future completes with the caller, or fails with
   * an {@link IdentityException} itself (not wrapped in a {@code CompletionException}) for every refusal and every
   * unreachable issuer; anything else would be a bug.
   */
  public CompletableFuture<Caller> verify(String token) {
    return verifyToken(token).thenApply(VerifiedToken::caller);
  }

  /**
   * As {@link #verify}, with what a token endpoint needs beside the caller: the token's times, and whether the proxy
   * issued it. The proxy's own tokens are checked against the revocation list every time, cached or not.
   */
  public CompletableFuture<VerifiedToken> verifyToken(String token) {
    if (closed) {
      return CompletableFuture.failedFuture(
          new IdentityException(Reason.ISSUER_UNAVAILABLE, "token verification is shut down"));
    }
    try {
      checkSize(token);
      String cacheKey = TokenDigest.sha256Hex(token);
      Verified hit = verified.getIfPresent(cacheKey);
      if (hit != null && clock.instant().isBefore(hit.validUntil)) {
        checkNotRevoked(hit.token);
        return CompletableFuture.completedFuture(hit.token);
      }
      SignedJWT jwt = parseSigned(token);
      JWTClaimsSet unverifiedClaims = claimsOf(jwt);
      IssuerVerifier issuer = issuerOf(unverifiedClaims);
      JWSHeader header = jwt.getHeader();
      checkHeader(issuer, header);
      CompletableFuture<VerifiedToken> result = new CompletableFuture<>();
      issuer.keys.keysFor(header).whenComplete((keys, fetchFailure) -> {
        if (fetchFailure != null) {
          IdentityException refusal = IssuerKeys.unwrap(fetchFailure);
          result.completeExceptionally(refusal != null ? refusal : fetchFailure);
          return;
        }
        try {
          fullVerifications.incrementAndGet();
          JWTClaimsSet claims = verifySignatureAndClaims(issuer, issuer.processor, jwt, keys);
          VerifiedToken v = issuer == ownVerifier ? OwnTokenCaller.of(claims, jwt, issuersByName.keySet()) : new VerifiedToken(
              new Caller(issuer.config.name(), claims.getSubject(), JsonValues.claims(jwt.getPayload().toJSONObject())),
              claims.getIssueTime().toInstant(), claims.getExpirationTime().toInstant(), false);
          verified.put(cacheKey, new Verified(v, validUntil(jwt)));
          checkNotRevoked(v);
          result.complete(v);
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

  static SignedJWT parseSigned(String token) {
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

  static JWTClaimsSet claimsOf(SignedJWT jwt) {
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

  static void checkHeader(IssuerVerifier issuer, JWSHeader header) {
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

  /**
   * Verifies a person's ID token from the login of issuer {@code issuerName}: the same keys, algorithms and time checks
   * as bearer tokens, but the audience must be the proxy's {@code clientId} (and {@code azp}, when present or when
   * there are several audiences), and {@code nonce} must be the login attempt's. Never cached: each is used once.
   * Fails with {@link IdentityException} ({@code login-nonce-invalid}, {@code audience-mismatch}, …).
   */
  public CompletableFuture<VerifiedToken> verifyIdToken(String issuerName, String idToken, String clientId, String nonce) {
    IssuerVerifier issuer = issuersByName.get(issuerName);
    if (issuer == null || closed) {
      return CompletableFuture.failedFuture(new IdentityException(Reason.ISSUER_UNKNOWN, "no issuer " + issuerName));
    }
    try {
      checkSize(idToken);
      return IdTokens.verify(issuer, parseSigned(idToken), clientId, nonce,
          idTokenProcessors.computeIfAbsent(issuerName + "\n" + clientId,
              k -> processor(issuer.config(), issuer.algorithms(), List.of(clientId), config, clock)));
    } catch (IdentityException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  private void checkNotRevoked(VerifiedToken v) {
    if (v.proxyIssued() && own.revoked(v.caller().issuer(), v.caller().subject(), v.issuedAt(), v.sessionId())) {
      throw new IdentityException(Reason.SESSION_REVOKED, "this session was revoked; log in again");
    }
  }

  static JWTClaimsSet verifySignatureAndClaims(IssuerVerifier issuer, DefaultJWTProcessor<KeySetContext> processor,
      SignedJWT jwt, JWKSet keys) {
    if (!IssuerKeys.hasMatchingKey(keys, jwt.getHeader())) {
      throw new IdentityException(Reason.KEY_UNKNOWN,
          "token signing key is not published by issuer '" + issuer.config.name() + "'");
    }
    JWTClaimsSet claims;
    try {
      claims = processor.process(jwt, new KeySetContext(keys));
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
    return claims;
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

  private static IssuerVerifier issuerVerifier(IssuerConfig issuer, IdentityConfig config, Clock clock,
      Executor executor, Supplier<JWKSet> fetch, KeyFetchEvents events) {
    Set<JWSAlgorithm> algorithms = new LinkedHashSet<>();
    for (String name : issuer.algorithms()) {
      algorithms.add(JWSAlgorithm.parse(name));
    }
    IssuerKeys keys = IssuerKeys.builder(issuer.name()).fetch(fetch).executor(executor).clock(clock)
        .cacheTtl(config.jwksCacheTtl()).refetchMinInterval(config.jwksRefreshMinInterval()).events(events).build();
    return new IssuerVerifier(issuer, Set.copyOf(algorithms), keys,
        processor(issuer, algorithms, issuer.audiences(), config, clock));
  }

  private static DefaultJWTProcessor<KeySetContext> processor(IssuerConfig issuer, Set<JWSAlgorithm> algorithms,
      List<String> audiences, IdentityConfig config, Clock clock) {
    DefaultJWTProcessor<KeySetContext> processor = new DefaultJWTProcessor<>();
    processor.setJWSKeySelector(new JWSVerificationKeySelector<KeySetContext>(algorithms,
        (selector, context) -> selector.select(context.keys())));
    processor.setJWTClaimsSetVerifier(
        new ClockedClaimsVerifier<>(issuer.issuer().toString(), audiences, config.clockSkew(),
            issuer.maxTokenLifetime(), clock));
    return processor;
  }
}

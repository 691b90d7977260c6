package dev.vertexproxy.proxy.identity;

import dev.vertexproxy.testing.MutableClock;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.EncryptionMethod;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWEAlgorithm;
import com.nimbusds.jose.JWEHeader;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSAEncrypter;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.EncryptedJWT;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import dev.vertexproxy.policy.Caller;
import dev.vertexproxy.proxy.config.IdentityConfig;
import dev.vertexproxy.proxy.config.IssuerConfig;
import dev.vertexproxy.emulators.DevIssuer;
import dev.vertexproxy.proxy.identity.IdentityException.Reason;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** TokenVerifier against a real DevIssuer on 127.0.0.1:0; bad tokens are forged with nimbus. */
class TokenVerifierTest {
  private static final String AUDIENCE = "https://vertex-proxy.test";

  private final MutableClock clock = new MutableClock(Instant.now().truncatedTo(ChronoUnit.SECONDS));
  private final List<DevIssuer> issuers = new ArrayList<>();
  private final List<TokenVerifier> verifiers = new ArrayList<>();
  private ExecutorService blocking;
  private DevIssuer gitlab;
  private TokenVerifier verifier;

  @BeforeEach
  void start() {
    blocking = Executors.newFixedThreadPool(2, r -> {
      Thread thread = new Thread(r, "jwks-fetch-test");
      thread.setDaemon(true);
      return thread;
    });
    gitlab = startIssuer();
    verifier = verifier(gitlabConfig(gitlab));
  }

  @AfterEach
  void stop() throws InterruptedException {
    verifiers.forEach(TokenVerifier::close);
    issuers.forEach(DevIssuer::close);
    blocking.shutdownNow();
    assertThat(blocking.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void validTokenBecomesCallerWithGitLabClaims() {
    Caller caller = verified(verifier, gitlab.mint(Map.of()));

    assertThat(caller.issuer()).isEqualTo("gitlab");
    assertThat(caller.subject()).isEqualTo("project_path:acme/ml/forecasting:ref_type:branch:ref:main");
    assertThat(caller.claims())
        .containsEntry("project_path", "acme/ml/forecasting")
        .containsEntry("namespace_path", "acme/ml")
        .containsEntry("ref_protected", "true")
        .containsEntry("iss", gitlab.issuer().toString())
        .containsEntry("aud", AUDIENCE)
        .containsEntry("iat", clock.instant().getEpochSecond());
  }

  @Test
  void claimsArePlainJavaValues() {
    Map<String, Object> overrides = new HashMap<>();
    overrides.put("aud", List.of("someone-else", AUDIENCE));
    overrides.put("groups", List.of("a", "b"));
    overrides.put("nested", Map.of("n", 1, "flag", true, "ratio", 0.5));
    Caller caller = verified(verifier, gitlab.mint(overrides));

    assertThat(caller.claims().get("aud")).isEqualTo(List.of("someone-else", AUDIENCE));
    assertThat(caller.claims().get("groups")).isEqualTo(List.of("a", "b"));
    assertThat(caller.claims().get("nested")).isEqualTo(Map.of("n", 1L, "flag", true, "ratio", 0.5));
    assertThat(caller.claims().get("exp")).isInstanceOf(Long.class);
  }

  @Test
  void malformedTokensAreRefused() {
    assertRefused(verifier, "", Reason.TOKEN_MALFORMED);
    assertRefused(verifier, "not-a-jwt", Reason.TOKEN_MALFORMED);
    assertRefused(verifier, "a.b.c", Reason.TOKEN_MALFORMED);
    assertRefused(verifier, gitlab.mint(Map.of()) + " trailing", Reason.TOKEN_MALFORMED);
    assertRefused(verifier, gitlab.mint(Map.of("exp", "tomorrow")), Reason.TOKEN_MALFORMED);
    assertThat(gitlab.jwksFetches()).isZero();
  }

  @Test
  void oversizedTokenIsRefusedBeforeParsing() {
    String huge = gitlab.mint(Map.of("padding", "x".repeat(20_000)));
    IdentityException refusal = assertRefused(verifier, huge, Reason.TOKEN_TOO_LARGE);
    assertThat(refusal.httpStatus()).isEqualTo(401);
    assertThat(refusal.getMessage()).doesNotContain(huge.substring(0, 40));
    assertThat(gitlab.jwksFetches()).isZero();
  }

  @Test
  void signatureFromAnotherKeyWithTheIssuersKidIsRefused() throws Exception {
    RSAKey other = new RSAKeyGenerator(2048).keyID(gitlab.signingKey().getKeyID()).generate();
    String forged = sign(rs256(gitlab.signingKey().getKeyID()), defaultClaims(), new RSASSASigner(other));

    assertRefused(verifier, forged, Reason.SIGNATURE_INVALID);
  }

  @Test
  void unknownIssuerIsRefusedByExactMatch() {
    assertRefused(verifier, gitlab.mint(Map.of("iss", "https://gitlab.evil.example")), Reason.ISSUER_UNKNOWN);
    assertRefused(verifier, gitlab.mint(Map.of("iss", gitlab.issuer() + "/")), Reason.ISSUER_UNKNOWN);
    Map<String, Object> noIssuer = new HashMap<>();
    noIssuer.put("iss", null);
    assertRefused(verifier, gitlab.mint(noIssuer), Reason.ISSUER_UNKNOWN);
    assertThat(gitlab.jwksFetches()).isZero();
  }

  @Test
  void wrongAudienceIsRefused() {
    IdentityException refusal =
        assertRefused(verifier, gitlab.mint(Map.of("aud", "https://other.example")), Reason.AUDIENCE_MISMATCH);
    assertThat(refusal.getMessage()).contains(AUDIENCE);
    assertRefused(verifier, gitlab.mint(Map.of("aud", List.of())), Reason.AUDIENCE_MISMATCH);
  }

  @Test
  void expiryHonoursSkewAndTheInjectedClock() {
    String token = gitlab.mint(Map.of());
    clock.advance(Duration.ofMinutes(5).plusSeconds(20)); // past exp, within the 30 s skew
    verified(verifier, token);

    String another = gitlab.mint(Map.of("exp", clock.instant().getEpochSecond() - 31));
    assertRefused(verifier, another, Reason.TOKEN_EXPIRED);
  }

  @Test
  void notYetValidAndIssuedInFutureAreRefused() {
    long now = clock.instant().getEpochSecond();
    assertRefused(verifier, gitlab.mint(Map.of("nbf", now + 120)), Reason.TOKEN_NOT_YET_VALID);
    assertRefused(verifier, gitlab.mint(Map.of("iat", now + 120, "nbf", now)), Reason.TOKEN_ISSUED_IN_FUTURE);
    verified(verifier, gitlab.mint(Map.of("nbf", now + 20))); // within skew
  }

  @Test
  void missingRequiredClaimsAreRefused() {
    for (String claim : List.of("sub", "exp", "iat")) {
      Map<String, Object> without = new HashMap<>();
      without.put(claim, null);
      IdentityException refusal = assertRefused(verifier, gitlab.mint(without), Reason.CLAIMS_INVALID);
      assertThat(refusal.getMessage()).contains(claim);
    }
    assertRefused(verifier, gitlab.mint(Map.of("sub", " ")), Reason.CLAIMS_INVALID);
  }

  @Test
  void lifetimeIsBoundedByTheIssuersMaxTokenLifetime() {
    long iat = clock.instant().getEpochSecond() - 60;
    long day = Duration.ofHours(24).toSeconds();
    IdentityException thirtyDays = assertRefused(verifier,
        gitlab.mint(Map.of("iat", iat, "nbf", iat, "exp", iat + Duration.ofDays(30).toSeconds())),
        Reason.TOKEN_LIFETIME_TOO_LONG);
    assertThat(thirtyDays.httpStatus()).isEqualTo(401);
    assertThat(thirtyDays.kind().googleStatus()).isEqualTo("UNAUTHENTICATED");
    assertThat(thirtyDays.getMessage()).contains("is 720h, at most 24h");

    verified(verifier, gitlab.mint(Map.of("iat", iat, "nbf", iat, "exp", iat + day))); // exactly at the limit
    assertRefused(verifier, gitlab.mint(Map.of("iat", iat, "nbf", iat, "exp", iat + day + 1)), Reason.TOKEN_LIFETIME_TOO_LONG);
  }

  @Test
  void maxTokenLifetimeIsPerIssuer() {
    DevIssuer shortLived = startIssuer();
    TokenVerifier both = verifier(gitlabConfig(gitlab), new IssuerConfig("short", shortLived.issuer(), List.of(AUDIENCE),
        List.of("RS256"), null, Duration.ofMinutes(10)));
    long iat = clock.instant().getEpochSecond();
    verified(both, gitlab.mint(Map.of("iat", iat, "exp", iat + 3600)));
    verified(both, shortLived.mint(Map.of("iat", iat, "exp", iat + 600)));
    IdentityException refusal = assertRefused(both, shortLived.mint(Map.of("iat", iat, "exp", iat + 3600)),
        Reason.TOKEN_LIFETIME_TOO_LONG);
    assertThat(refusal.getMessage()).contains("is 1h, at most 10m");
  }

  @Test
  void unsignedTokenIsRefused() throws Exception {
    String none = new PlainJWT(defaultClaims()).serialize();
    assertRefused(verifier, none, Reason.ALGORITHM_NOT_ALLOWED);
  }

  @Test
  void encryptedTokenIsRefused() throws Exception {
    EncryptedJWT jwe = new EncryptedJWT(new JWEHeader(JWEAlgorithm.RSA_OAEP_256, EncryptionMethod.A256GCM),
        defaultClaims());
    jwe.encrypt(new RSAEncrypter(gitlab.signingKey().toRSAPublicKey()));
    assertRefused(verifier, jwe.serialize(), Reason.ALGORITHM_NOT_ALLOWED);
  }

  @Test
  void hmacSignedWithTheIssuersPublicKeyIsRefused() throws Exception {
    byte[] publicKeyBytes = gitlab.signingKey().toRSAPublicKey().getEncoded();
    JWSHeader header = new JWSHeader.Builder(JWSAlgorithm.HS256).keyID(gitlab.signingKey().getKeyID()).build();
    String confused = sign(header, defaultClaims(), new MACSigner(publicKeyBytes));

    assertRefused(verifier, confused, Reason.ALGORITHM_NOT_ALLOWED);
  }

  @Test
  void algorithmOutsideTheIssuersAllowListIsRefused() throws Exception {
    JWSHeader ps256 = new JWSHeader.Builder(JWSAlgorithm.PS256).keyID(gitlab.signingKey().getKeyID()).build();
    String token = sign(ps256, defaultClaims(), new RSASSASigner(gitlab.signingKey()));
    assertRefused(verifier, token, Reason.ALGORITHM_NOT_ALLOWED);
  }

  @Test
  void floodOfUnknownKidsCostsAtMostTwoJwksFetches() throws Exception {
    JWTClaimsSet claims = defaultClaims();
    RSASSASigner signer = new RSASSASigner(gitlab.signingKey());
    List<CompletableFuture<Caller>> results = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      results.add(verifier.verify(sign(rs256(UUID.randomUUID().toString()), claims, signer)));
    }
    for (CompletableFuture<Caller> result : results) {
      assertThat(refusalOf(result).kind()).isEqualTo(Reason.KEY_UNKNOWN);
    }
    clock.advance(Duration.ofSeconds(31)); // the rate limit allows one more refetch per interval, not more
    for (int i = 0; i < 200; i++) {
      assertRefused(verifier, sign(rs256(UUID.randomUUID().toString()), claims, signer), Reason.KEY_UNKNOWN);
    }
    assertThat(gitlab.jwksFetches()).isBetween(1, 2);
  }

  @Test
  void rotatedKeyIsAcceptedAfterOneRefetch() {
    verified(verifier, gitlab.mint(Map.of()));
    assertThat(gitlab.jwksFetches()).isEqualTo(1);

    gitlab.rotateKey();
    String signedWithNewKey = gitlab.mint(Map.of());
    assertRefused(verifier, signedWithNewKey, Reason.KEY_UNKNOWN); // refetched moments ago: rate-limited
    assertThat(gitlab.jwksFetches()).isEqualTo(1);

    clock.advance(Duration.ofSeconds(31));
    verified(verifier, signedWithNewKey);
    verified(verifier, gitlab.mint(Map.of()));
    assertThat(gitlab.jwksFetches()).isEqualTo(2);
  }

  @Test
  void keysAreRefreshedAfterTheirTtl() {
    verified(verifier, gitlab.mint(Map.of()));
    clock.advance(Duration.ofMinutes(5).plusSeconds(1));
    verified(verifier, gitlab.mint(Map.of()));
    assertThat(gitlab.jwksFetches()).isEqualTo(2);
  }

  @Test
  void unreachableJwksIsServiceUnavailable() {
    DevIssuer down = startIssuer();
    URI jwks = down.jwksUri();
    String token = down.mint(Map.of());
    down.close();
    TokenVerifier explicit = verifier(new IssuerConfig("gitlab", down.issuer(), List.of(AUDIENCE),
        List.of("RS256"), jwks));

    IdentityException refusal = assertRefused(explicit, token, Reason.JWKS_UNAVAILABLE);
    assertThat(refusal.httpStatus()).isEqualTo(503);
    assertThat(refusal.kind().googleStatus()).isEqualTo("UNAVAILABLE");
    assertThatThrownBy(() -> explicit.warmUp().get(10, TimeUnit.SECONDS))
        .hasCauseInstanceOf(IdentityException.class);
  }

  @Test
  void unreachableDiscoveryIsServiceUnavailable() {
    DevIssuer down = startIssuer();
    String token = down.mint(Map.of());
    down.close();
    TokenVerifier discovering = verifier(gitlabConfig(down));

    IdentityException refusal = assertRefused(discovering, token, Reason.ISSUER_UNAVAILABLE);
    assertThat(refusal.httpStatus()).isEqualTo(503);
  }

  @Test
  void lastGoodKeysSurviveAShortOutageButNotALongOne() throws Exception {
    verifier.warmUp().get(10, TimeUnit.SECONDS);
    String longLived = gitlab.mint(Map.of("exp", clock.instant().plus(Duration.ofHours(1)).getEpochSecond()));
    String another = gitlab.mint(Map.of("exp", clock.instant().plus(Duration.ofHours(1)).getEpochSecond()));
    gitlab.close();

    clock.advance(Duration.ofMinutes(6)); // keys stale, refresh fails: outage tolerance keeps them for one more TTL
    verified(verifier, longLived);

    clock.advance(Duration.ofMinutes(5));
    assertRefused(verifier, another, Reason.JWKS_UNAVAILABLE);
  }

  @Test
  void repeatedTokenIsAnsweredFromTheCacheOnTheCallingThread() {
    String token = gitlab.mint(Map.of());
    Caller first = verified(verifier, token);
    assertThat(verifier.fullVerifications()).isEqualTo(1);

    CompletableFuture<Caller> again = verifier.verify(token);
    assertThat(again).isCompletedWithValue(first);
    assertThat(verifier.fullVerifications()).isEqualTo(1);

    clock.advance(Duration.ofMinutes(6)); // past exp + skew: the cache no longer vouches for it
    assertRefused(verifier, token, Reason.TOKEN_EXPIRED);
    assertThat(verifier.fullVerifications()).isEqualTo(2);
  }

  @Test
  void twoIssuersSideBySide() {
    DevIssuer humans = startIssuer();
    TokenVerifier both = verifier(gitlabConfig(gitlab),
        new IssuerConfig("login", humans.issuer(), List.of(AUDIENCE), List.of("RS256", "ES256"), null));

    assertThat(verified(both, gitlab.mint(Map.of())).issuer()).isEqualTo("gitlab");
    assertThat(verified(both, humans.mint(Map.of("sub", "alice"))).issuer()).isEqualTo("login");
    // signed by one issuer while claiming to be the other: that issuer does not publish the key
    assertRefused(both, humans.mint(Map.of("iss", gitlab.issuer().toString())), Reason.KEY_UNKNOWN);
  }

  @Test
  void warmUpFetchesEveryIssuer() throws Exception {
    DevIssuer second = startIssuer();
    TokenVerifier both = verifier(gitlabConfig(gitlab),
        new IssuerConfig("second", second.issuer(), List.of(AUDIENCE), List.of("RS256"), null));

    both.warmUp().get(10, TimeUnit.SECONDS);
    assertThat(gitlab.jwksFetches()).isEqualTo(1);
    assertThat(second.jwksFetches()).isEqualTo(1);

    verified(both, gitlab.mint(Map.of()));
    assertThat(gitlab.jwksFetches()).isEqualTo(1);
  }

  @Test
  void unsafeConfigurationIsRejectedAllAtOnce() {
    IdentityConfig config = IdentityConfig.of(List.of(
        new IssuerConfig("gitlab", URI.create("https://gitlab.example.com"), List.of(), List.of("HS256"), null),
        new IssuerConfig("gitlab", URI.create("https://other.example.com"), List.of(AUDIENCE), List.of("none"), null),
        new IssuerConfig("zero", URI.create("https://zero.example.com"), List.of(AUDIENCE), List.of("RS256"), null, Duration.ZERO),
        new IssuerConfig("year", URI.create("https://year.example.com"), List.of(AUDIENCE), List.of("RS256"), null, Duration.ofDays(365))));

    assertThatThrownBy(() -> TokenVerifier.create(config, clock, blocking))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("identity.issuers[gitlab].algorithms: HS256")
        .hasMessageContaining("identity.issuers[gitlab].audiences: []")
        .hasMessageContaining("identity.issuers[gitlab].name: gitlab (expected: unique)")
        .hasMessageContaining("identity.issuers[gitlab].algorithms: none")
        .hasMessageContaining("identity.issuers[zero].max_token_lifetime: PT0S")
        .hasMessageContaining("identity.issuers[year].max_token_lifetime: PT8760H");
  }

  // --- helpers ---

  private DevIssuer startIssuer() {
    DevIssuer issuer = DevIssuer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), AUDIENCE, clock);
    issuers.add(issuer);
    return issuer;
  }

  private static IssuerConfig gitlabConfig(DevIssuer issuer) {
    return new IssuerConfig("gitlab", issuer.issuer(), List.of(AUDIENCE), List.of("RS256"), null);
  }

  private TokenVerifier verifier(IssuerConfig... configs) {
    TokenVerifier created = TokenVerifier.create(IdentityConfig.of(List.of(configs)), clock, blocking);
    verifiers.add(created);
    return created;
  }

  private JWTClaimsSet defaultClaims() throws Exception {
    return SignedJWT.parse(gitlab.mint(Map.of())).getJWTClaimsSet();
  }

  private static JWSHeader rs256(String kid) {
    return new JWSHeader.Builder(JWSAlgorithm.RS256).type(JOSEObjectType.JWT).keyID(kid).build();
  }

  private static String sign(JWSHeader header, JWTClaimsSet claims, JWSSigner signer) throws Exception {
    SignedJWT jwt = new SignedJWT(header, claims);
    jwt.sign(signer);
    return jwt.serialize();
  }

  private static Caller verified(TokenVerifier verifier, String token) {
    try {
      return verifier.verify(token).get(10, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw new AssertionError("expected the token to verify, got " + e.getCause(), e.getCause());
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private static IdentityException assertRefused(TokenVerifier verifier, String token, Reason expected) {
    IdentityException refusal = refusalOf(verifier.verify(token));
    assertThat(refusal.kind()).as(refusal.toString()).isEqualTo(expected);
    assertThat(refusal.reason()).isEqualTo(expected.code());
    if (token.length() > 20) {
      assertThat(refusal.getMessage()).doesNotContain(token.substring(token.length() - 20));
    }
    return refusal;
  }

  private static IdentityException refusalOf(CompletableFuture<Caller> result) {
    try {
      Caller caller = result.get(10, TimeUnit.SECONDS);
      throw new AssertionError("expected a refusal, got a caller " + caller.issuer() + "/" + caller.subject());
    } catch (ExecutionException e) {
      assertThat(e.getCause()).isInstanceOf(IdentityException.class);
      return (IdentityException) e.getCause();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }
}

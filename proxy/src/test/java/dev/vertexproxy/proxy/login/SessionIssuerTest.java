package dev.vertexproxy.proxy.login;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jwt.SignedJWT;
import dev.vertexproxy.policy.Caller;
import dev.vertexproxy.proxy.config.IdentityConfig;
import dev.vertexproxy.proxy.config.IssuerConfig;
import dev.vertexproxy.proxy.config.SessionsConfig;
import dev.vertexproxy.proxy.identity.IdentityException;
import dev.vertexproxy.proxy.identity.KeyFetchEvents;
import dev.vertexproxy.proxy.identity.TokenVerifier;
import dev.vertexproxy.proxy.identity.VerifiedToken;
import dev.vertexproxy.proxy.login.SessionIssuer.IssuedToken;
import dev.vertexproxy.proxy.login.SessionIssuer.TokenUse;
import dev.vertexproxy.testing.MutableClock;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The proxy as an issuer: what its tokens carry, that the verifier turns them back into the upstream caller, that
 * revocation works at once (cached tokens included), and how keys rotate in a directory replicas share.
 */
class SessionIssuerTest {
  private static final String URL = "https://vertex-proxy.test";
  private final MutableClock clock = new MutableClock(Instant.now().truncatedTo(ChronoUnit.SECONDS));
  @TempDir
  Path dir;

  private SessionsConfig config(List<String> claims) {
    return new SessionsConfig(URI.create(URL + "/"), Duration.ofHours(8), Duration.ofHours(1), dir.resolve("keys"), null,
        "RS256", Duration.ofDays(30), claims, dir.resolve("keys/revocations.json"));
  }

  private TokenVerifier verifier(SessionIssuer issuer) {
    IssuerConfig humans = new IssuerConfig("humans", URI.create("https://idp.test"), List.of(), List.of("RS256"), null,
        false, Duration.ofHours(24), new IssuerConfig.Login("vertex-proxy", null, null, List.of("openid")));
    return TokenVerifier.create(IdentityConfig.of(List.of(humans)), clock, Runnable::run,
        KeyFetchEvents.NONE, issuer);
  }

  private static Caller alice() {
    return new Caller("humans", "alice", Map.of("email", "alice@example.com", "groups", List.of("ml-team"),
        "aud", "vertex-proxy", "nonce", "n-123", "iat", 1, "exp", 2));
  }

  @Test
  void aSessionCarriesTheUpstreamIdentityAndVerifiesAsTheSameCaller() throws Exception {
    SessionIssuer issuer = SessionIssuer.load(config(null), clock, 16384);
    IssuedToken t = issuer.mint(alice(), TokenUse.SESSION, "login", null);
    SignedJWT jwt = SignedJWT.parse(t.token());
    assertThat(jwt.getJWTClaimsSet().getIssuer()).isEqualTo(URL);
    assertThat(jwt.getJWTClaimsSet().getAudience()).containsExactly(URL);
    assertThat(jwt.getJWTClaimsSet().getClaims()).doesNotContainKeys("nonce").containsEntry("vp_issuer", "humans")
        .containsEntry("vp_use", "session").containsEntry("vp_via", "login");
    assertThat(t.expiresAt()).isEqualTo(clock.instant().plus(Duration.ofHours(8)));
    assertThat(t.toString()).doesNotContain(t.token());

    VerifiedToken v = verifier(issuer).verifyToken(t.token()).join();
    assertThat(v.proxyIssued()).isTrue();
    assertThat(v.caller().issuer()).isEqualTo("humans");
    assertThat(v.caller().subject()).isEqualTo("alice");
    assertThat(v.caller().claims()).containsEntry("email", "alice@example.com").containsEntry("groups", List.of("ml-team"))
        .doesNotContainKeys("iss", "aud", "vp_issuer", "nonce");
    assertThat(v.caller().claims().get(TokenVerifier.PROXY_SESSION))
        .isEqualTo(Map.of("id", t.id(), "use", "session", "via", "login"));
    assertThat(v.sessionId()).isEqualTo(t.id());
  }

  @Test
  void onlyTheConfiguredClaimsAreCarriedAndTheExpiryIsCappedBySubjectToken() throws Exception {
    SessionIssuer issuer = SessionIssuer.load(config(List.of("groups")), clock, 16384);
    Instant subjectExpiry = clock.instant().plus(Duration.ofMinutes(5));
    IssuedToken t = issuer.mint(alice(), TokenUse.ACCESS, "exchange", subjectExpiry);
    assertThat(SignedJWT.parse(t.token()).getJWTClaimsSet().getClaims()).containsKey("groups").doesNotContainKey("email");
    assertThat(t.expiresAt()).isEqualTo(subjectExpiry);
    assertThatThrownBy(() -> issuer.mint(alice(), TokenUse.ACCESS, "exchange", clock.instant().minusSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void revokingTheSubjectOrTheSessionRefusesItAtOnceEvenWhenCached() throws Exception {
    SessionIssuer issuer = SessionIssuer.load(config(null), clock, 16384);
    TokenVerifier verifier = verifier(issuer);
    IssuedToken a = issuer.mint(alice(), TokenUse.SESSION, "login", null);
    IssuedToken b = issuer.mint(alice(), TokenUse.SESSION, "device", null);
    verifier.verifyToken(a.token()).join(); // now cached
    issuer.revocations().revokeSession(a.id(), a.expiresAt());
    assertThat(reason(verifier, a.token())).isEqualTo(IdentityException.Reason.SESSION_REVOKED);
    assertThat(verifier.verifyToken(b.token()).join().caller().subject()).isEqualTo("alice");

    clock.advance(Duration.ofSeconds(1));
    issuer.revocations().revokeSubject("humans", "alice");
    assertThat(reason(verifier, b.token())).isEqualTo(IdentityException.Reason.SESSION_REVOKED);
    clock.advance(Duration.ofSeconds(1));
    IssuedToken later = issuer.mint(alice(), TokenUse.SESSION, "login", null);
    assertThat(verifier.verifyToken(later.token()).join().caller().subject()).as("a login after the revocation")
        .isEqualTo("alice");
  }

  @Test
  void anotherReplicaSeesTheRevocationFromTheSharedFile() throws Exception {
    SessionIssuer one = SessionIssuer.load(config(null), clock, 16384);
    SessionIssuer two = SessionIssuer.load(config(null), clock, 16384);
    IssuedToken t = one.mint(alice(), TokenUse.SESSION, "login", null);
    TokenVerifier atTwo = verifier(two);
    assertThat(atTwo.verifyToken(t.token()).join().caller().subject()).as("same keys from the shared dir").isEqualTo("alice");
    one.revocations().revokeSubject("humans", "alice");
    two.revocations().refresh();
    assertThat(reason(atTwo, t.token())).isEqualTo(IdentityException.Reason.SESSION_REVOKED);
    assertThat(Files.readString(dir.resolve("keys/revocations.json"))).contains("\"alice\"").doesNotContain(t.token());
  }

  @Test
  void keysRotateAfterTheIntervalAndTheOldOneStaysPublishedUntilItsTokensExpired() throws Exception {
    SessionIssuer issuer = SessionIssuer.load(config(null), clock, 16384);
    JWK first = issuer.keys().signingKey();
    assertThat(Files.getPosixFilePermissions(dir.resolve("keys/" + first.getKeyID() + ".jwk")))
        .isEqualTo(PosixFilePermissions.fromString("rw-------"));
    assertThat(Files.getPosixFilePermissions(dir.resolve("keys/secret"))).isEqualTo(PosixFilePermissions.fromString("rw-------"));
    IssuedToken old = issuer.mint(alice(), TokenUse.SESSION, "login", null);

    clock.advance(Duration.ofDays(30).minus(SigningKeys.ACTIVATION_DELAY).plusSeconds(1));
    issuer.keys().reload();
    assertThat(issuer.keys().publicKeys().getKeys()).hasSize(2);
    assertThat(issuer.keys().signingKey().getKeyID()).as("the next key is published before it signs").isEqualTo(first.getKeyID());

    clock.advance(SigningKeys.ACTIVATION_DELAY);
    issuer.keys().reload();
    assertThat(issuer.keys().signingKey().getKeyID()).isNotEqualTo(first.getKeyID());
    assertThat(issuer.keys().publicKeys().getKeyByKeyId(first.getKeyID())).as("old key still published").isNotNull();

    clock.advance(Duration.ofHours(8).plus(SigningKeys.ACTIVATION_DELAY).plusSeconds(1));
    issuer.keys().reload();
    assertThat(issuer.keys().publicKeys().getKeyByKeyId(first.getKeyID())).as("retired and past every token's life").isNull();
    assertThat(dir.resolve("keys/" + first.getKeyID() + ".jwk")).doesNotExist();
    assertThat(old.expiresAt()).isBefore(clock.instant());
  }

  @Test
  void secretsArePerPurposeAndTheSameOnEveryReplica() throws Exception {
    SessionIssuer one = SessionIssuer.load(config(null), clock, 16384);
    SessionIssuer two = SessionIssuer.load(config(null), clock, 16384);
    assertThat(one.secret("csrf")).hasSize(32).isEqualTo(two.secret("csrf")).isNotEqualTo(one.secret("login-state"));
  }

  @Test
  void aSessionLargerThanTheTokenBoundIsRefusedAtMint() throws Exception {
    SessionIssuer issuer = SessionIssuer.load(config(null), clock, 2048);
    Caller big = new Caller("humans", "bob", Map.of("groups", List.of("g".repeat(3000))));
    assertThatThrownBy(() -> issuer.mint(big, TokenUse.SESSION, "login", null)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("sessions.claims");
  }

  private static IdentityException.Reason reason(TokenVerifier v, String token) {
    try {
      v.verifyToken(token).join();
      throw new AssertionError("accepted");
    } catch (CompletionException e) {
      return ((IdentityException) e.getCause()).kind();
    }
  }
}

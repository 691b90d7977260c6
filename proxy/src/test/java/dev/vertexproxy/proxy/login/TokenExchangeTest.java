package dev.vertexproxy.proxy.login;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.vertexproxy.policy.Caller;
import dev.vertexproxy.proxy.config.IdentityConfig;
import dev.vertexproxy.proxy.config.IssuerConfig;
import dev.vertexproxy.proxy.config.SessionsConfig;
import dev.vertexproxy.proxy.identity.KeyFetchEvents;
import dev.vertexproxy.proxy.identity.TokenVerifier;
import dev.vertexproxy.proxy.login.SessionIssuer.TokenUse;
import dev.vertexproxy.proxy.reason.Reason;
import dev.vertexproxy.proxy.reserved.ReservedRequest;
import dev.vertexproxy.proxy.reserved.ReservedResponse;
import dev.vertexproxy.testing.MutableClock;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The token exchange on its own, with a real issuer and verifier and time injected: the minted token's lifetime is
 * the smaller of {@code access_token_lifetime} and what the subject has left, and an issuer whose keys cannot be
 * fetched is "try again" (503 {@code temporarily_unavailable}), never a refusal of the caller's credential.
 */
class TokenExchangeTest {
  private static final String URL = "https://vertex-proxy.test";
  private static final ObjectMapper JSON = new ObjectMapper();
  private final MutableClock clock = new MutableClock(Instant.now().truncatedTo(ChronoUnit.SECONDS));
  @TempDir
  Path dir;
  private SessionIssuer issuer;
  private TokenExchange exchange;

  @BeforeEach
  void start() throws Exception {
    SessionsConfig sessions = new SessionsConfig(URI.create(URL), Duration.ofHours(8), Duration.ofHours(1),
        dir.resolve("keys"), null, "RS256", Duration.ofDays(30), null, dir.resolve("keys/revocations.json"));
    issuer = SessionIssuer.load(sessions, clock, 16384);
    // an issuer whose keys are nowhere to be had: nothing listens on port 1
    IssuerConfig gitlab = new IssuerConfig("gitlab", URI.create("https://gitlab.test"), List.of(URL), List.of("RS256"),
        URI.create("http://127.0.0.1:1/jwks"), false, Duration.ofHours(24), null);
    TokenVerifier verifier = TokenVerifier.create(IdentityConfig.of(List.of(gitlab)), clock, Runnable::run,
        KeyFetchEvents.NONE, issuer);
    exchange = new TokenExchange(issuer, verifier, Runnable::run, clock);
  }

  private ReservedResponse post(String subject) {
    Map<String, String> form = new LinkedHashMap<>();
    form.put("grant_type", TokenExchange.GRANT_TYPE);
    form.put("subject_token_type", TokenExchange.JWT);
    form.put("subject_token", subject);
    form.put("audience", URL);
    String body = form.entrySet().stream().map(e -> e.getKey() + "=" + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
        .collect(Collectors.joining("&"));
    HttpHeaders headers = new DefaultHttpHeaders().set("Content-Type", "application/x-www-form-urlencoded");
    return exchange.handle(new ReservedRequest("r-1", HttpMethod.POST, TokenExchange.PATH, Map.of(), headers,
        body.getBytes(StandardCharsets.UTF_8), "127.0.0.1", clock.instant())).toCompletableFuture().join();
  }

  private static JsonNode json(ReservedResponse r) throws Exception {
    return JSON.readTree(r.body());
  }

  private static Caller alice() {
    return new Caller("gitlab", "alice", Map.of("project_path", "acme/ml"));
  }

  @Test
  void theAccessTokenLivesAccessTokenLifetimeOrWhatTheSubjectHasLeftWhicheverIsShorter() throws Exception {
    String longSession = issuer.mint(alice(), TokenUse.SESSION, "login", null).token();
    ReservedResponse r = post(longSession);
    assertThat(r.status()).isEqualTo(200);
    assertThat(json(r).path("expires_in").asLong()).isEqualTo(3600);
    assertThat(r.reason()).isEqualTo(Reason.SERVED);
    assertThat(r.auditMethod()).isEqualTo("proxy.tokenExchange");
    assertThat(r.caller().subject()).isEqualTo("alice");

    String shortSession = issuer.mint(alice(), TokenUse.SESSION, "login", clock.instant().plusSeconds(600)).token();
    clock.advance(Duration.ofSeconds(100));
    ReservedResponse capped = post(shortSession);
    assertThat(json(capped).path("expires_in").asLong()).isEqualTo(500);
    SignedJWT minted = SignedJWT.parse(json(capped).path("access_token").asText());
    assertThat(minted.getJWTClaimsSet().getExpirationTime().toInstant()).isEqualTo(clock.instant().plusSeconds(500));
    assertThat(minted.getJWTClaimsSet().getClaim("vp_use")).isEqualTo("access");
    assertThat(minted.getJWTClaimsSet().getClaim("vp_via")).isEqualTo("exchange");
    assertThat(minted.getJWTClaimsSet().getClaim("project_path")).isEqualTo("acme/ml");
    assertThat(minted.getJWTClaimsSet().getClaims()).doesNotContainKey("proxy_session");
  }

  @Test
  void anIssuerWhoseKeysCannotBeFetchedIsTryAgainNotARefusal() throws Exception {
    RSAKey key = new RSAKeyGenerator(2048).keyID("k1").generate();
    SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("k1").build(),
        new JWTClaimsSet.Builder().issuer("https://gitlab.test").audience(URL).subject("job")
            .issueTime(Date.from(clock.instant())).expirationTime(Date.from(clock.instant().plusSeconds(600))).build());
    jwt.sign(new RSASSASigner(key));
    ReservedResponse r = post(jwt.serialize());
    assertThat(r.status()).isEqualTo(503);
    assertThat(json(r).path("error").asText()).isEqualTo("temporarily_unavailable");
    assertThat(r.reason().kind()).isEqualTo(Reason.Kind.UNAVAILABLE);
    assertThat(r.caller()).isNull();
    assertThat(new String(r.body(), StandardCharsets.UTF_8)).doesNotContain(jwt.serialize());
  }
}

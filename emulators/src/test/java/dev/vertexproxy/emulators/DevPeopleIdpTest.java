package dev.vertexproxy.emulators;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jwt.SignedJWT;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The dev identity provider for people: the authorization code flow with PKCE, as the proxy's login drives it. */
class DevPeopleIdpTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();
  private DevIssuer issuer;

  @BeforeEach
  void start() {
    issuer = DevIssuer.start(new InetSocketAddress("127.0.0.1", 0), "aud");
  }

  @AfterEach
  void stop() {
    issuer.close();
  }

  private static String s256(String v) throws Exception {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(
        MessageDigest.getInstance("SHA-256").digest(v.getBytes(StandardCharsets.US_ASCII)));
  }

  private String authorize(String loginHint, String verifier) throws Exception {
    String q = "response_type=code&client_id=vp&redirect_uri=" + URLEncoder.encode("http://127.0.0.1:1/cb", StandardCharsets.UTF_8)
        + "&state=st&nonce=n-1&code_challenge=" + s256(verifier) + "&code_challenge_method=S256&login_hint=" + loginHint;
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(issuer.peopleIssuer() + "/authorize?" + q)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(302);
    String location = r.headers().firstValue("Location").orElseThrow();
    assertThat(location).startsWith("http://127.0.0.1:1/cb?code=").contains("&state=st");
    return location.replaceAll(".*code=([^&]+).*", "$1");
  }

  private HttpResponse<String> token(String code, String verifier) throws Exception {
    String body = "grant_type=authorization_code&code=" + code + "&client_id=vp&code_verifier=" + verifier
        + "&redirect_uri=" + URLEncoder.encode("http://127.0.0.1:1/cb", StandardCharsets.UTF_8);
    return http.send(HttpRequest.newBuilder(URI.create(issuer.peopleIssuer() + "/token"))
        .header("Content-Type", "application/x-www-form-urlencoded").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void aCodeForTheRightVerifierBecomesAnIdTokenWithTheNonceAndGroupsOnce() throws Exception {
    URI discoveryUrl = URI.create(issuer.peopleIssuer() + "/.well-known/openid-configuration");
    JsonNode discovery = JSON.readTree(http.send(HttpRequest.newBuilder(discoveryUrl).build(),
        HttpResponse.BodyHandlers.ofString()).body());
    assertThat(discovery.path("issuer").asText()).isEqualTo(issuer.peopleIssuer().toString())
        .isNotEqualTo(issuer.issuer().toString());

    String code = authorize("alice@example.com", "v".repeat(43));
    HttpResponse<String> r = token(code, "v".repeat(43));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    Map<String, Object> claims = SignedJWT.parse(JSON.readTree(r.body()).path("id_token").asText()).getJWTClaimsSet().getClaims();
    assertThat(claims).containsEntry("nonce", "n-1").containsEntry("sub", "alice@example.com")
        .containsEntry("groups", List.of("ml-team")).containsEntry("iss", issuer.peopleIssuer().toString());

    assertThat(token(code, "v".repeat(43)).body()).as("replayed").contains("invalid_grant");
  }

  @Test
  void aWrongVerifierIsRefused() throws Exception {
    String code = authorize("bob@example.com", "a".repeat(43));
    assertThat(token(code, "b".repeat(43)).body()).contains("invalid_grant");
  }
}

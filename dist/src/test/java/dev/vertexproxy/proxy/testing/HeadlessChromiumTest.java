package dev.vertexproxy.proxy.testing;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import no.nav.security.mock.oauth2.MockOAuth2Server;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;

/**
 * The browser harness itself, before anything of the proxy's leans on it: Debian's Chromium, headless and started
 * through the system driver, loads a page from a loopback server, and follows a redirect to the mock identity
 * provider and back with a code, through the provider's login form too. If one of these fails, the browser login
 * tests' failures say nothing about the proxy.
 */
class HeadlessChromiumTest {
  private static final String ISSUER_ID = "humans";
  private final Map<String, Map<String, String>> callbacks = new ConcurrentHashMap<>();
  private HttpServer site;
  private MockOAuth2Server idp;
  private String siteUrl;

  @BeforeEach
  void start() throws IOException {
    idp = new MockOAuth2Server();
    idp.start(InetAddress.getLoopbackAddress(), 0);
    site = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    site.createContext("/hello", ex -> respond(ex, 200, "<html><body><p id=\"greeting\">hello from loopback</p></body></html>"));
    site.createContext("/cb", ex -> {
      callbacks.put("last", query(ex.getRequestURI().getRawQuery()));
      respond(ex, 200, "<html><body><p id=\"done\">back at the site</p></body></html>");
    });
    site.start();
    siteUrl = "http://127.0.0.1:" + site.getAddress().getPort();
  }

  @AfterEach
  void stop() {
    if (site != null) {
      site.stop(0);
    }
    if (idp != null) {
      idp.shutdown();
    }
  }

  @Test
  void loadsAPageFromALoopbackServer() throws IOException {
    try (HeadlessChromium chromium = HeadlessChromium.start()) {
      chromium.open(siteUrl + "/hello");
      assertThat(chromium.await("#greeting").getText()).isEqualTo("hello from loopback");
    }
  }

  @Test
  void followsARedirectToTheIdentityProviderAndBackWithACode() throws Exception {
    String verifier = "a-verifier-long-enough-for-rfc-7636-and-then-some-0123456789";
    try (HeadlessChromium chromium = HeadlessChromium.start()) {
      chromium.open(authorizeUrl("state-1", "nonce-1", verifier, false));
      chromium.awaitUrlStartingWith(siteUrl + "/cb");
      assertThat(chromium.await("#done").getText()).isEqualTo("back at the site");
    }
    Map<String, String> back = callbacks.get("last");
    assertThat(back).containsEntry("state", "state-1").containsKey("code");
    SignedJWT idToken = SignedJWT.parse(redeem(back.get("code"), verifier));
    assertThat(idToken.getJWTClaimsSet().getStringClaim("nonce")).isEqualTo("nonce-1");
    assertThat(idToken.getJWTClaimsSet().getAudience()).containsExactly("vertex-proxy");
  }

  @Test
  void theLoginFormIssuesTheClaimsTypedIntoIt() throws Exception {
    String verifier = "another-verifier-long-enough-for-rfc-7636-0123456789abcdef";
    try (HeadlessChromium chromium = HeadlessChromium.start()) {
      chromium.open(authorizeUrl("state-2", "nonce-2", verifier, true));
      chromium.await("input[name=username]").sendKeys("alice");
      chromium.driver().findElement(By.name("claims"))
          .sendKeys("{\"groups\":[\"ml-team\"],\"email\":\"alice@example.com\"}");
      chromium.driver().findElement(By.cssSelector("input[type=submit]")).click();
      chromium.awaitUrlStartingWith(siteUrl + "/cb");
    }
    Map<String, String> back = callbacks.get("last");
    assertThat(back).containsEntry("state", "state-2");
    SignedJWT idToken = SignedJWT.parse(redeem(back.get("code"), verifier));
    assertThat(idToken.getJWTClaimsSet().getSubject()).isEqualTo("alice");
    assertThat(idToken.getJWTClaimsSet().getStringListClaim("groups")).containsExactly("ml-team");
    assertThat(idToken.getJWTClaimsSet().getStringClaim("email")).isEqualTo("alice@example.com");
  }

  private String authorizeUrl(String state, String nonce, String verifier, boolean prompt) throws NoSuchAlgorithmException {
    Map<String, String> q = new LinkedHashMap<>();
    q.put("response_type", "code");
    q.put("client_id", "vertex-proxy");
    q.put("redirect_uri", siteUrl + "/cb");
    q.put("scope", "openid email");
    q.put("state", state);
    q.put("nonce", nonce);
    q.put("code_challenge", challenge(verifier));
    q.put("code_challenge_method", "S256");
    if (prompt) {
      q.put("prompt", "login");
    }
    return idp.authorizationEndpointUrl(ISSUER_ID) + "?" + form(q);
  }

  private String redeem(String code, String verifier) throws IOException, InterruptedException {
    Map<String, String> f = new LinkedHashMap<>();
    f.put("grant_type", "authorization_code");
    f.put("code", code);
    f.put("redirect_uri", siteUrl + "/cb");
    f.put("client_id", "vertex-proxy");
    f.put("client_secret", "not-checked-by-the-mock");
    f.put("code_verifier", verifier);
    HttpResponse<String> r = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create(idp.tokenEndpointUrl(ISSUER_ID).toString()))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .POST(HttpRequest.BodyPublishers.ofString(form(f))).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return new ObjectMapper().readTree(r.body()).get("id_token").asText();
  }

  private static String challenge(String verifier) throws NoSuchAlgorithmException {
    byte[] digest = MessageDigest.getInstance("SHA-256").digest(verifier.getBytes(StandardCharsets.US_ASCII));
    return Base64.getUrlEncoder().withoutPadding().encodeToString(digest);
  }

  private static String form(Map<String, String> fields) {
    return fields.entrySet().stream()
        .map(e -> URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8) + "=" + URLEncoder.encode(e.getValue(),
            StandardCharsets.UTF_8))
        .collect(Collectors.joining("&"));
  }

  private static Map<String, String> query(String raw) {
    Map<String, String> out = new LinkedHashMap<>();
    for (String pair : raw == null ? List.<String>of() : List.of(raw.split("&"))) {
      int eq = pair.indexOf('=');
      out.put(URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
          URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
    }
    return out;
  }

  private static void respond(HttpExchange ex, int status, String html) throws IOException {
    byte[] body = html.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "text/html; charset=utf-8");
    ex.sendResponseHeaders(status, body.length);
    ex.getResponseBody().write(body);
    ex.close();
  }
}

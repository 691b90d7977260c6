package dev.vertexproxy.proxy.login;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class BrowserLoginTest {
  private static final URI ISSUER = URI.create("https://idp.example.com/realms/acme");

  @Test
  void onlyPlainPathsUnderTheProxysPrefixAreLandedOn() {
    assertThat(BrowserLogin.safeNext("/_proxy/device/approve")).isEqualTo("/_proxy/device/approve");
    assertThat(BrowserLogin.safeNext("/_proxy/")).isEqualTo("/_proxy/");
    assertThat(BrowserLogin.safeNext("/_proxy/device?user_code=ABCD-EFGH")).isEqualTo("/_proxy/device?user_code=ABCD-EFGH");
    for (String bad : Arrays.asList(null, "", "/", "https://evil.example/_proxy/", "//evil.example/_proxy/",
        "/_proxy//evil.example", "/_proxy/\\evil.example", "/_proxy/../v1/projects", "/_proxy/./x", "/_proxy/x/..",
        "/_proxy/x?next=https://evil", "/_proxy/x?a=b#frag", "/_proxy/x#frag", "/_proxy/x?a=<b>", "/_proxy/%2e%2e/x", "/_proxy/x\r\nSet-Cookie: a=b",
        "/_proxyx", "/_proxy/" + "a".repeat(600))) {
      assertThat(BrowserLogin.safeNext(bad)).as(String.valueOf(bad)).isEqualTo(BrowserLogin.HOME);
    }
  }

  private static byte[] doc(String json) {
    return json.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void aDiscoveryDocumentIsReadForItsEndpointsAndClientAuthentication() throws IOException {
    ProviderMetadata m = ProviderMetadata.parse(ISSUER, doc("""
        {"issuer":"https://idp.example.com/realms/acme",
         "authorization_endpoint":"https://idp.example.com/auth?tenant=1",
         "token_endpoint":"https://idp.example.com/token",
         "code_challenge_methods_supported":["plain","S256"],
         "token_endpoint_auth_methods_supported":["client_secret_post"]}"""));
    assertThat(m.authorizationEndpoint()).hasToString("https://idp.example.com/auth?tenant=1");
    assertThat(m.tokenEndpoint()).hasToString("https://idp.example.com/token");
    assertThat(m.basicAuth()).isFalse();
    assertThat(ProviderMetadata.parse(ISSUER, doc("""
        {"issuer":"https://idp.example.com/realms/acme","authorization_endpoint":"https://idp.example.com/a",
         "token_endpoint":"https://idp.example.com/t"}""")).basicAuth()).as("OIDC's default").isTrue();
  }

  @Test
  void aDiscoveryDocumentForAnotherIssuerWithoutPkceOrWithPlainEndpointsIsRefused() {
    String ok = "\"authorization_endpoint\":\"https://idp.example.com/a\",\"token_endpoint\":\"https://idp.example.com/t\"";
    for (String bad : List.of(
        "{\"issuer\":\"https://idp.example.com/realms/other\"," + ok + "}",
        "{\"issuer\":\"https://idp.example.com/realms/acme\",\"code_challenge_methods_supported\":[\"plain\"]," + ok + "}",
        "{\"issuer\":\"https://idp.example.com/realms/acme\",\"authorization_endpoint\":\"http://idp.example.com/a\","
            + "\"token_endpoint\":\"https://idp.example.com/t\"}",
        "{\"issuer\":\"https://idp.example.com/realms/acme\",\"authorization_endpoint\":\"/relative\","
            + "\"token_endpoint\":\"https://idp.example.com/t\"}",
        "{\"issuer\":\"https://idp.example.com/realms/acme\"}",
        "[]", "not json")) {
      assertThatThrownBy(() -> ProviderMetadata.parse(ISSUER, doc(bad))).as(bad).isInstanceOf(IOException.class);
    }
  }

  @Test
  void theScopesAlwaysStartWithOpenid() {
    assertThat(ProviderMetadata.scopes(List.of("email", "openid", "groups"))).containsExactly("openid", "email", "groups");
    assertThat(ProviderMetadata.scopes(List.of())).containsExactly("openid");
  }

  @Test
  void anOauthErrorIsShownOnlyWhenItIsAPlainCode() {
    assertThat(BrowserLoginCallback.oauthError("access_denied")).isEqualTo("access_denied");
    assertThat(BrowserLoginCallback.oauthError("<script>")).isEqualTo("<script>"); // escaped by the page, still ASCII
    assertThat(BrowserLoginCallback.oauthError("bad\nline")).isEqualTo("error");
    assertThat(BrowserLoginCallback.oauthError("x".repeat(100))).isEqualTo("error");
    assertThat(BrowserLoginCallback.oauthError(null)).isEqualTo("error");
  }

  @Test
  void csrfTokensAreStablePerSessionAndDifferAcrossSessionsAndKeys() {
    byte[] key = new byte[32];
    byte[] other = new byte[32];
    other[0] = 1;
    String t = Csrf.token(key, "session-1");
    assertThat(Csrf.token(key, "session-1")).isEqualTo(t);
    assertThat(Csrf.check(key, "session-1", t)).isTrue();
    assertThat(Csrf.check(key, "session-2", t)).isFalse();
    assertThat(Csrf.check(other, "session-1", t)).isFalse();
    assertThat(Csrf.check(key, "session-1", null)).isFalse();
    assertThat(Csrf.check(key, "session-1", "")).isFalse();
    assertThat(Csrf.check(key, null, t)).isFalse();
  }
}

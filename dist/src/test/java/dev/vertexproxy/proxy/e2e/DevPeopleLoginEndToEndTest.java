package dev.vertexproxy.proxy.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.CookieManager;
import java.net.CookiePolicy;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * What {@code scripts/dev} prints for people, done by an HTTP client with a cookie jar: the page sends the person to
 * the dev identity provider and back, shows who they are and the rule that lets ml-team prompt Gemini, and the token
 * on the page calls Vertex through the proxy; a person outside the group gets 403 with the reason. The audit record
 * names the person.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DevPeopleLoginEndToEndTest {
  private static final Pattern HIDDEN = Pattern.compile("<input type=\"hidden\" name=\"([^\"]+)\" value=\"([^\"]*)\">");
  private static final Pattern TOKEN = Pattern.compile("<textarea id=\"token\"[^>]*>([^<]+)</textarea>");
  private Path tmp;
  private DevStack stack;

  @BeforeAll
  void start() throws Exception {
    tmp = Files.createTempDirectory("dev-people-login-test");
    stack = DevStack.start(tmp, null);
    stack.awaitReady();
  }

  @AfterAll
  void stop() {
    stack.dev.close();
  }

  /** Logs in through the page as {@code email} in {@code groups}, returns the page's HTML. */
  private String logIn(HttpClient browser, String email, String groups) throws Exception {
    URI at = URI.create((String) stack.dev.info().get("people_url"));
    HttpResponse<String> r = browser.send(HttpRequest.newBuilder(at).build(), HttpResponse.BodyHandlers.ofString());
    for (int hops = 0; r.statusCode() / 100 == 3 && hops < 5; hops++) {
      at = at.resolve(r.headers().firstValue("Location").orElseThrow());
      r = browser.send(HttpRequest.newBuilder(at).build(), HttpResponse.BodyHandlers.ofString());
    }
    assertThat(at.toString()).as("at the dev identity provider").startsWith((String) stack.dev.info().get("people_issuer"));
    assertThat(r.statusCode()).isEqualTo(200);
    Map<String, String> form = new LinkedHashMap<>();
    Matcher m = HIDDEN.matcher(r.body());
    while (m.find()) {
      form.put(m.group(1), m.group(2).replace("&amp;", "&").replace("&quot;", "\"").replace("&#39;", "'"));
    }
    form.put("email", email);
    form.put("groups", groups);
    StringBuilder body = new StringBuilder();
    form.forEach((k, v) -> body.append(body.length() == 0 ? "" : "&").append(URLEncoder.encode(k, StandardCharsets.UTF_8))
        .append('=').append(URLEncoder.encode(v, StandardCharsets.UTF_8)));
    at = at.resolve("/people/authorize");
    r = browser.send(HttpRequest.newBuilder(at).header("Content-Type", "application/x-www-form-urlencoded")
        .POST(HttpRequest.BodyPublishers.ofString(body.toString())).build(), HttpResponse.BodyHandlers.ofString());
    for (int hops = 0; r.statusCode() / 100 == 3 && hops < 5; hops++) {
      at = at.resolve(r.headers().firstValue("Location").orElseThrow());
      r = browser.send(HttpRequest.newBuilder(at).build(), HttpResponse.BodyHandlers.ofString());
    }
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(at.getPath()).isEqualTo("/_proxy/");
    return r.body();
  }

  private static HttpClient browser() {
    return HttpClient.newBuilder().cookieHandler(new CookieManager(null, CookiePolicy.ACCEPT_ALL))
        .followRedirects(HttpClient.Redirect.NEVER).connectTimeout(Duration.ofSeconds(5)).build();
  }

  private static String token(String page) {
    Matcher m = TOKEN.matcher(page);
    assertThat(m.find()).as("the page shows the token").isTrue();
    return m.group(1).trim();
  }

  @Test
  void aPersonInTheGroupLogsInSeesTheRuleAndCallsGeminiWithTheTokenFromThePage() throws Exception {
    String page = logIn(browser(), "alice@example.com", "ml-team");
    assertThat(page).contains("alice@example.com", "humans", "ml-team-gemini", "publishers.models.generateContent");
    HttpResponse<String> call = stack.post(stack.examplePath(), "Bearer " + token(page), DevStack.BODY);
    assertThat(call.statusCode()).as(call.body()).isEqualTo(200);
    String id = call.headers().firstValue("x-vertex-proxy-request-id").orElseThrow();
    List<JsonNode> records = stack.awaitAudit(List.of(id));
    assertThat(records).hasSize(1);
    JsonNode caller = records.get(0).path("caller");
    assertThat(caller.path("issuer").asText()).isEqualTo("humans");
    assertThat(caller.path("subject").asText()).isEqualTo("alice@example.com");
    assertThat(caller.path("claims").path("proxy_session").path("via").asText()).isEqualTo("login");
    assertThat(records.get(0).path("rule").asText()).isEqualTo("ml-team-gemini");
  }

  @Test
  void aPersonOutsideTheGroupIsRefusedWithTheReason() throws Exception {
    String page = logIn(browser(), "bob@example.com", "finance");
    HttpResponse<String> call = stack.post(stack.examplePath(), "Bearer " + token(page), DevStack.BODY);
    assertThat(call.statusCode()).isEqualTo(403);
    assertThat(call.body()).contains("PERMISSION_DENIED", "identity-not-matched");
  }
}

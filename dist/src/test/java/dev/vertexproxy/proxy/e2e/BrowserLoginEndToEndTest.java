package dev.vertexproxy.proxy.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vertexproxy.dev.DevMode;
import dev.vertexproxy.proxy.testing.HeadlessChromium;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;

/**
 * A person's first call, as they would make it: headless Chromium opens the proxy's page, is sent to the company IdP
 * (mock-oauth2-server's login form, where the person types who they are and their {@code groups}), comes back logged
 * in, sees their identity and the methods the policy allows them, copies the token with the page's button, and
 * calls Gemini through the proxy with it — allowed by the rule on {@code groups: ml-team}, answered by the Vertex
 * emulator. Someone outside the group gets the page too, and a 403 with the reason for the same call.
 */
class BrowserLoginEndToEndTest {
  @TempDir
  static Path dir;
  static BrowserLoginStack login;

  @BeforeAll
  static void start() throws Exception {
    login = BrowserLoginStack.start(dir);
  }

  @AfterAll
  static void stop() {
    if (login != null) {
      login.close();
    }
  }

  /** Logs in through the IdP's form in the browser and lands on the page; returns the copied token. */
  private static String logInAndCopyToken(HeadlessChromium chromium, String user, List<String> groups)
      throws IOException {
    try {
      return logInAndCopyTokenSteps(chromium, user, groups);
    } catch (RuntimeException | AssertionError e) {
      // what the browser showed when it went wrong, for whoever reads the failure
      Path shot = Path.of("target", "BrowserLoginEndToEndTest-" + user + ".png");
      chromium.screenshot(shot);
      e.addSuppressed(new IllegalStateException("the browser was at " + chromium.currentUrl() + "; screenshot " + shot));
      throw e;
    }
  }

  private static String logInAndCopyTokenSteps(HeadlessChromium chromium, String user, List<String> groups) {
    chromium.open(login.proxyUrl + "/_proxy/");
    chromium.await("input[name=username]").sendKeys(user);
    chromium.driver().findElement(By.name("claims")).sendKeys(BrowserLoginStack.claims(user, groups));
    chromium.driver().findElement(By.cssSelector("input[type=submit]")).click();
    chromium.awaitUrlStartingWith(login.proxyUrl + "/_proxy/");
    chromium.await("#identity");
    assertThat(chromium.currentUrl()).isEqualTo(login.proxyUrl + "/_proxy/");
    assertThat(chromium.driver().findElement(By.id("subject")).getText()).isEqualTo(user);
    assertThat(chromium.driver().findElement(By.id("issuer")).getText()).isEqualTo(BrowserLoginStack.ISSUER_NAME);

    chromium.driver().findElement(By.id("copy-token")).click();
    WebElement field = chromium.driver().findElement(By.id("token"));
    assertThat(field.getAttribute("readonly")).isNotNull();
    String status = chromium.await("#copy-status:not(:empty)").getText();
    assertThat(status).as("the page script ran under the CSP").isNotBlank();
    String token = field.getAttribute("value");
    assertThat(token).matches("[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+");
    // what the button selected is the whole token: the browser's selection, read back
    Object selected = chromium.driver().executeScript(
        "var f = document.getElementById('token'); return f.value.substring(f.selectionStart, f.selectionEnd);");
    assertThat(selected).isEqualTo(token);
    return token;
  }

  @Test
  void aPersonInTheGroupLogsInSeesWhatTheyMayCallCopiesTheTokenAndCallsGemini() throws Exception {
    try (HeadlessChromium chromium = HeadlessChromium.start()) {
      String token = logInAndCopyToken(chromium, "alice", List.of("ml-team", "staff"));
      WebElement rule = chromium.driver().findElement(By.cssSelector("article.rule.allow[data-rule='ml-team-gemini']"));
      assertThat(rule.getText()).contains("publishers.models.generateContent", DevMode.PROJECT, DevMode.LOCATION,
          DevMode.SERVICE_ACCOUNT);
      assertThat(chromium.driver().findElement(By.cssSelector("tr[data-claim='groups']")).getText())
          .contains("ml-team");
      assertThat(chromium.driver().findElements(By.cssSelector("article.rule.deny"))).isEmpty();

      HttpResponse<String> r = login.stack.post(login.examplePath(), "Bearer " + token, DevStack.BODY);
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      assertThat(DevStack.JSON.readTree(r.body()).at("/candidates/0/content/parts/0/text").asText())
          .contains("Hello, Vertex");
      String id = r.headers().firstValue("x-vertex-proxy-request-id").orElseThrow();
      JsonNode record = login.audit(List.of(id)).get(0);
      assertThat(record.get("rule").asText()).isEqualTo("ml-team-gemini");
      assertThat(record.at("/caller/issuer").asText()).isEqualTo(BrowserLoginStack.ISSUER_NAME);
      assertThat(record.at("/caller/subject").asText()).isEqualTo("alice");
      assertThat(record.get("google_principal").asText()).isEqualTo(DevMode.SERVICE_ACCOUNT);

      // the call shows up under "my recent requests" on the page
      chromium.open(login.proxyUrl + "/_proxy/");
      assertThat(chromium.await("#recent-requests").getText()).contains("publishers.models.generateContent", id, "allow");
      // kept beside the test reports: what the page looks like to a person
      chromium.screenshot(Path.of("target", "BrowserLoginEndToEndTest-page.png"));
    }
  }

  @Test
  void aPersonOutsideTheGroupIsShownNoAccessAndGets403WithTheReason() throws Exception {
    String token;
    try (HeadlessChromium chromium = HeadlessChromium.start()) {
      token = logInAndCopyToken(chromium, "bob", List.of("finance"));
      assertThat(chromium.driver().findElement(By.id("no-access")).getText()).contains("No rule allows");
      assertThat(chromium.driver().findElements(By.cssSelector("article.rule.allow"))).isEmpty();
    }
    HttpResponse<String> r = login.stack.post(login.examplePath(), "Bearer " + token, DevStack.BODY);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(403);
    JsonNode error = DevStack.JSON.readTree(r.body()).get("error");
    assertThat(error.get("status").asText()).isEqualTo("PERMISSION_DENIED");
    assertThat(error.at("/details/0/reason").asText()).isEqualTo("identity-not-matched");
  }
}

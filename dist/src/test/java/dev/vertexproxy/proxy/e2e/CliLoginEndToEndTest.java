package dev.vertexproxy.proxy.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vertexproxy.dev.DevMode;
import dev.vertexproxy.proxy.audit.AuditVerifier;
import dev.vertexproxy.proxy.cli.Main;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import no.nav.security.mock.oauth2.MockOAuth2Server;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The CLI's login against the real proxy and the real IdP (mock-oauth2-server), without a browser: the test plays the
 * person with a plain HTTP client — a cookie jar, the proxy's browser login, the IdP's login form — while the real
 * {@code vertex-proxy login --device} runs as its own process, polls, and stores its session with mode 0600. Then
 * {@code vertex-proxy token} hands that session to a Vertex call the policy allows for the person's group, and
 * {@code vertex-proxy logout} ends it at the proxy. The loopback flow's server side is driven the same way, the test
 * being the CLI (its listener is unit-tested).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CliLoginEndToEndTest {
  private static final String POLICY = """
      version: 1
      rules:
        - name: ml-team-gemini
          effect: allow
          identity:
            issuer: humans
            claims:
              groups: ml-team
          methods: [publishers.models.generateContent]
          resources:
            projects: [%s]
            locations: [%s]
          service_account: %s
      """.formatted(DevMode.PROJECT, DevMode.LOCATION, DevMode.SERVICE_ACCOUNT);
  private static final Pattern USER_CODE = Pattern.compile("enter the code\\s+([A-Z]{4}-[A-Z]{4})");

  private Path tmp;
  private MockOAuth2Server idp;
  private DevStack stack;
  private String proxyUrl;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5))
      .followRedirects(HttpClient.Redirect.NEVER).version(HttpClient.Version.HTTP_1_1).build();

  @BeforeAll
  void start() throws Exception {
    tmp = Files.createTempDirectory("cli-login-test");
    idp = new MockOAuth2Server();
    idp.start(InetAddress.getLoopbackAddress(), 0);
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort(); // sessions.issuer, the base of verification_uri, must be known before the start
    }
    proxyUrl = "http://127.0.0.1:" + port;
    Path secret = tmp.resolve("client-secret.txt");
    Files.writeString(secret, "cli-login-test-secret\n");
    Path policy = tmp.resolve("policy.yaml");
    Files.writeString(policy, POLICY);
    Path extra = tmp.resolve("extra.yaml");
    Files.writeString(extra, """
        sessions:
          issuer: %s
          signing_keys_dir: %s
          claims: [email, groups]
        identity:
          issuers:
            - name: humans
              issuer: %s
              login: { client_id: vertex-proxy, client_secret_file: %s, scopes: [openid, email] }
        """.formatted(proxyUrl, tmp.resolve("keys"), idp.issuerUrl("humans"), secret));
    stack = new DevStack(DevMode.start(new DevMode.Options(tmp.resolve("state"), "127.0.0.1", port, 0, policy, extra)));
    stack.awaitReady();
  }

  @AfterAll
  void stop() throws Exception {
    stack.dev.close();
    idp.shutdown();
    AuditVerifier.VerifyResult verified = AuditVerifier.verify(stack.auditDir());
    assertThat(verified.ok()).as("audit chain: %s", verified.firstProblem()).isTrue();
  }

  @Test
  void loginDeviceCompletesThroughTheIdpStoresA0600SessionThatCallsVertexAndLogoutEndsIt() throws Exception {
    Path config = tmp.resolve("device-person/config");
    Process login = cli(config, "login", "--device", "--proxy", proxyUrl);
    BufferedReader err = new BufferedReader(new InputStreamReader(login.getErrorStream(), StandardCharsets.UTF_8));
    List<String> said = new ArrayList<>();
    String userCode = null;
    while (userCode == null) {
      String line = err.readLine();
      if (line == null) {
        break;
      }
      said.add(line);
      Matcher m = USER_CODE.matcher(line);
      userCode = m.find() ? m.group(1) : null;
    }
    assertThat(userCode).as("what the CLI said: %s", said).isNotNull();
    assertThat(String.join("\n", said)).contains(proxyUrl + "/_proxy/device");

    // the person, in some browser: the page with the code filled in, the login at the IdP, back, approve
    Jar jar = new Jar();
    HttpResponse<String> page = jar.get(proxyUrl + "/_proxy/device?user_code=" + userCode);
    assertThat(page.statusCode()).isEqualTo(302);
    page = signIn(jar, page, "alice", List.of("ml-team"));
    assertThat(page.statusCode()).as(page.body()).isEqualTo(200);
    assertThat(page.body()).contains("value=\"" + userCode + "\"");
    HttpResponse<String> confirm = jar.post(proxyUrl + "/_proxy/device",
        Map.of("csrf", field(page, "csrf"), "user_code", userCode));
    assertThat(confirm.statusCode()).as(confirm.body()).isEqualTo(200);
    assertThat(confirm.body()).contains("alice@example.com").contains("127.0.0.1");
    HttpResponse<String> noCsrf = jar.post(proxyUrl + "/_proxy/device/confirm",
        Map.of("user_code", userCode, "decision", "approve"));
    assertThat(noCsrf.statusCode()).as("approval without the CSRF token").isEqualTo(403);
    HttpResponse<String> approved = jar.post(proxyUrl + "/_proxy/device/confirm",
        Map.of("csrf", field(confirm, "csrf"), "user_code", userCode, "decision", "approve"));
    assertThat(approved.statusCode()).as(approved.body()).isEqualTo(200);

    assertThat(login.waitFor(60, TimeUnit.SECONDS)).as("the CLI's polling ends").isTrue();
    String out = new String(login.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(login.exitValue()).as(out + String.join("\n", said)).isZero();
    assertThat(out).contains("Logged in to " + proxyUrl + " as alice@example.com");
    Path file = config.resolve("vertex-proxy/sessions.json");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file.getParent()))).isEqualTo("rwx------");

    Process token = cli(config, "token", "--proxy", proxyUrl);
    assertThat(token.waitFor(60, TimeUnit.SECONDS)).isTrue();
    String session = new String(token.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    assertThat(token.exitValue()).isZero();
    assertThat(Files.readString(file)).contains(session);

    HttpResponse<String> call = stack.post(stack.examplePath(), "Bearer " + session, DevStack.BODY);
    assertThat(call.statusCode()).as(call.body()).isEqualTo(200);
    String requestId = call.headers().firstValue("x-vertex-proxy-request-id").orElseThrow();
    JsonNode record = stack.awaitAudit(List.of(requestId)).get(0);
    assertThat(record.path("caller").path("issuer").asText()).isEqualTo("humans");
    assertThat(record.path("rule").asText()).isEqualTo("ml-team-gemini");
    assertThat(record.toString()).doesNotContain(session);

    Process logout = cli(config, "logout", "--proxy", proxyUrl);
    assertThat(logout.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(logout.exitValue()).as(new String(logout.getErrorStream().readAllBytes(), StandardCharsets.UTF_8))
        .isZero();
    HttpResponse<String> after = stack.post(stack.examplePath(), "Bearer " + session, DevStack.BODY);
    assertThat(after.statusCode()).isEqualTo(401);
    assertThat(after.body()).contains("session-revoked");
    assertThat(Files.readString(file)).doesNotContain(session);
    assertThat(stack.auditRecords().toString()).as("no token or code in the trail")
        .doesNotContain(session).doesNotContain(userCode);
  }

  @Test
  void theRealCliLoopbackLoginCompletesWhenThePersonConfirmsInTheBrowser() throws Exception {
    Path config = tmp.resolve("loopback-person/config");
    // $BROWSER is a command that "opens" by succeeding; the URL it was given is also on the CLI's stderr
    Process login = cli(config, Map.of("BROWSER", "/bin/true"), "login", "--proxy", proxyUrl);
    BufferedReader err = new BufferedReader(new InputStreamReader(login.getErrorStream(), StandardCharsets.UTF_8));
    List<String> said = new ArrayList<>();
    String authorize = null;
    while (authorize == null) { // stop reading at the URL: the CLI says nothing more until the browser is back
      String line = err.readLine();
      if (line == null) {
        break;
      }
      said.add(line);
      authorize = line.strip().startsWith(proxyUrl + "/_proxy/cli/authorize?") ? line.strip() : null;
    }
    assertThat(authorize).as("what the CLI said: %s", said).isNotNull();

    Jar jar = new Jar();
    HttpResponse<String> page = signIn(jar, jar.get(authorize), "carol", List.of("ml-team"));
    assertThat(page.statusCode()).as(page.body()).isEqualTo(200);
    assertThat(page.body()).contains("carol@example.com");
    Map<String, String> answer = new LinkedHashMap<>();
    for (String f : List.of("csrf", "response_type", "client_id", "redirect_uri", "state", "code_challenge",
        "code_challenge_method")) {
      answer.put(f, field(page, f));
    }
    answer.put("decision", "approve");
    HttpResponse<String> back = jar.post(proxyUrl + "/_proxy/cli/authorize", answer);
    assertThat(back.statusCode()).as(back.body()).isEqualTo(302);
    String loopback = back.headers().firstValue("location").orElseThrow();
    assertThat(loopback).matches("http://127\\.0\\.0\\.1:[0-9]+/callback\\?code=.*");
    HttpResponse<String> landed = http.send(HttpRequest.newBuilder(URI.create(loopback)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(landed.statusCode()).isEqualTo(200);
    assertThat(landed.body()).contains("signed in");

    assertThat(login.waitFor(60, TimeUnit.SECONDS)).isTrue();
    String out = new String(login.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(login.exitValue()).as(out + String.join("\n", said)).isZero();
    assertThat(out).contains("Logged in to " + proxyUrl + " as carol@example.com");
    String stored = Files.readString(config.resolve("vertex-proxy/sessions.json"));
    assertThat(stored).contains("\"via\" : \"loopback\"");
    assertThatThrownBy(() -> http.send(HttpRequest.newBuilder(URI.create(loopback)).GET().build(),
        HttpResponse.BodyHandlers.ofString())).as("the CLI's listener is gone once the login is done")
        .isInstanceOf(IOException.class);
  }

  @Test
  void theLoopbackFlowResumesAfterTheBrowserLoginAndItsCodeIsGoodOnceWithItsVerifier() throws Exception {
    String verifier = Base64.getUrlEncoder().withoutPadding().encodeToString(new byte[32]).replace('A', 'v');
    String challenge = Base64.getUrlEncoder().withoutPadding().encodeToString(
        MessageDigest.getInstance("SHA-256").digest(verifier.getBytes(StandardCharsets.US_ASCII)));
    String redirect = "http://127.0.0.1:49999/callback";
    Jar jar = new Jar();
    HttpResponse<String> page = jar.get(proxyUrl + "/_proxy/cli/authorize?response_type=code&client_id=vertex-proxy-cli"
        + "&redirect_uri=" + enc(redirect) + "&state=s-42&code_challenge=" + challenge + "&code_challenge_method=S256");
    page = signIn(jar, page, "bob", List.of("ml-team"));
    assertThat(page.statusCode()).as(page.body()).isEqualTo(200);
    assertThat(page.headers().firstValue("content-security-policy").orElseThrow()).contains("http://127.0.0.1:*");
    Map<String, String> answer = new LinkedHashMap<>();
    for (String f : List.of("csrf", "response_type", "client_id", "redirect_uri", "state", "code_challenge",
        "code_challenge_method")) {
      answer.put(f, field(page, f));
    }
    answer.put("decision", "approve");
    HttpResponse<String> back = jar.post(proxyUrl + "/_proxy/cli/authorize", answer);
    assertThat(back.statusCode()).as(back.body()).isEqualTo(302);
    URI location = URI.create(back.headers().firstValue("location").orElseThrow());
    assertThat(location.toString()).startsWith(redirect + "?code=");
    Map<String, String> q = query(location.getRawQuery());
    assertThat(q.get("state")).isEqualTo("s-42");

    Map<String, String> redeem = new LinkedHashMap<>(Map.of("grant_type", "authorization_code", "code", q.get("code"),
        "redirect_uri", redirect, "client_id", "vertex-proxy-cli", "code_verifier", verifier.replace('v', 'w')));
    HttpResponse<String> wrong = jar.post(proxyUrl + "/_proxy/oauth/token", redeem);
    assertThat(wrong.statusCode()).isEqualTo(400);
    assertThat(wrong.body()).contains("invalid_grant");
    redeem.put("code_verifier", verifier);
    HttpResponse<String> used = jar.post(proxyUrl + "/_proxy/oauth/token", redeem);
    assertThat(used.body()).as("a code is used up by a wrong verifier").contains("invalid_grant");
    assertThat(used.headers().firstValue("cache-control")).contains("no-store");
  }

  /** Follows a page's way to the browser login, signs in at the IdP, and returns the page it lands back on. */
  private HttpResponse<String> signIn(Jar jar, HttpResponse<String> page, String user, List<String> groups)
      throws Exception {
    String toLogin = page.headers().firstValue("location").orElseThrow();
    assertThat(toLogin).startsWith("/_proxy/login?next=");
    HttpResponse<String> start = jar.get(proxyUrl + toLogin);
    assertThat(start.statusCode()).as(start.body()).isEqualTo(302);
    URI authorize = URI.create(start.headers().firstValue("location").orElseThrow());
    String claims = "{\"email\":\"" + user + "@example.com\",\"groups\":["
        + groups.stream().map(g -> "\"" + g + "\"").collect(Collectors.joining(",")) + "]}";
    HttpResponse<String> atIdp = http.send(HttpRequest.newBuilder(authorize)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .POST(HttpRequest.BodyPublishers.ofString(form(Map.of("username", user, "claims", claims)))).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(atIdp.statusCode()).as(atIdp.body()).isEqualTo(302);
    HttpResponse<String> callback = jar.get(atIdp.headers().firstValue("location").orElseThrow());
    assertThat(callback.statusCode()).as(callback.body()).isIn(302, 303);
    return jar.get(proxyUrl + callback.headers().firstValue("location").orElseThrow().replace(proxyUrl, ""));
  }

  /** The real CLI in its own JVM, with its own config directory and no display, polling at the proxy's interval. */
  private Process cli(Path config, String... args) throws IOException {
    return cli(config, Map.of(), args);
  }

  private Process cli(Path config, Map<String, String> env, String... args) throws IOException {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx256m", "-cp", System.getProperty("java.class.path"),
        Main.class.getName()));
    command.addAll(List.of(args));
    ProcessBuilder b = new ProcessBuilder(command).directory(tmp.toFile());
    b.environment().put("XDG_CONFIG_HOME", config.toString());
    for (String v : List.of("DISPLAY", "WAYLAND_DISPLAY", "BROWSER", "VERTEX_PROXY_URL", "VERTEX_PROXY_DEBUG")) {
      b.environment().remove(v);
    }
    b.environment().putAll(env);
    b.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    return b.start();
  }

  /** A browser's cookie jar, for the proxy's origin only (the IdP is another origin and gets none of them). */
  private final class Jar {
    private final Map<String, String> cookies = new LinkedHashMap<>();

    HttpResponse<String> get(String url) throws IOException, InterruptedException {
      return send(HttpRequest.newBuilder(URI.create(url)).GET());
    }

    HttpResponse<String> post(String url, Map<String, String> fields) throws IOException, InterruptedException {
      return send(HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/x-www-form-urlencoded")
          .POST(HttpRequest.BodyPublishers.ofString(form(fields))));
    }

    private HttpResponse<String> send(HttpRequest.Builder b) throws IOException, InterruptedException {
      if (!cookies.isEmpty()) {
        b.header("Cookie", cookies.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
            .collect(Collectors.joining("; ")));
      }
      HttpResponse<String> r = http.send(b.timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
      for (String set : r.headers().allValues("set-cookie")) {
        String pair = set.split(";", 2)[0].trim();
        int eq = pair.indexOf('=');
        if (set.contains("Max-Age=0") || eq == pair.length() - 1) {
          cookies.remove(pair.substring(0, eq));
        } else {
          cookies.put(pair.substring(0, eq), pair.substring(eq + 1));
        }
      }
      return r;
    }
  }

  private static String field(HttpResponse<String> page, String name) {
    Matcher m = Pattern.compile("name=\"" + Pattern.quote(name) + "\" value=\"([^\"]*)\"").matcher(page.body());
    assertThat(m.find()).as("field %s in %s", name, page.body()).isTrue();
    return m.group(1).replace("&amp;", "&");
  }

  private static String form(Map<String, String> fields) {
    return fields.entrySet().stream().map(e -> enc(e.getKey()) + "=" + enc(e.getValue()))
        .collect(Collectors.joining("&"));
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  private static Map<String, String> query(String raw) {
    Map<String, String> out = new LinkedHashMap<>();
    for (String pair : raw.split("&")) {
      int eq = pair.indexOf('=');
      out.put(URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
          URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
    }
    return out;
  }
}

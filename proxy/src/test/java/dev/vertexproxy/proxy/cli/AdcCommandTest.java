package dev.vertexproxy.proxy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.auth.oauth2.ExternalAccountCredentials;
import com.google.auth.oauth2.GoogleCredentials;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import dev.vertexproxy.emulators.DevCertificates;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code vertex-proxy adc} through the real command line: the file it writes is one google-auth itself loads as an
 * {@code external_account} credential with the proxy's token exchange as {@code token_url}; the audience comes from the
 * proxy's discovery document over TLS trusted through {@code --ca-file}; refusals name their fix.
 */
class AdcCommandTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir
  Path dir;
  private HttpsServer server;
  private String proxyUrl;
  private Path caFile;
  private final List<String> requests = new CopyOnWriteArrayList<>();

  record Run(int exit, String out, String err) {
  }

  @BeforeEach
  void start() throws Exception {
    DevCertificates ca = DevCertificates.authority("test CA", Clock.systemUTC());
    DevCertificates leaf = ca.issue("proxy", Clock.systemUTC(), new String[] {"localhost"}, InetAddress.getByName("127.0.0.1"));
    caFile = dir.resolve("ca.pem");
    ca.writeCertificatePem(caFile);
    KeyStore keys = KeyStore.getInstance("PKCS12");
    keys.load(null, null);
    keys.setKeyEntry("proxy", leaf.key(), new char[0], new X509Certificate[] {leaf.certificate(), ca.certificate()});
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(keys, new char[0]);
    SSLContext ssl = SSLContext.getInstance("TLS");
    ssl.init(kmf.getKeyManagers(), null, null);
    server = HttpsServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0), 0);
    server.setHttpsConfigurator(new HttpsConfigurator(ssl));
    server.createContext("/", exchange -> {
      requests.add(exchange.getRequestMethod() + " " + exchange.getRequestURI());
      byte[] body = "{\"issuer\":\"https://vertex-proxy.example.com\",\"jwks_uri\":\"x\"}".getBytes(StandardCharsets.UTF_8);
      int status = exchange.getRequestURI().getPath().equals("/.well-known/openid-configuration") ? 200 : 404;
      exchange.sendResponseHeaders(status, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    });
    server.start();
    proxyUrl = "https://127.0.0.1:" + server.getAddress().getPort();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  private Run run(Map<String, String> env, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = Main.commandLine();
    cli.getCommandSpec().removeSubcommand("adc");
    cli.addSubcommand("adc", new CommandLine(new AdcCommand(env::get)).getCommandSpec());
    int exit = cli.setOut(new PrintWriter(out)).setErr(new PrintWriter(err)).execute(args);
    return new Run(exit, out.toString(), err.toString());
  }

  @Test
  void aTokenFileCredentialThatGoogleAuthLoadsWithTheProxyAsItsTokenUrl() throws Exception {
    Path token = Files.writeString(dir.resolve("id-token"), "header.payload.signature\n");
    Path file = dir.resolve("out/adc.json");
    Run r = run(Map.of(), "adc", "--proxy", proxyUrl + "/", "--token-file", token.toString(), "--output", file.toString(),
        "--ca-file", caFile.toString());
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(requests).containsExactly("GET /.well-known/openid-configuration");

    JsonNode json = JSON.readTree(Files.readString(file));
    assertThat(json.path("type").asText()).isEqualTo("external_account");
    assertThat(json.path("audience").asText()).isEqualTo("https://vertex-proxy.example.com");
    assertThat(json.path("subject_token_type").asText()).isEqualTo("urn:ietf:params:oauth:token-type:jwt");
    assertThat(json.path("token_url").asText()).isEqualTo(proxyUrl + "/_proxy/sts/v1/token");
    assertThat(json.path("credential_source").path("file").asText()).isEqualTo(token.toString());
    assertThat(json.has("service_account_impersonation_url")).as("google-auth would then call Google's IAM").isFalse();
    assertThat(Files.getPosixFilePermissions(file)).isEqualTo(PosixFilePermissions.fromString("rw-------"));

    try (InputStream in = Files.newInputStream(file)) {
      GoogleCredentials loaded = GoogleCredentials.fromStream(in);
      assertThat(loaded).isInstanceOf(ExternalAccountCredentials.class);
      ExternalAccountCredentials external = (ExternalAccountCredentials) loaded;
      assertThat(external.getTokenUrl()).isEqualTo(proxyUrl + "/_proxy/sts/v1/token");
      assertThat(external.retrieveSubjectToken()).isEqualTo("header.payload.signature\n");
    }
    assertThat(r.out()).contains("export GOOGLE_APPLICATION_CREDENTIALS=" + file + "\n",
        "export GOOGLE_VERTEX_BASE_URL=" + proxyUrl + "\n", "export GOOGLE_GENAI_USE_VERTEXAI=true\n",
        "GOOGLE_CLOUD_PROJECT", "SSL_CERT_FILE=" + caFile).doesNotContain("ALLOW_EXECUTABLES");
  }

  @Test
  void loginMakesAnExecutableSourceThatRunsTheTokenCommand() throws Exception {
    Path file = dir.resolve("adc.json");
    Run r = run(Map.of(), "adc", "--proxy", proxyUrl, "--login", "--output", file.toString(),
        "--audience", "https://aud.example", "--command", "/opt/vertex-proxy/bin/vertex-proxy");
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(requests).as("--audience: no discovery").isEmpty();
    JsonNode executable = JSON.readTree(Files.readString(file)).path("credential_source").path("executable");
    assertThat(executable.path("command").asText())
        .isEqualTo("/opt/vertex-proxy/bin/vertex-proxy token --proxy " + proxyUrl + " --format google-executable");
    assertThat(executable.path("timeout_millis").asInt()).isBetween(5000, 120_000);
    try (InputStream in = Files.newInputStream(file)) {
      assertThat(GoogleCredentials.fromStream(in).getClass().getSimpleName()).isEqualTo("PluggableAuthCredentials");
    }
    assertThat(r.out()).contains("export GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES=1\n", "no JAVA_TOOL_OPTIONS");
  }

  @Test
  void theDefaultPlaceIsTheUsersConfigDirectory() throws Exception {
    Path xdg = dir.resolve("xdg");
    Run r = run(Map.of("XDG_CONFIG_HOME", xdg.toString()), "adc", "--proxy", proxyUrl, "--login", "--audience", "a",
        "--command", "vp");
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(xdg.resolve("vertex-proxy/adc.json")).isRegularFile();
  }

  @Test
  void refusalsNameTheirFixAndWriteNothing() throws Exception {
    Path file = dir.resolve("never.json");
    Run http = run(Map.of(), "adc", "--proxy", "http://127.0.0.1:8080", "--login", "--output", file.toString());
    assertThat(http.exit()).isEqualTo(1);
    assertThat(http.err()).contains("only an https token_url", "proxy_tls_url");

    Run path = run(Map.of(), "adc", "--proxy", proxyUrl + "/v1", "--login", "--output", file.toString());
    assertThat(path.err()).contains("no path");

    Run untrusted = run(Map.of(), "adc", "--proxy", proxyUrl, "--login", "--output", file.toString(), "--command", "vp");
    assertThat(untrusted.exit()).isEqualTo(1);
    assertThat(untrusted.err()).contains("cannot read", "--ca-file");

    Run both = run(Map.of(), "adc", "--proxy", proxyUrl, "--login", "--token-file", "t", "--output", file.toString());
    assertThat(both.exit()).isEqualTo(2);
    assertThat(both.err()).contains("mutually exclusive");

    Run neither = run(Map.of(), "adc", "--proxy", proxyUrl, "--output", file.toString());
    assertThat(neither.exit()).isEqualTo(2);

    Run noJar = run(Map.of(), "adc", "--proxy", proxyUrl, "--login", "--audience", "a", "--output", file.toString());
    assertThat(noJar.exit()).isEqualTo(1);
    assertThat(noJar.err()).contains("--command");
    assertThat(file).doesNotExist();
  }
}

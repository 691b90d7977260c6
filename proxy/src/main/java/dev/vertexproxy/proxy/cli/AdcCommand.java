package dev.vertexproxy.proxy.cli;

import dev.vertexproxy.proxy.files.PrivateFiles;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.Collection;
import java.util.concurrent.Callable;
import java.util.function.Function;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code vertex-proxy adc --proxy URL (--token-file F | --login)}: writes an {@code external_account} credentials file
 * (Application Default Credentials) whose {@code token_url} is the proxy's STS-shaped token exchange, so that unmodified
 * SDK code using google-auth gets its "Google" access token from the proxy — a proxy token for the caller's own
 * identity — and sends it to the proxy ({@code GOOGLE_VERTEX_BASE_URL}). No Google credential exists anywhere in it.
 *
 * <p>The subject token is the GitLab job's ID token in a file ({@code --token-file}: google-auth re-reads it on every
 * refresh) or, for a person, {@code vertex-proxy token --format google-executable} as an executable source
 * ({@code --login}: the session {@code vertex-proxy login} stored). google-auth refuses a {@code token_url} that is not
 * https, and runs executables only with {@code GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES=1}; it splits the command on
 * spaces, so no path in it may contain one. The file carries no {@code service_account_impersonation_url}: with it,
 * google-auth would go on to Google's IAM with the proxy's token.
 *
 * <p>The {@code audience} is the proxy's issuer URL (the token exchange refuses any other), read from
 * {@code /.well-known/openid-configuration} unless {@code --audience} gives it. The file is written atomically with
 * mode 0600: it names where a credential lives, and the sessions it points at are a person's.
 */
@Command(name = "adc", mixinStandardHelpOptions = true,
    description = "Write an external_account credentials file (ADC) that gets tokens from the proxy's token exchange.")
final class AdcCommand implements Callable<Integer> {
  static final String TOKEN_EXCHANGE_PATH = "/_proxy/sts/v1/token";
  static final String JWT_TYPE = "urn:ietf:params:oauth:token-type:jwt";
  static final int EXECUTABLE_TIMEOUT_MILLIS = 30_000;
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  @Option(names = "--proxy", paramLabel = "URL", required = true,
      description = "The proxy's https base URL (google-auth accepts only an https token_url).")
  String proxy;

  @ArgGroup(exclusive = true, multiplicity = "1")
  Source source;

  /** Where the subject token comes from: exactly one. */
  static final class Source {
    @Option(names = "--token-file", paramLabel = "FILE",
        description = "A file holding the subject token (GitLab CI: the job's id_tokens: token written to it).")
    Path tokenFile;

    @Option(names = "--login", description = "A person's session: runs `vertex-proxy token --format google-executable`.")
    boolean login;
  }

  @Option(names = "--output", paramLabel = "FILE",
      description = "Where to write the file (default: $XDG_CONFIG_HOME/vertex-proxy/adc.json, else ~/.config/...).")
  Path output;

  @Option(names = "--ca-file", paramLabel = "PEM",
      description = "Trust these CA certificates (PEM) for the proxy's discovery document, e.g. vertex-proxy dev's ca.pem.")
  Path caFile;

  @Option(names = "--audience", paramLabel = "URL",
      description = "The proxy's issuer URL (sessions.issuer); default: read from /.well-known/openid-configuration.")
  String audience;

  @Option(names = "--command", paramLabel = "PROGRAM",
      description = "With --login: the vertex-proxy launcher to run (default: this one: java -jar <its jar>).")
  String command;

  @Spec
  CommandSpec spec;

  private final Function<String, String> env;

  AdcCommand() {
    this(System::getenv);
  }

  AdcCommand(Function<String, String> env) {
    this.env = env;
  }

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    try {
      URI base = proxyUrl(proxy);
      String aud = audience != null ? audience : discoverIssuer(base);
      ObjectNode json = credentials(base, aud, err);
      Path target = (output != null ? output : defaultOutput()).toAbsolutePath();
      writePrivately(target, JSON.writeValueAsString(json) + "\n");
      err.println("wrote " + target + " (mode 0600): an external_account credential whose token_url is "
          + json.get("token_url").asText());
      out.print(environment(target, base));
      return 0;
    } catch (IllegalArgumentException | IOException e) {
      err.println("adc: " + e.getMessage());
      return 1;
    } finally {
      out.flush();
      err.flush();
    }
  }

  private ObjectNode credentials(URI base, String aud, PrintWriter err) throws IOException {
    ObjectNode json = JSON.createObjectNode();
    json.put("type", "external_account");
    json.put("audience", aud);
    json.put("subject_token_type", JWT_TYPE);
    json.put("token_url", base + TOKEN_EXCHANGE_PATH);
    ObjectNode credentialSource = json.putObject("credential_source");
    if (source.tokenFile != null) {
      Path file = source.tokenFile.toAbsolutePath();
      if (!Files.isRegularFile(file)) {
        err.println("adc: warning: " + file + " does not exist yet; google-auth reads it when it first needs a token");
      }
      credentialSource.put("file", file.toString());
      credentialSource.putObject("format").put("type", "text");
    } else {
      String program = command != null ? command : thisLauncher();
      String line = program + " token --proxy " + base + " --format google-executable";
      ObjectNode executable = credentialSource.putObject("executable");
      executable.put("command", line);
      executable.put("timeout_millis", EXECUTABLE_TIMEOUT_MILLIS);
    }
    return json;
  }

  /** The URL a caller's SDK uses: https, a host, no path, query, fragment or credentials (the form google-auth checks). */
  static URI proxyUrl(String url) {
    String expected = " (expected: the proxy's https base URL, e.g. https://vertex-proxy.example.com; with"
        + " `vertex-proxy dev`, its proxy_tls_url)";
    URI u;
    try {
      u = new URI(url.endsWith("/") ? url.substring(0, url.length() - 1) : url);
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("--proxy: not a URL: " + HealthcheckCommand.printable(url) + expected);
    }
    if (u.getRawUserInfo() != null) {
      throw new IllegalArgumentException("--proxy: a URL with credentials in it" + expected);
    }
    if (!"https".equalsIgnoreCase(u.getScheme()) || u.getHost() == null) {
      throw new IllegalArgumentException("--proxy " + HealthcheckCommand.printable(url) + ": google-auth accepts only an"
          + " https token_url" + expected);
    }
    if (!u.getRawPath().isEmpty() || u.getRawQuery() != null || u.getRawFragment() != null) {
      throw new IllegalArgumentException("--proxy " + HealthcheckCommand.printable(url) + ": no path" + expected);
    }
    return u;
  }

  /** The proxy's issuer URL: what its token exchange wants as {@code audience}. */
  private String discoverIssuer(URI base) throws IOException {
    URI discovery = URI.create(base + "/.well-known/openid-configuration");
    HttpClient.Builder builder = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10))
        .followRedirects(HttpClient.Redirect.NEVER);
    if (caFile != null) {
      builder.sslContext(trusting(caFile));
    }
    HttpResponse<String> r;
    try {
      r = builder.build().send(HttpRequest.newBuilder(discovery).timeout(Duration.ofSeconds(10))
          .header("Accept", "application/json").GET().build(), HttpResponse.BodyHandlers.ofString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while reading " + discovery, e);
    } catch (IOException e) {
      throw new IOException("cannot read " + discovery + " to learn the proxy's issuer (" + e.getMessage()
          + "); give it with --audience, or --ca-file when the proxy's certificate is from a private CA", e);
    }
    if (r.statusCode() != 200) {
      throw new IOException(discovery + " answered " + r.statusCode() + ": is sessions: configured on the proxy?"
          + " (without it there is no token exchange)");
    }
    JsonNode issuer;
    try {
      issuer = JSON.readTree(r.body()).path("issuer");
    } catch (IOException e) {
      throw new IOException(discovery + " is not JSON", e);
    }
    if (!issuer.isTextual() || issuer.asText().isBlank()) {
      throw new IOException(discovery + " names no issuer");
    }
    return issuer.asText();
  }

  static SSLContext trusting(Path pem) throws IOException {
    try (InputStream in = Files.newInputStream(pem)) {
      Collection<? extends Certificate> certs = CertificateFactory.getInstance("X.509").generateCertificates(in);
      if (certs.isEmpty()) {
        throw new IOException(pem + ": no PEM certificate in it");
      }
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      int i = 0;
      for (Certificate c : certs) {
        store.setCertificateEntry("ca-" + i++, c);
      }
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(store);
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(null, tmf.getTrustManagers(), null);
      return ctx;
    } catch (GeneralSecurityException e) {
      throw new IOException(pem + ": not usable as CA certificates: " + e.getMessage(), e);
    }
  }

  /**
   * The command that runs this very vertex-proxy: its JVM and its jar. google-auth splits the command on spaces and
   * merges the child's stderr into what it parses, so neither may have a space, and a launcher script that might print
   * a build notice is avoided.
   */
  private static String thisLauncher() {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Path jar;
    try {
      jar = Path.of(AdcCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    } catch (URISyntaxException | RuntimeException e) {
      jar = null;
    }
    if (jar == null || !jar.toString().endsWith(".jar")) {
      throw new IllegalArgumentException("this vertex-proxy does not run from a jar: give the launcher with --command");
    }
    String line = java + " -jar " + jar;
    if (java.contains(" ") || jar.toString().contains(" ")) {
      throw new IllegalArgumentException("google-auth splits the command on spaces, and \"" + line + "\" has a path with"
          + " one: give a launcher without spaces with --command");
    }
    return line;
  }

  private Path defaultOutput() {
    String xdg = env.apply("XDG_CONFIG_HOME");
    Path dir = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".config");
    return dir.resolve("vertex-proxy").resolve("adc.json");
  }

  /** Replaces {@code target} in one step with a file that was 0600 from its creation. */
  static void writePrivately(Path target, String content) throws IOException {
    Files.createDirectories(target.toAbsolutePath().getParent());
    PrivateFiles.replace(target, content.getBytes(StandardCharsets.UTF_8));
  }

  /** What to set so unmodified code finds the file and the proxy; shell syntax, comments for the rest. */
  private String environment(Path file, URI base) {
    StringBuilder b = new StringBuilder();
    b.append("export GOOGLE_APPLICATION_CREDENTIALS=").append(file).append('\n');
    b.append("export GOOGLE_VERTEX_BASE_URL=").append(base).append('\n');
    b.append("export GOOGLE_GENAI_USE_VERTEXAI=true\n");
    if (source.login) {
      b.append("export GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES=1\n");
      b.append("# (no JAVA_TOOL_OPTIONS in that environment: the token command's JVM would announce it on stderr,\n"
          + "# which google-auth reads together with the token)\n");
    }
    b.append("# and GOOGLE_CLOUD_PROJECT, GOOGLE_CLOUD_LOCATION: the project and location your policy grants\n");
    b.append("# (the Vertex AI SDK for Python: vertexai.init(api_endpoint=\"").append(base.getAuthority())
        .append("\", api_transport=\"rest\"))\n");
    if (caFile != null) {
      Path ca = caFile.toAbsolutePath();
      b.append("# the proxy's CA: Python SSL_CERT_FILE=").append(ca).append(" (or REQUESTS_CA_BUNDLE), Node")
          .append(" NODE_EXTRA_CA_CERTS=").append(ca).append(", Java -Djavax.net.ssl.trustStore=<a truststore with it>\n");
    }
    return b.toString();
  }
}

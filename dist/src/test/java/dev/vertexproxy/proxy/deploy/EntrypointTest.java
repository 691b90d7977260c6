package dev.vertexproxy.proxy.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.vertexproxy.dev.DevMode;
import dev.vertexproxy.emulators.DevCertificates;
import dev.vertexproxy.emulators.DevIssuer;
import dev.vertexproxy.emulators.GoogleEmulator;
import dev.vertexproxy.emulators.VertexEmulator;
import dev.vertexproxy.proxy.audit.AuditVerifier;
import dev.vertexproxy.proxy.deploy.ParsedDockerfile.Instruction;
import dev.vertexproxy.proxy.deploy.ParsedDockerfile.Stage;
import dev.vertexproxy.proxy.testing.Examples;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.representer.Representer;

/**
 * The built distribution run exactly as the image runs it, without a Docker engine: the runtime stage's file system is
 * laid out under a temporary root from the Dockerfile's own {@code COPY} and {@code RUN} instructions (the jar is the
 * shaded jar this build produced), and the process is started from the Dockerfile's {@code ENTRYPOINT}, {@code CMD},
 * {@code ENV}, {@code WORKDIR} and {@code USER}, with image paths mapped under that root. It runs as the image's
 * non-root user (privileges dropped with {@code setpriv} when the test runs as root, as CI does), with no new
 * privileges, in a working directory it cannot write, with only the audit volume and {@code /tmp} writable.
 *
 * <p>An operator's mounted configuration replaces the example one: a proxy.yaml that keeps the shipped listen TLS
 * paths, policy file and audit directory but points at a dev issuer, the Google STS/IAM emulator and the Vertex
 * emulator started here, with the proxy's own Google identity a workload-identity-federation credentials file, as in
 * dev mode. The Google emulator's certificate is trusted through {@code JDK_JAVA_OPTIONS}, the documented override
 * hook. Then a real call goes through, the audit trail records it and verifies, the image's HEALTHCHECK passes while
 * the proxy runs and fails once it stopped, and nothing outside the writable directories changed.
 *
 * <p>Runs after {@code package} (a second surefire execution at {@code integration-test}, given the jar's path in
 * {@code vertex.dist.jar}); run at {@code test} it has no jar and is skipped.
 */
class EntrypointTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration START_TIMEOUT = Duration.ofSeconds(90);
  private static final String CONFIG = "/etc/vertex-proxy";
  private static final String BODY = "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"Hello, Vertex\"}]}]}";
  private static final List<String> WRITABLE = List.of("/var/lib/vertex-proxy", "/tmp");

  @TempDir
  static Path tmp;
  static Path rootfs;
  static Path logs;
  static Stage runtime;
  static int uid;
  static int gid;
  static boolean asRoot;
  static DevIssuer issuer;
  static GoogleEmulator google;
  static VertexEmulator vertex;
  static DevCertificates proxyTls;
  static int port;
  static int adminPort;
  static Process proxy;
  static Map<String, String> before;

  @BeforeAll
  static void start() throws Exception {
    String jarProperty = System.getProperty("vertex.dist.jar");
    assumeTrue(jarProperty != null && Files.isRegularFile(Path.of(jarProperty)),
        "runs after the shaded jar is built: mvn -B -o -pl dist -am verify -Dtest=EntrypointTest"
            + " -Dsurefire.failIfNoSpecifiedTests=false");
    Path jar = Path.of(jarProperty);
    Path repo = Examples.repoRoot();
    ParsedDockerfile dockerfile = ParsedDockerfile.read(repo.resolve("Dockerfile"));
    runtime = dockerfile.runtime();
    String[] user = runtime.last("USER").orElseThrow().rest().split(":");
    asRoot = "root".equals(System.getProperty("user.name"));
    uid = asRoot ? Integer.parseInt(user[0]) : currentId("-u");
    gid = asRoot ? Integer.parseInt(user[1]) : currentId("-g");

    Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
    rootfs = tmp.resolve("rootfs");
    logs = Files.createDirectories(tmp.resolve("logs"));
    Files.createDirectories(rootfs);
    buildRuntimeFileSystem(repo, jar);

    Clock clock = Clock.systemUTC();
    issuer = DevIssuer.start(new InetSocketAddress("127.0.0.1", 0), DevMode.AUDIENCE);
    google = GoogleEmulator.start(new InetSocketAddress("127.0.0.1", 0), clock);
    google.trustIssuer(issuer.issuer(), issuer.jwksUri());
    DevCertificates vertexTls = DevCertificates.selfSigned("vertex emulator", clock, new String[] {"localhost"});
    vertex = VertexEmulator.start(new InetSocketAddress("127.0.0.1", 0), google, clock,
        SslContextBuilder.forServer(vertexTls.key(), vertexTls.certificate()).build());
    proxyTls = DevCertificates.selfSigned("vertex-proxy", clock, new String[] {"localhost"},
        InetAddress.getByName("127.0.0.1"));

    mountOperatorConfiguration(repo, vertexTls);
    before = snapshotOutsideWritable();

    List<String> command = new ArrayList<>(asUser());
    command.addAll(mapAll(runtime.last("ENTRYPOINT").orElseThrow().json()));
    command.addAll(mapAll(runtime.last("CMD").orElseThrow().json()));
    proxy = start(command, "proxy");
    awaitReady();
  }

  @AfterAll
  static void stop() throws Exception {
    if (proxy != null && proxy.isAlive()) {
      proxy.destroyForcibly();
      proxy.waitFor(30, TimeUnit.SECONDS);
    }
    for (AutoCloseable c : new AutoCloseable[] {vertex, google, issuer}) {
      if (c != null) {
        c.close();
      }
    }
  }

  @Test
  void theImageEntrypointServesACallAuditsItPassesItsHealthCheckAndWritesNothingElse() throws Exception {
    // the process runs as the image's user, not root, and cannot gain privileges
    Map<String, String> status = procStatus(proxy.pid());
    assertThat(status.get("Uid").split("\\s+")).as("real, effective, saved, fs uid").containsOnly(String.valueOf(uid));
    assertThat(status.get("Gid").split("\\s+")).containsOnly(String.valueOf(gid));
    assertThat(uid).isNotZero();
    if (asRoot) {
      assertThat(status.get("Groups")).isEmpty();
      assertThat(status.get("NoNewPrivs")).isEqualTo("1");
    }

    String token = issuer.mint(Map.of());
    HttpResponse<String> r = https().send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + "/v1/projects/"
            + DevMode.PROJECT + "/locations/" + DevMode.LOCATION + "/publishers/google/models/" + DevMode.EXAMPLE_MODEL
            + ":generateContent"))
        .timeout(Duration.ofSeconds(30)).header("Authorization", "Bearer " + token)
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(BODY)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body() + "\n" + stderr("proxy")).isEqualTo(200);
    assertThat(JSON.readTree(r.body()).has("candidates")).as(r.body()).isTrue();
    String requestId = r.headers().firstValue("x-vertex-proxy-request-id").orElseThrow();

    Path audit = image("/var/lib/vertex-proxy/audit");
    JsonNode record = awaitAuditRecord(audit, requestId);
    assertThat(record.path("decision").asText()).isEqualTo("allow");
    assertThat(record.path("status").asInt()).isEqualTo(200);
    assertThat(record.path("google_principal").asText()).isEqualTo(DevMode.SERVICE_ACCOUNT);
    assertThat(record.toString()).doesNotContain(token);
    assertThat(Files.getOwner(audit).getName()).isEqualTo(asRoot ? String.valueOf(uid) : System.getProperty("user.name"));

    // the image's HEALTHCHECK, run the same way, with the admin port this test picked
    assertThat(healthcheck().exit).as(stderr("healthcheck")).isZero();
    assertThat(Files.readString(logs.resolve("healthcheck.out"))).startsWith("healthy: 200");

    // SIGTERM drains and exits; the health check now fails, the trail verifies, nothing else was written
    proxy.destroy();
    assertThat(proxy.waitFor(60, TimeUnit.SECONDS)).as("exits after SIGTERM").isTrue();
    assertThat(healthcheck().exit).isEqualTo(1);
    AuditVerifier.VerifyResult verified = AuditVerifier.verify(audit);
    assertThat(verified.ok()).as(String.valueOf(verified.firstProblem())).isTrue();
    assertThat(snapshotOutsideWritable()).as("files outside the audit volume and /tmp").isEqualTo(before);

    String err = stderr("proxy");
    assertThat(err).as("the image's JAVA_TOOL_OPTIONS reached the JVM")
        .contains("Picked up JAVA_TOOL_OPTIONS: " + runtime.env().get("JAVA_TOOL_OPTIONS"));
    assertThat(err).doesNotContain("\tat ").doesNotContain("Read-only file system").doesNotContain("Permission denied")
        .doesNotContain(token);

    // the proxy's log: one JSON event per line with a timestamp, the request's line carries its id; only the JVM's own
    // notice about JAVA_TOOL_OPTIONS is plain text (the JVM prints it before any Java code runs)
    List<JsonNode> events = new ArrayList<>();
    for (String line : (Files.readString(logs.resolve("proxy.out")) + err).split("\n")) {
      if (line.isEmpty() || line.startsWith("Picked up JAVA_TOOL_OPTIONS: ") || line.startsWith("NOTE: Picked up ")) {
        continue;
      }
      JsonNode event = JSON.readTree(line);
      assertThat(event.isObject()).as(line).isTrue();
      assertThat(Instant.parse(event.path("timestamp").asText())).as(line).isNotNull();
      assertThat(event.path("severity").asText()).as(line).isIn("DEBUG", "INFO", "WARNING", "ERROR");
      events.add(event);
    }
    assertThat(events).anySatisfy(e -> assertThat(e.path("message").asText()).contains("started: listening on"));
    assertThat(events).anySatisfy(e -> assertThat(e.path("message").asText()).startsWith("draining:"));
    assertThat(events).filteredOn(e -> requestId.equals(e.path("request_id").asText())).singleElement()
        .satisfies(e -> assertThat(e.path("logger").asText()).isEqualTo("vertex_proxy.access"));
  }

  // ---- the runtime stage's file system, from its own instructions ----

  private static void buildRuntimeFileSystem(Path repo, Path jar) throws IOException, InterruptedException {
    for (Instruction i : runtime.instructions()) {
      switch (i.keyword()) {
        case "COPY" -> {
          List<String> w = i.words();
          String dest = w.get(w.size() - 1);
          for (String src : w.subList(0, w.size() - 1)) {
            Path from;
            if (i.flags().containsKey("from")) {
              assertThat(src).as("the build stage hands over the shaded jar").isEqualTo("/vertex-proxy.jar");
              from = jar;
            } else {
              from = repo.resolve(src);
            }
            Path to = dest.endsWith("/") ? image(dest).resolve(from.getFileName().toString()) : image(dest);
            createRootOwnedDirectories(to.getParent());
            Files.copy(from, to);
            Files.setPosixFilePermissions(to, PosixFilePermissions.fromString("rw-r--r--"));
          }
        }
        case "RUN" -> {
          List<String> w = i.words();
          assertThat(w.subList(0, 2)).as("a RUN this test can reproduce: " + i.rest()).containsExactly("install", "-d");
          assertThat(w).hasSize(9);
          Path dir = image(w.get(8));
          createRootOwnedDirectories(dir);
          Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString(modeString(w.get(w.indexOf("-m") + 1))));
          chown(dir, Integer.parseInt(w.get(w.indexOf("-o") + 1)), Integer.parseInt(w.get(w.indexOf("-g") + 1)));
        }
        case "WORKDIR" -> createRootOwnedDirectories(image(i.rest()));
        case "LABEL", "ARG", "USER", "ENV", "EXPOSE", "VOLUME", "HEALTHCHECK", "ENTRYPOINT", "CMD" -> {
          // metadata: no file system change
        }
        default -> throw new AssertionError("line " + i.line() + ": " + i.keyword() + " is not reproduced by this test");
      }
    }
    // what `docker run --tmpfs /tmp` or the pod's emptyDir provides
    Path t = Files.createDirectories(image("/tmp"));
    Files.setPosixFilePermissions(t, PosixFilePermissions.fromString("rwxrwxrwx"));
    if (!asRoot) {
      // without root the image's root-owned files are ours: take away the write bit instead
      for (Path d : List.of(image("/opt/vertex-proxy"), image(CONFIG))) {
        Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("r-xr-xr-x"));
      }
    }
  }

  private static void mountOperatorConfiguration(Path repo, DevCertificates vertexTls) throws Exception {
    Path config = image(CONFIG);
    if (!asRoot) {
      Files.setPosixFilePermissions(config, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
    Yaml yaml = yaml();
    Map<String, Object> cfg = asMap(yaml.load(Files.readString(repo.resolve("config/proxy.yaml"))));
    // keep the shipped TLS paths, policy file and audit directory; move what points at Google and GitLab to here
    asMap(cfg.get("listen")).put("address", "127.0.0.1:" + (port = freePort()));
    Map<String, Object> tls = asMap(asMap(cfg.get("listen")).get("tls"));
    writeSecret(image((String) tls.get("cert")), pem(proxyTls, false));
    writeSecret(image((String) tls.get("key")), pem(proxyTls, true));
    tls.put("cert", image((String) tls.get("cert")).toString());
    tls.put("key", image((String) tls.get("key")).toString());
    asMap(cfg.get("admin")).put("address", "127.0.0.1:" + (adminPort = freePort()));
    Path vertexCa = image(CONFIG + "/vertex-emulator-ca.pem");
    vertexTls.writeCertificatePem(vertexCa);
    asMap(cfg.get("upstream")).put("url_template", vertex.baseUri().toString());
    asMap(cfg.get("upstream")).put("ca_file", vertexCa.toString());
    Map<String, Object> iss = new LinkedHashMap<>();
    iss.put("name", DevMode.ISSUER_NAME);
    iss.put("issuer", issuer.issuer().toString());
    iss.put("audiences", List.of(DevMode.AUDIENCE));
    iss.put("algorithms", List.of("RS256"));
    Map<String, Object> people = new LinkedHashMap<>();
    people.put("name", DevMode.PEOPLE_ISSUER_NAME); // the dev policy has a rule for people; a public client, no secret
    people.put("issuer", issuer.peopleIssuer().toString());
    people.put("login", Map.of("client_id", DevMode.PEOPLE_CLIENT_ID));
    asMap(cfg.get("identity")).put("issuers", List.of(iss, people));
    Path credentials = image(CONFIG + "/google-credentials.json");
    Files.writeString(credentials, externalAccount());
    asMap(cfg.get("credentials")).put("source_credentials", credentials.toString());
    asMap(cfg.get("credentials")).put("iam_endpoint", google.iamBaseUri().toString());
    String auditDir = (String) asMap(cfg.get("audit")).get("dir");
    asMap(cfg.get("audit")).put("dir", image(auditDir).toString());
    // the shipped sessions keep their keys on the same writable volume; the people's issuer went with the issuers above
    Map<String, Object> sessions = asMap(cfg.get("sessions"));
    sessions.put("signing_keys_dir", image((String) sessions.get("signing_keys_dir")).toString());
    assertThat((String) asMap(cfg.get("policy")).get("file")).isEqualTo("policy.yaml");
    try (InputStream in = DevMode.class.getResourceAsStream("dev-policy.yaml")) {
      Files.write(config.resolve("policy.yaml"), in.readAllBytes());
    }
    // the log format stays the shipped default (auto: JSON without a terminal, as in a container); the access log is
    // switched on so that a served request leaves a line whose request id the test can look for
    assertThat(asMap(cfg.get("logging")).get("format")).isEqualTo("auto");
    asMap(cfg.get("logging")).put("access_log", true);
    Files.writeString(config.resolve("proxy.yaml"), yaml.dump(cfg));
    KeyStore trust = google.trustStore();
    try (OutputStream out = Files.newOutputStream(config.resolve("google-emulator-trust.p12"))) {
      trust.store(out, "changeit".toCharArray());
    }
    try (Stream<Path> files = Files.walk(config)) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        if (!f.getParent().getFileName().toString().equals("tls")) {
          Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
        }
      }
    }
    if (!asRoot) {
      Files.setPosixFilePermissions(config, PosixFilePermissions.fromString("r-xr-xr-x"));
    }
  }

  /** A mounted secret: readable by the runtime user alone (kubelet's fsGroup does this with group read). */
  private static void writeSecret(Path file, String content) throws IOException, InterruptedException {
    createRootOwnedDirectories(file.getParent());
    Files.writeString(file, content);
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("r--------"));
    if (asRoot) {
      chown(file, uid, gid);
    }
  }

  private static String pem(DevCertificates certs, boolean key) throws IOException {
    Path f = Files.createTempFile(logs, "pem", ".pem");
    if (key) {
      certs.writeKeyPem(f);
    } else {
      certs.writeCertificatePem(f);
    }
    String s = Files.readString(f);
    Files.delete(f);
    return s;
  }

  private static String externalAccount() throws IOException {
    Map<String, Object> source = new LinkedHashMap<>();
    source.put("url", issuer.issuer() + "/workload-token?audience="
        + URLEncoder.encode(wifAudience(), StandardCharsets.UTF_8));
    source.put("format", Map.of("type", "text"));
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("type", "external_account");
    json.put("audience", wifAudience());
    json.put("subject_token_type", "urn:ietf:params:oauth:token-type:jwt");
    json.put("token_url", google.stsTokenUri().toString());
    json.put("credential_source", source);
    return JSON.copy().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(json);
  }

  private static String wifAudience() {
    return DevMode.WIF_AUDIENCE;
  }

  // ---- running processes as the image runs them ----

  private static List<String> asUser() {
    return asRoot
        ? List.of("setpriv", "--reuid=" + uid, "--regid=" + gid, "--clear-groups", "--no-new-privs", "--")
        : List.of();
  }

  private static Process start(List<String> command, String name) throws IOException {
    ProcessBuilder b = new ProcessBuilder(command)
        .directory(image(runtime.last("WORKDIR").orElseThrow().rest()).toFile())
        .redirectOutput(logs.resolve(name + ".out").toFile())
        .redirectError(logs.resolve(name + ".err").toFile());
    Map<String, String> env = b.environment();
    env.clear();
    env.put("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    env.put("HOME", "/nonexistent");
    runtime.env().forEach((k, v) -> env.put(k, mapFlag(v)));
    Path trust = image(CONFIG + "/google-emulator-trust.p12");
    env.put("JDK_JAVA_OPTIONS", "-Djavax.net.ssl.trustStore=" + trust + " -Djavax.net.ssl.trustStorePassword=changeit"
        + " -Djavax.net.ssl.trustStoreType=PKCS12");
    Process p = b.start();
    p.getOutputStream().close();
    return p;
  }

  record Exit(int exit) {
  }

  private static Exit healthcheck() throws Exception {
    Instruction hc = runtime.last("HEALTHCHECK").orElseThrow();
    List<String> cmd = new Instruction("CMD", Map.of(), hc.rest().substring("CMD".length()).strip(), hc.line()).json();
    List<String> command = new ArrayList<>(asUser());
    for (String arg : mapAll(cmd)) {
      // the image's admin address is 127.0.0.1:9090; this test's admin listener has a port of its own
      command.add(arg.startsWith("http://") ? arg.replaceFirst(":[0-9]+/", ":" + adminPort + "/") : arg);
    }
    Process p = start(command, "healthcheck");
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("the health check did not finish");
    }
    return new Exit(p.exitValue());
  }

  private static void awaitReady() throws Exception {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    while (true) {
      if (!proxy.isAlive()) {
        throw new AssertionError("the proxy exited with " + proxy.exitValue() + ":\n" + stderr("proxy"));
      }
      try {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + "/readyz"))
            .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) {
          return;
        }
      } catch (IOException notYet) {
        // not listening yet
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("the proxy was not ready within " + START_TIMEOUT + ":\n" + stderr("proxy"));
      }
      Thread.sleep(100);
    }
  }

  private static JsonNode awaitAuditRecord(Path dir, String requestId) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (System.nanoTime() < deadline) {
      if (Files.isDirectory(dir)) {
        try (Stream<Path> files = Files.list(dir)) {
          for (Path f : files.filter(p -> p.toString().endsWith(".jsonl")).toList()) {
            String content = Files.readString(f);
            for (String line : content.substring(0, content.lastIndexOf('\n') + 1).split("\n")) {
              if (!line.isBlank() && line.contains(requestId)) {
                return JSON.readTree(line);
              }
            }
          }
        }
      }
      Thread.sleep(50);
    }
    throw new AssertionError("no audit record for " + requestId + " in " + dir);
  }

  private static HttpClient https() throws Exception {
    KeyStore ks = KeyStore.getInstance("PKCS12");
    ks.load(null, null);
    ks.setCertificateEntry("proxy", proxyTls.certificate());
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(ks);
    SSLContext ssl = SSLContext.getInstance("TLS");
    ssl.init(null, tmf.getTrustManagers(), null);
    return HttpClient.newBuilder().sslContext(ssl).version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(5)).build();
  }

  // ---- image paths under the temporary root ----

  /** The file under the temporary root that stands for the image's absolute {@code path}. */
  static Path image(String path) {
    assertThat(path).startsWith("/");
    return rootfs.resolve(path.substring(1));
  }

  private static List<String> mapAll(List<String> args) {
    List<String> out = new ArrayList<>();
    for (String a : args) {
      out.add(a.equals("java") ? Path.of(System.getProperty("java.home"), "bin", "java").toString() : mapFlag(a));
    }
    return out;
  }

  /** An absolute image path, or a {@code -Dname=/path} / {@code -XX:Name=/path} flag holding one, mapped; else as is. */
  private static String mapFlag(String value) {
    List<String> words = new ArrayList<>();
    for (String w : value.split(" ", -1)) {
      int eq = w.indexOf('=');
      if (w.startsWith("/")) {
        words.add(image(w).toString());
      } else if (w.startsWith("-") && eq > 0 && w.startsWith("/", eq + 1)) {
        words.add(w.substring(0, eq + 1) + image(w.substring(eq + 1)));
      } else {
        words.add(w);
      }
    }
    return String.join(" ", words);
  }

  private static Map<String, String> snapshotOutsideWritable() throws Exception {
    Map<String, String> entries = new TreeMap<>();
    List<Path> writable = WRITABLE.stream().map(EntrypointTest::image).toList();
    try (Stream<Path> all = Files.walk(rootfs)) {
      for (Path p : all.filter(p -> writable.stream().noneMatch(p::startsWith)).toList()) {
        String kind = Files.isDirectory(p) ? "dir" : HexFormat.of().formatHex(
            MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p)));
        entries.put(rootfs.relativize(p).toString(), kind + " " + Files.getLastModifiedTime(p)
            + " " + PosixFilePermissions.toString(Files.getPosixFilePermissions(p)));
      }
    }
    return entries;
  }

  private static void createRootOwnedDirectories(Path dir) throws IOException {
    if (Files.isDirectory(dir)) {
      return;
    }
    createRootOwnedDirectories(dir.getParent());
    Files.createDirectory(dir);
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
  }

  private static void chown(Path p, int user, int group) throws IOException, InterruptedException {
    if (!asRoot) {
      return; // the test's own user stands for the image's: already the owner
    }
    Process c = new ProcessBuilder("chown", user + ":" + group, p.toString()).inheritIO().start();
    assertThat(c.waitFor()).as("chown " + p).isZero();
  }

  private static String modeString(String octal) {
    int mode = Integer.parseInt(octal, 8);
    StringBuilder b = new StringBuilder();
    for (int shift = 6; shift >= 0; shift -= 3) {
      int bits = (mode >> shift) & 7;
      b.append((bits & 4) != 0 ? 'r' : '-').append((bits & 2) != 0 ? 'w' : '-').append((bits & 1) != 0 ? 'x' : '-');
    }
    return b.toString();
  }

  private static Map<String, String> procStatus(long pid) throws IOException {
    Map<String, String> out = new LinkedHashMap<>();
    for (String line : Files.readAllLines(Path.of("/proc", String.valueOf(pid), "status"))) {
      int colon = line.indexOf(':');
      if (colon > 0) {
        out.put(line.substring(0, colon), line.substring(colon + 1).strip());
      }
    }
    return out;
  }

  private static int currentId(String flag) throws IOException, InterruptedException {
    Process p = new ProcessBuilder("id", flag).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    p.waitFor();
    return Integer.parseInt(out);
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private static String stderr(String name) {
    try {
      File f = logs.resolve(name + ".err").toFile();
      return f.exists() ? Files.readString(f.toPath()) : "";
    } catch (IOException e) {
      return "(unreadable: " + e.getMessage() + ")";
    }
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> asMap(Object o) {
    return (Map<String, Object>) o;
  }

  private static Yaml yaml() {
    DumperOptions d = new DumperOptions();
    d.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
    LoaderOptions l = new LoaderOptions();
    return new Yaml(new SafeConstructor(l), new Representer(d), d, l);
  }
}

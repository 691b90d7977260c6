package dev.vertexproxy.bench.sidebyside;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.JOSEException;
import dev.vertexproxy.emulators.DevIssuer;
import dev.vertexproxy.emulators.GoogleEmulator;
import dev.vertexproxy.proxy.audit.Checkpoints;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What every run shares: the upstream stub, the CI token issuer and the Google emulator (the proxy's token source),
 * all on the load generator's CPU; and the servers under test (nginx, HAProxy, vertex-proxy), each on the other CPU,
 * started from configuration files written here so that a reader can see exactly what was compared.
 */
final class Stack implements AutoCloseable {
  static final String AUDIENCE = "https://vertex-proxy.bench.local";
  static final String PROJECT_PATH = "acme/ml/forecasting";
  static final String SERVICE_ACCOUNT = "vertex-caller@dev-project.iam.gserviceaccount.com";
  static final String WIF_AUDIENCE =
      "//iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/bench/providers/bench";
  static final String JSON_PATH =
      "/v1/projects/dev-project/locations/us-central1/publishers/google/models/gemini-2.0-flash:generateContent";
  static final String SSE_PATH = "/v1/projects/dev-project/locations/us-central1/publishers/google/models/"
      + "gemini-2.0-flash:streamGenerateContent?alt=sse";
  /** A Gen AI SDK generateContent body of the size the issue measured with. */
  static final String BODY = "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"Summarise the attached build log in"
      + " three bullet points, naming the failing test and the first error line.\"}]}],\"generationConfig\":"
      + "{\"temperature\":0.2,\"maxOutputTokens\":256}}";
  /**
   * The proxy's JVM as in a pod with one CPU and a 512 MiB memory limit, with the container image's defaults
   * (Dockerfile: {@code JAVA_TOOL_OPTIONS}).
   */
  static final List<String> PROXY_JVM = List.of("-XX:-UsePerfData", "-XX:MaxRAM=512m", "-XX:MaxRAMPercentage=50",
      "-XX:InitialRAMPercentage=25", "-XX:+ExitOnOutOfMemoryError", "-Dfile.encoding=UTF-8");

  private final Path root;
  private final Path proxyJar;
  private final List<String> proxyJvm;
  private final Path dir;
  private final int loadCpu;
  private final int sutCpu;
  private final DevIssuer issuer;
  private final GoogleEmulator google;
  private final Child stub;
  private final int stubPort;
  private final String token;
  private final List<Child> started = new ArrayList<>();
  /** Each P's policy file, by its URL, for {@link #usePolicy}. */
  private final Map<String, Path> policies = new HashMap<>();

  private Stack(Path root, Path proxyJar, List<String> proxyJvm, Path dir, int loadCpu, int sutCpu, DevIssuer issuer,
      GoogleEmulator google, Child stub, int stubPort) {
    this.root = root;
    this.proxyJar = proxyJar;
    this.proxyJvm = proxyJvm;
    this.dir = dir;
    this.loadCpu = loadCpu;
    this.sutCpu = sutCpu;
    this.issuer = issuer;
    this.google = google;
    this.stub = stub;
    this.stubPort = stubPort;
    // one CI job's token for the whole run, as a job would send it on every call; valid well past the run's limit
    this.token = issuer.mint(Map.of("aud", AUDIENCE, "exp", System.currentTimeMillis() / 1000 + 7200));
  }

  static Stack start(Path root, Path proxyJar, List<String> proxyJvm, Path dir, int loadCpu, int sutCpu)
      throws IOException, InterruptedException {
    DevIssuer issuer = DevIssuer.start(new InetSocketAddress("127.0.0.1", 0), AUDIENCE);
    GoogleEmulator google = GoogleEmulator.start(new InetSocketAddress("127.0.0.1", 0), Clock.systemUTC());
    google.trustIssuer(issuer.issuer(), issuer.jwksUri());
    google.registerProvider(WIF_AUDIENCE, Set.of(WIF_AUDIENCE), Map.of());
    Child stub = Child.start("stub", loadCpu, Upstream.java(benchJar(root), "dev.vertexproxy.bench.compare.StubUpstream",
        List.of("-Xms256m", "-Xmx256m", "-XX:-UsePerfData"), List.of("--port", "0")), dir.resolve("stub.log"));
    int port = Upstream.announcedPort(stub, Duration.ofSeconds(30));
    return new Stack(root, proxyJar, proxyJvm, dir, loadCpu, sutCpu, issuer, google, stub, port);
  }

  static Path benchJar(Path root) {
    return root.resolve("bench/target/benchmarks.jar");
  }

  Path dir() {
    return dir;
  }

  int loadCpu() {
    return loadCpu;
  }

  Child stub() {
    return stub;
  }

  String token() {
    return token;
  }

  Map<String, String> headers() {
    Map<String, String> h = new LinkedHashMap<>();
    h.put("Authorization", "Bearer " + token);
    h.put("Content-Type", "application/json");
    h.put("User-Agent", "google-genai-sdk/1.80.0 gl-java/17");
    h.put("x-goog-api-client", "google-genai-sdk/1.80.0 gl-java/17");
    return h;
  }

  /** D: the stub itself. */
  Server direct() {
    return new Server("D", "direct to the stub", null, "http://127.0.0.1:" + stubPort);
  }

  /** N: nginx as a plain reverse proxy, keep-alive to the stub, no buffering (SSE passes through). */
  Server nginx() throws IOException, InterruptedException {
    Path n = dir.resolve("nginx");
    Files.createDirectories(n.resolve("tmp"));
    int port = Upstream.freePort();
    String conf = """
        daemon off;
        master_process off;
        worker_processes 1;
        worker_rlimit_nofile 65536;
        pid %1$s/nginx.pid;
        error_log %1$s/error.log warn;
        events { worker_connections 8192; }
        http {
          access_log off;
          client_body_temp_path %1$s/tmp/body;
          proxy_temp_path %1$s/tmp/proxy;
          fastcgi_temp_path %1$s/tmp/fastcgi;
          uwsgi_temp_path %1$s/tmp/uwsgi;
          scgi_temp_path %1$s/tmp/scgi;
          tcp_nodelay on;
          keepalive_requests 1000000;
          upstream stub { server 127.0.0.1:%2$d; keepalive 64; keepalive_requests 1000000; }
          server {
            listen 127.0.0.1:%3$d;
            location / {
              proxy_pass http://stub;
              proxy_http_version 1.1;
              proxy_set_header Connection "";
              proxy_buffering off;
              proxy_request_buffering off;
            }
          }
        }
        """.formatted(n, stubPort, port);
    Path file = Upstream.write(n.resolve("nginx.conf"), conf);
    Child c = launch(Child.start("nginx", sutCpu, List.of("nginx", "-p", n + "/", "-c", file.toString(), "-e",
        n.resolve("error.log").toString()), n.resolve("stdout.log")));
    Upstream.awaitListening(c, port, Duration.ofSeconds(20));
    return new Server("N", "nginx, plain reverse proxy", c, "http://127.0.0.1:" + port);
  }

  /**
   * H: HAProxy verifying the RS256 JWT on every request ({@code jwt_verify} with the issuer's public key, then iss, aud,
   * exp and the project and protected-ref claims the proxy's policy checks), a method map from the path (method,
   * project, location and model as the policy grants them), and the caller's credential replaced before forwarding.
   */
  Server haproxy() throws IOException, InterruptedException {
    Path h = dir.resolve("haproxy");
    Files.createDirectories(h);
    int port = Upstream.freePort();
    byte[] der;
    try {
      der = issuer.signingKey().toRSAPublicKey().getEncoded();
    } catch (JOSEException e) {
      throw new IOException("the dev issuer's key has no RSA public key", e);
    }
    String pem = "-----BEGIN PUBLIC KEY-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
        .encodeToString(der) + "\n-----END PUBLIC KEY-----\n";
    Path key = Upstream.write(h.resolve("issuer.pem"), pem);
    String prefix = "^/v1/projects/dev-project/locations/us-central1/publishers/google/models/gemini-[^/:]+";
    Path map = Upstream.write(h.resolve("methods.map"), prefix + ":generateContent$ publishers.models.generateContent\n"
        + prefix + ":streamGenerateContent$ publishers.models.streamGenerateContent\n");
    String cfg = """
        global
          nbthread 1
          maxconn 8000
        defaults
          mode http
          timeout connect 5s
          timeout client 60s
          timeout server 60s
          timeout http-keep-alive 60s
          option http-keep-alive
          # SSE: forward each event as it comes (without it HAProxy held the first event for ~90 ms here)
          option http-no-delay
          http-reuse always
        frontend fe
          bind 127.0.0.1:%1$d
          http-request set-var(txn.bearer) http_auth_bearer
          http-request set-var(txn.alg) var(txn.bearer),jwt_header_query('$.alg')
          http-request deny deny_status 401 unless { var(txn.alg) -m str RS256 }
          http-request deny deny_status 401 unless { var(txn.bearer),jwt_verify(txn.alg,"%2$s") -m int 1 }
          http-request set-var(txn.iss) var(txn.bearer),jwt_payload_query('$.iss')
          http-request set-var(txn.aud) var(txn.bearer),jwt_payload_query('$.aud')
          http-request set-var(txn.exp) var(txn.bearer),jwt_payload_query('$.exp','int')
          http-request set-var(txn.now) date
          http-request deny deny_status 401 unless { var(txn.iss) -m str %3$s }
          http-request deny deny_status 401 unless { var(txn.aud) -m str %4$s }
          http-request deny deny_status 401 if { var(txn.exp),sub(txn.now) -m int lt 0 }
          http-request set-var(txn.project) var(txn.bearer),jwt_payload_query('$.project_path')
          http-request set-var(txn.protected) var(txn.bearer),jwt_payload_query('$.ref_protected')
          http-request deny deny_status 403 unless { var(txn.project) -m str %5$s }
          http-request deny deny_status 403 unless { var(txn.protected) -m str true }
          http-request set-var(txn.method) path,map_reg(%6$s)
          http-request deny deny_status 403 unless { var(txn.method) -m found }
          http-request set-header Authorization "Bearer ya29.bench-google-token"
          default_backend be
        backend be
          server stub 127.0.0.1:%7$d
        """.formatted(port, key, issuer.issuer(), AUDIENCE, PROJECT_PATH, map, stubPort);
    Path file = Upstream.write(h.resolve("haproxy.cfg"), cfg);
    Child c = launch(Child.start("haproxy", sutCpu, List.of("haproxy", "-db", "-f", file.toString()),
        h.resolve("haproxy.log")));
    Upstream.awaitListening(c, port, Duration.ofSeconds(20));
    return new Server("H", "HAProxy, jwt_verify + claims + method map", c, "http://127.0.0.1:" + port);
  }

  /** P: vertex-proxy with identity, policy, token swap and the audit trail, as {@code serve} runs it. */
  Server proxy(ProxyVariant v) throws IOException, InterruptedException {
    Path p = dir.resolve("proxy-" + v.slug());
    Files.createDirectories(p);
    Path policy = Upstream.write(p.resolve("policy.yaml"), PolicyFiles.policy(v.rules()));
    Path credentials = Upstream.write(p.resolve("google-credentials.json"), externalAccountJson());
    Path googleCa = p.resolve("google-ca.pem");
    google.writeCertificatePem(googleCa);
    Checkpoints.SigningKey signing = Checkpoints.generate();
    Path checkpointKey = Upstream.write(p.resolve("checkpoint.pem"), Checkpoints.privatePem(signing));
    int port = Upstream.freePort();
    int admin = Upstream.freePort();
    String yaml = """
        listen:
          address: 127.0.0.1:%1$d
        admin:
          address: 127.0.0.1:%2$d
        upstream:
          url_template: http://127.0.0.1:%3$d
          max_idle_per_host: 64
        identity:
          issuers:
            - name: gitlab
              issuer: %4$s
              audiences: [%5$s]
              algorithms: [RS256]
        policy:
          file: %6$s
        credentials:
          mode: impersonate
          source_credentials: %7$s
          iam_endpoint: %8$s
          ca_file: %9$s
        audit:
          dir: %10$s
          durability: %11$s
          on_failure: reject
          checkpoint:
            key_file: %12$s
            interval: 1m
        """.formatted(port, admin, stubPort, issuer.issuer(), AUDIENCE, policy, credentials, google.iamBaseUri(),
        googleCa, p.resolve("audit"), v.durability(), checkpointKey);
    Path config = Upstream.write(p.resolve("proxy.yaml"), yaml);
    List<String> jvm = new ArrayList<>(PROXY_JVM);
    jvm.addAll(proxyJvm);
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(jvm);
    cmd.addAll(v.launch(root, proxyJar, config));
    Child c = launch(Child.start("proxy-" + v.slug(), sutCpu, cmd, p.resolve("proxy.log")));
    awaitReady(c, admin);
    Server s = new Server("P", v.describe(), c, "http://127.0.0.1:" + port, "http://127.0.0.1:" + admin);
    policies.put(s.url(), policy);
    warm(s);
    return s;
  }

  /**
   * Gives a running P a policy of {@code rules} rules, as an operator would: the new file is written beside the old
   * one and moved over it (no reader sees half a file), then {@code POST /policy/reload} on the admin listener; returns
   * once {@code GET /policy} shows that many rules in force (P's own watch may have taken the file first).
   */
  void usePolicy(Server s, int rules) throws IOException, InterruptedException {
    Path file = policies.get(s.url());
    Path next = file.resolveSibling(file.getFileName() + ".next");
    Files.writeString(next, PolicyFiles.policy(rules));
    Files.move(next, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    HttpResponse<String> reload = http.send(HttpRequest.newBuilder(URI.create(s.admin() + "/policy/reload"))
        .timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.noBody()).build(),
        HttpResponse.BodyHandlers.ofString());
    if (reload.statusCode() != 200) {
      throw new IOException("P refused the policy of " + rules + " rules: " + reload.body());
    }
    HttpResponse<String> status = http.send(HttpRequest.newBuilder(URI.create(s.admin() + "/policy"))
        .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
    int inForce = new ObjectMapper().readTree(status.body()).path("rules").asInt(-1);
    if (inForce != rules) {
      throw new IOException("P has " + inForce + " rules in force after reloading a policy of " + rules);
    }
  }

  private String externalAccountJson() throws IOException {
    Map<String, Object> source = new LinkedHashMap<>();
    source.put("url", issuer.workloadTokenUri() + "?audience="
        + URLEncoder.encode(WIF_AUDIENCE, StandardCharsets.UTF_8));
    source.put("format", Map.of("type", "text"));
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("type", "external_account");
    json.put("audience", WIF_AUDIENCE);
    json.put("subject_token_type", "urn:ietf:params:oauth:token-type:jwt");
    json.put("token_url", google.stsTokenUri().toString());
    json.put("credential_source", source);
    return new ObjectMapper().writeValueAsString(json);
  }

  private static void awaitReady(Child c, int admin) throws IOException, InterruptedException {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (System.nanoTime() < deadline) {
      if (!c.alive()) {
        throw new IOException(c.name() + " ended while starting:\n" + c.output());
      }
      try {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin + "/readyz"))
            .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) {
          return;
        }
      } catch (IOException notYet) {
        // not listening yet
      }
      Thread.sleep(100);
    }
    throw new IOException(c.name() + " was not ready within 60 s:\n" + c.output());
  }

  /** One request that must succeed: the server is wired right (and the proxy has its Google token). */
  void warm(Server s) throws IOException, InterruptedException {
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(s.url() + JSON_PATH)).timeout(Duration.ofSeconds(30))
        .POST(HttpRequest.BodyPublishers.ofString(BODY));
    headers().forEach((k, v) -> {
      if (!k.equalsIgnoreCase("User-Agent")) {
        b.header(k, v);
      }
    });
    HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IOException(s.label() + " answered " + r.statusCode() + ": " + r.body()
          + (s.process() == null ? "" : "\n" + s.process().output()));
    }
  }

  private Child launch(Child c) {
    started.add(c);
    return c;
  }

  /** Stops a server under test started by this stack. */
  void stop(Server s) {
    if (s.process() != null) {
      s.process().close();
      started.remove(s.process());
    }
  }

  @Override
  public void close() {
    for (Child c : List.copyOf(started)) {
      c.close();
    }
    stub.close();
    google.close();
    issuer.close();
  }

  /**
   * A server under test: its letter in the tables, what it is, its process (none for D), its base URL and, for P, its
   * admin listener's URL (its metrics; null for the others).
   */
  record Server(String label, String description, Child process, String url, String admin) {
    Server(String label, String description, Child process, String url) {
      this(label, description, process, url, null);
    }
  }

  /**
   * P's audit batches so far, from its metrics: {@code [batches, records, fsyncs, fsync seconds]} of
   * {@code vertex_proxy_audit_batch_records} and {@code vertex_proxy_audit_fsync} (the last two NaN when P does not
   * fsync), or null if the server has no admin listener or the batch metric cannot be read.
   */
  static double[] auditBatches(Server s) {
    if (s.admin() == null) {
      return null;
    }
    try {
      HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(s.admin() + "/metrics"))
          .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
      return auditBatches(r.body());
    } catch (IOException | RuntimeException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  /** {@link #auditBatches(Server)} from a Prometheus scrape's text. */
  static double[] auditBatches(String scrape) {
    List<String> names = List.of("vertex_proxy_audit_batch_records_count", "vertex_proxy_audit_batch_records_sum",
        "vertex_proxy_audit_fsync_seconds_count", "vertex_proxy_audit_fsync_seconds_sum");
    double[] out = {Double.NaN, Double.NaN, Double.NaN, Double.NaN};
    for (String line : scrape.split("\n")) {
      int space = line.lastIndexOf(' ');
      if (space < 0 || line.startsWith("#")) {
        continue;
      }
      int brace = line.indexOf('{');
      int i = names.indexOf(line.substring(0, brace >= 0 && brace < space ? brace : space));
      if (i >= 0) {
        out[i] = Double.parseDouble(line.substring(space + 1));
      }
    }
    return Double.isNaN(out[0]) || Double.isNaN(out[1]) ? null : out;
  }
}

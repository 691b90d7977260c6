package dev.vertexproxy.proxy.crash;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vertexproxy.dev.DevMode;
import dev.vertexproxy.proxy.cli.Main;
import dev.vertexproxy.proxy.testing.JavaProcess;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.Yaml;

/**
 * The crash harness: the dev stack's issuer and Google and Vertex emulators in this JVM, the proxy as a second JVM
 * ({@link ProxyChild}) serving from one audit directory, several client threads sending allowed generateContent calls
 * and denied ones, and the proxy killed with SIGKILL at a moment drawn from a seed — then restarted on the same
 * directory, again and again. What every client saw answered is kept; {@link Trail} then checks the directory holds
 * a record of each, and {@code audit verify} judges the chain.
 *
 * <p>The moment of each kill is a number of complete answers drawn from the seed (not a time), so the run does not
 * depend on how fast this machine is; the interleaving of threads still differs from run to run, which is the point.
 */
final class CrashHarness implements AutoCloseable {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String BODY = "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"Hello, Vertex\"}]}]}";
  static final String REQUEST_ID = "x-vertex-proxy-request-id";
  /** A model the sample policy does not grant (only gemini-* is): a 403 decided by policy, recorded like any other. */
  static final String DENIED_MODEL = "imagen-3.0-generate-002";
  private static final Duration PHASE_TIMEOUT = Duration.ofSeconds(60);
  private static final Duration CHILD_TIMEOUT = Duration.ofSeconds(120);

  /** One complete answer a client received: the proxy's request id, the status, whether the policy allowed it. */
  record Answer(String requestId, int status, boolean allowed) {
  }

  private final Path work;
  private final DevMode dev;
  private final int port;

  private CrashHarness(Path work, DevMode dev, int port) {
    this.work = work;
    this.dev = dev;
    this.port = port;
  }

  /** Starts the emulators (through {@link DevMode}, whose own in-process proxy stays idle) under {@code work}. */
  static CrashHarness start(Path work) throws Exception {
    DevMode dev = DevMode.start(DevMode.Options.forTests(work.resolve("dev")));
    int port;
    try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = probe.getLocalPort(); // one port for every restart, as a replica behind a balancer keeps its address
    }
    return new CrashHarness(work, dev, port);
  }

  String baseUrl() {
    return "http://127.0.0.1:" + port;
  }

  String allowedPath() {
    return (String) dev.info().get("example_path");
  }

  String deniedPath() {
    return allowedPath().replace(DevMode.EXAMPLE_MODEL, DENIED_MODEL);
  }

  /**
   * Writes the child's proxy.yaml: the dev stack's configuration, serving plain HTTP on this harness's port, with its
   * own session keys and the given audit directory, durability and on_failure.
   */
  Path writeConfig(String name, Path auditDir, String durability, String onFailure) throws IOException {
    Object loaded = new Yaml().load(Files.readString(Path.of((String) dev.info().get("config_file")), StandardCharsets.UTF_8));
    Map<String, Object> cfg = asMap(loaded);
    cfg.put("listen", new LinkedHashMap<>(Map.of("address", "127.0.0.1:" + port)));
    cfg.put("admin", new LinkedHashMap<>(Map.of("address", "127.0.0.1:0")));
    Map<String, Object> sessions = asMap(cfg.get("sessions"));
    sessions.put("signing_keys_dir", work.resolve(name + "-keys").toString());
    sessions.put("issuer", baseUrl());
    Map<String, Object> audit = new LinkedHashMap<>();
    audit.put("dir", auditDir.toString());
    audit.put("durability", durability);
    audit.put("on_failure", onFailure);
    cfg.put("audit", audit);
    DumperOptions options = new DumperOptions();
    options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
    Path file = work.resolve(name + ".yaml");
    Files.writeString(file, new Yaml(options).dump(cfg), StandardCharsets.UTF_8);
    return file;
  }

  /** A token of the dev issuer with its default claims (the sample policy's forecasting CI job). */
  String mint() throws IOException, InterruptedException {
    HttpResponse<String> r = client().send(HttpRequest.newBuilder(URI.create((String) dev.info().get("mint_url")))
        .POST(HttpRequest.BodyPublishers.ofString("{}")).header("Content-Type", "application/json").build(),
        HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IllegalStateException("mint failed: " + r.statusCode() + " " + r.body());
    }
    return JSON.readTree(r.body()).get("token").asText();
  }

  static HttpClient client() {
    return HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).version(HttpClient.Version.HTTP_1_1).build();
  }

  /**
   * Sends one call and returns the answer if it arrived complete and well-formed: 200 with a generateContent body for
   * an allowed call, the Google JSON error shape otherwise. A reset, a timeout or a truncated body is no answer
   * ({@code null}); a complete answer with the wrong shape fails the run.
   */
  Answer call(HttpClient http, String jwt, boolean allowed) throws InterruptedException {
    HttpRequest request = HttpRequest.newBuilder(URI.create(baseUrl() + (allowed ? allowedPath() : deniedPath())))
        .timeout(Duration.ofSeconds(10)).header("Content-Type", "application/json").header("Authorization", "Bearer " + jwt)
        .POST(HttpRequest.BodyPublishers.ofString(BODY)).build();
    HttpResponse<String> r;
    try {
      r = http.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (IOException lost) {
      return null; // the proxy died with this call in flight: the client has no answer, so nothing is owed
    }
    String id = r.headers().firstValue(REQUEST_ID).orElse(null);
    JsonNode body;
    try {
      body = JSON.readTree(r.body());
    } catch (IOException e) {
      throw new IllegalStateException("a complete answer that is not JSON: " + r.statusCode() + " " + r.body());
    }
    boolean wellFormed = r.statusCode() == 200 ? body.has("candidates")
        : body.path("error").path("code").asInt() == r.statusCode();
    if (id == null || !wellFormed) {
      throw new IllegalStateException("a complete answer without a request id or of the wrong shape: " + r.statusCode()
          + " " + r.headers().map() + " " + r.body());
    }
    return new Answer(id, r.statusCode(), allowed);
  }

  /** What one mode's run saw; {@link Trail} is what its directory holds. */
  record Run(String durability, long seed, int kills, List<Answer> answers, List<Integer> killAfter, Trail trail,
      JavaProcess.Result verify, int finalExit, Duration took) {
    /** Answered calls with no exchange record on disk: a promise broken ("a response is not completed before…"). */
    List<Answer> missingExchange() {
      return answers.stream().filter(a -> !trail.exchanges().containsKey(a.requestId())).toList();
    }

    /** Answered allowed calls (200) with no decision record: in {@code sync}, forwarded before their decision was on disk. */
    List<Answer> missingDecision() {
      return answers.stream().filter(a -> a.status() == 200 && !trail.decisions().containsKey(a.requestId())).toList();
    }

    /** Request ids with more than one exchange record. */
    List<String> duplicated() {
      return trail.exchanges().entrySet().stream().filter(e -> e.getValue() > 1).map(Map.Entry::getKey).sorted().toList();
    }

    String report() {
      long allowed = answers.stream().filter(a -> a.status() == 200).count();
      long denied = answers.stream().filter(a -> a.status() == 403).count();
      long unanswered = trail.exchanges().keySet().stream()
          .filter(id -> answers.stream().noneMatch(a -> a.requestId().equals(id))).count();
      String verifyLines = (verify.stdout() + verify.stderr()).strip().replace("\n", "\n    ");
      return String.format(Locale.ROOT, """
          crash test: durability %s, seed %d, %d kill(s) (SIGKILL after %s complete answers), took %d s
            answered: %d (200: %d, 403: %d, other: %d)
            trail: %d file(s), %d record(s) %s; %d exchange record(s) of calls no client saw answered (in flight at a kill)
            torn tails: %d %s; broken lines: %d %s
            answered without an exchange record: %d %s
            answered 200 without a decision record: %d%s
            duplicated exchange records: %d
            graceful stop after the last restart: exit %d
            audit verify: exit %d
              %s
          """, durability, seed, kills, killAfter, took.toSeconds(), answers.size(), allowed, denied,
          answers.size() - allowed - denied, trail.files(), trail.records(), trail.byType(), unanswered,
          trail.tornTails().size(), trail.tornTails(), trail.brokenLines().size(), trail.brokenLines(),
          missingExchange().size(), sample(missingExchange()), missingDecision().size(),
          durability.equals("sync") ? " " + sample(missingDecision()) : " (not promised outside sync)",
          duplicated().size(), finalExit, verify.exit(), verifyLines);
    }

    private static String sample(List<Answer> answers) {
      return answers.isEmpty() ? "" : answers.subList(0, Math.min(5, answers.size())).toString();
    }
  }

  /**
   * {@code kills} times: start the proxy on {@code auditDir}, load it with {@code clients} threads until the number of
   * complete answers drawn from the seed, SIGKILL it. Then one more start (the restart after the last crash), a few
   * calls, a graceful stop, and the checks.
   */
  Run run(String durability, int kills, long seed, int clients) throws Exception {
    long started = System.nanoTime();
    Random random = new Random(seed);
    Path auditDir = work.resolve("audit-" + durability);
    Path config = writeConfig("crash-" + durability, auditDir, durability, "reject");
    List<Answer> answers = new ArrayList<>();
    List<Integer> killAfter = new ArrayList<>();
    for (int k = 0; k < kills; k++) {
      int target = 10 + random.nextInt(190);
      killAfter.add(target);
      try (ProxyChild child = ProxyChild.start(config, work.resolve("logs"), List.of())) {
        child.awaitReady(baseUrl());
        answers.addAll(loadUntil(child, target, clients, random.nextLong()));
      }
    }
    int finalExit;
    try (ProxyChild child = ProxyChild.start(config, work.resolve("logs"), List.of())) {
      child.awaitReady(baseUrl());
      HttpClient http = client();
      String jwt = mint();
      for (int i = 0; i < 5; i++) {
        Answer a = call(http, jwt, i % 2 == 0);
        if (a == null) {
          throw new IllegalStateException("a call to the restarted proxy failed\n" + child.output());
        }
        answers.add(a);
      }
      finalExit = child.stop();
    }
    Trail trail = Trail.read(auditDir);
    JavaProcess.Result verify = JavaProcess.run(work.resolve("logs"), CHILD_TIMEOUT, Main.class, "audit", "verify",
        auditDir.toString());
    return new Run(durability, seed, kills, answers, killAfter, trail, verify, finalExit,
        Duration.ofNanos(System.nanoTime() - started));
  }

  /**
   * Runs {@code clients} threads of calls (4 in 5 allowed) until {@code target} complete answers arrived, then stops
   * them — the caller kills the proxy right after, with later calls still in flight.
   */
  private List<Answer> loadUntil(ProxyChild child, int target, int clients, long seed) throws Exception {
    String jwt = mint();
    HttpClient http = client();
    Set<Answer> answered = ConcurrentHashMap.newKeySet();
    AtomicInteger count = new AtomicInteger();
    AtomicBoolean running = new AtomicBoolean(true);
    List<Throwable> errors = new ArrayList<>();
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < clients; t++) {
      Random random = new Random(seed + t);
      Thread thread = new Thread(() -> {
        try {
          while (running.get()) {
            Answer a = call(http, jwt, random.nextInt(5) != 0);
            if (a != null) {
              answered.add(a);
              count.incrementAndGet();
            }
          }
        } catch (Throwable e) {
          synchronized (errors) {
            errors.add(e);
          }
        }
      }, "crash-client-" + t);
      thread.start();
      threads.add(thread);
    }
    long deadline = System.nanoTime() + PHASE_TIMEOUT.toNanos();
    try {
      while (count.get() < target && errors.isEmpty()) {
        if (System.nanoTime() > deadline || !child.alive()) {
          throw new IllegalStateException(count.get() + " of " + target + " answers within " + PHASE_TIMEOUT + "\n"
              + child.output());
        }
        Thread.sleep(1);
      }
      child.kill(); // with the clients still sending: calls are in flight at the moment of death
    } finally {
      running.set(false);
      for (Thread thread : threads) {
        thread.join(Duration.ofSeconds(30).toMillis());
      }
    }
    if (!errors.isEmpty()) {
      IllegalStateException failure = new IllegalStateException("a client saw a malformed answer\n" + child.output());
      errors.forEach(failure::addSuppressed);
      throw failure;
    }
    return new ArrayList<>(answered);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> asMap(Object o) {
    return (Map<String, Object>) o;
  }

  @Override
  public void close() {
    dev.close();
  }
}

package dev.vertexproxy.emulators;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.Payload;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small but real OIDC issuer for dev mode and tests: discovery document, JWKS, and a {@code POST /mint} endpoint
 * that signs any claims merged over GitLab-CI-like defaults (RS256, 2048-bit key), plus
 * {@code GET /workload-token?audience=A} for the proxy's own workload identity in dev mode.
 *
 * <p>It exists to be told what to sign: never expose it beyond loopback. Thread-safe: the signing key is an
 * immutable snapshot swapped atomically by {@link #rotateKey}; signing creates its JCA objects per call. Tokens are
 * never logged.
 */
public final class DevIssuer implements AutoCloseable {
  /** The {@code sub} of {@link #workloadToken} tokens. */
  public static final String WORKLOAD_SUBJECT = "system:vertex-proxy";

  private static final String DISCOVERY_PATH = "/.well-known/openid-configuration";
  private static final String JWKS_PATH = "/oauth/discovery/keys";
  private static final String JWKS_SHORT_PATH = "/jwks";
  private static final String MINT_PATH = "/mint";
  private static final String WORKLOAD_PATH = "/workload-token";
  private static final int MAX_MINT_BODY_BYTES = 64 * 1024;
  private static final long TOKEN_LIFETIME_SECONDS = 300;

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final SecureRandom RANDOM = new SecureRandom();

  private final HttpServer server;
  private final ExecutorService executor;
  private final URI issuer;
  private final String defaultAudience;
  private final Clock clock;
  private final AtomicInteger jwksFetches = new AtomicInteger();
  private volatile Keys keys;
  private final DevPeopleIdp people;

  /** The key tokens are signed with, and every key the JWKS publishes (the current one first). */
  private record Keys(RSAKey current, List<RSAKey> published) {
  }

  private DevIssuer(HttpServer server, ExecutorService executor, String defaultAudience, Clock clock) {
    this.server = server;
    this.executor = executor;
    this.defaultAudience = defaultAudience;
    this.clock = clock;
    this.issuer = URI.create("http://" + hostLiteral(server.getAddress()) + ":" + server.getAddress().getPort());
    RSAKey first = newKey();
    this.keys = new Keys(first, List.of(first));
    this.people = new DevPeopleIdp(issuer, clock, this::sign);
  }

  /** The issuer URL of the people face ({@code <issuer>/people}): an OIDC provider with the authorization code flow. */
  public URI peopleIssuer() {
    return people.issuer();
  }

  /** Starts an issuer on {@code bind} (use port 0 for a free port) that uses the system clock. */
  public static DevIssuer start(InetSocketAddress bind, String defaultAudience) {
    return start(bind, defaultAudience, Clock.systemUTC());
  }

  /** Starts an issuer whose {@code iat}/{@code nbf}/{@code exp} defaults come from {@code clock}. */
  public static DevIssuer start(InetSocketAddress bind, String defaultAudience, Clock clock) {
    HttpServer server;
    try {
      server = HttpServer.create(bind, 0);
    } catch (IOException e) {
      throw new UncheckedIOException("dev issuer cannot listen on " + bind, e);
    }
    AtomicInteger threads = new AtomicInteger();
    ExecutorService executor = Executors.newFixedThreadPool(2, runnable -> {
      Thread thread = new Thread(runnable, "dev-issuer-" + threads.incrementAndGet());
      thread.setDaemon(true);
      return thread;
    });
    DevIssuer devIssuer = new DevIssuer(server, executor, defaultAudience, clock);
    server.createContext("/", devIssuer::handle);
    server.setExecutor(executor);
    server.start();
    return devIssuer;
  }

  /** Stops listening and releases the threads. Idempotent. */
  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
    try {
      executor.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** The issuer URL, exactly as it appears in {@code iss} and in the discovery document. */
  public URI issuer() {
    return issuer;
  }

  public URI mintUri() {
    return issuer.resolve(MINT_PATH);
  }

  public URI jwksUri() {
    return issuer.resolve(JWKS_PATH);
  }

  /** {@code GET} this with {@code ?audience=...} for a workload identity token (dev {@code credential_source.url}). */
  public URI workloadTokenUri() {
    return issuer.resolve(WORKLOAD_PATH);
  }

  public String defaultAudience() {
    return defaultAudience;
  }

  /** How many times the JWKS has been served, so tests can assert on caching and rate limits. */
  public int jwksFetches() {
    return jwksFetches.get();
  }

  /** The current signing key, private part included: for tests that forge tokens. */
  public RSAKey signingKey() {
    return keys.current;
  }

  /** Signs with a new key (new {@code kid}) and keeps publishing the previous one, as a real rotation does. */
  public void rotateKey() {
    rotateKey(true);
  }

  /** Signs with a new key; the JWKS publishes it and, if {@code keepPrevious}, the keys published so far. */
  public synchronized void rotateKey(boolean keepPrevious) {
    RSAKey next = newKey();
    List<RSAKey> published = new ArrayList<>();
    published.add(next);
    if (keepPrevious) {
      published.addAll(keys.published);
    }
    keys = new Keys(next, List.copyOf(published));
  }

  /**
   * Signs the default claims with {@code overrides} merged over them; an override whose value is {@code null}
   * removes that claim. Values are JSON-like (String, Number, Boolean, List, Map).
   */
  public String mint(Map<String, Object> overrides) {
    return sign(claims(overrides));
  }

  /** A token for the proxy's own workload identity ({@code sub} {@value #WORKLOAD_SUBJECT}) for {@code audience}. */
  public String workloadToken(String audience) {
    long now = clock.instant().getEpochSecond();
    Map<String, Object> claims = new LinkedHashMap<>();
    claims.put("iss", issuer.toString());
    claims.put("sub", WORKLOAD_SUBJECT);
    claims.put("aud", audience);
    claims.put("iat", now);
    claims.put("nbf", now);
    claims.put("exp", now + TOKEN_LIFETIME_SECONDS);
    claims.put("jti", UUID.randomUUID().toString());
    return sign(claims);
  }

  /** The GitLab CI {@code id_tokens} defaults with {@code overrides} merged over them. */
  Map<String, Object> claims(Map<String, Object> overrides) {
    long now = clock.instant().getEpochSecond();
    Map<String, Object> claims = new LinkedHashMap<>();
    claims.put("iss", issuer.toString());
    claims.put("aud", defaultAudience);
    claims.put("sub", "project_path:acme/ml/forecasting:ref_type:branch:ref:main");
    claims.put("namespace_id", "4242");
    claims.put("namespace_path", "acme/ml");
    claims.put("project_id", "31337");
    claims.put("project_path", "acme/ml/forecasting");
    claims.put("user_id", "1001");
    claims.put("user_login", "alice");
    claims.put("user_email", "alice@acme.example");
    claims.put("user_access_level", "developer");
    claims.put("pipeline_id", "98765");
    claims.put("pipeline_source", "push");
    claims.put("job_id", "123456789");
    claims.put("ref", "main");
    claims.put("ref_type", "branch");
    claims.put("ref_path", "refs/heads/main");
    claims.put("ref_protected", "true");
    claims.put("runner_id", "7");
    claims.put("runner_environment", "gitlab-hosted");
    claims.put("sha", HexFormat.of().formatHex(randomBytes(20)));
    claims.put("project_visibility", "private");
    claims.put("ci_config_ref_uri", "gitlab.example.com/acme/ml/forecasting//.gitlab-ci.yml@refs/heads/main");
    claims.put("jti", UUID.randomUUID().toString());
    claims.put("iat", now);
    claims.put("nbf", now);
    claims.put("exp", now + TOKEN_LIFETIME_SECONDS);
    if (overrides != null) {
      for (Map.Entry<String, Object> override : overrides.entrySet()) {
        if (override.getValue() == null) {
          claims.remove(override.getKey());
        } else {
          claims.put(override.getKey(), override.getValue());
        }
      }
    }
    return claims;
  }

  private String sign(Map<String, Object> claims) {
    RSAKey key = keys.current;
    JWSHeader header = new JWSHeader.Builder(JWSAlgorithm.RS256).type(JOSEObjectType.JWT).keyID(key.getKeyID()).build();
    try {
      // The payload is serialized as given, so tests can mint deliberately odd claims (exp as a string, ...).
      JWSObject jws = new JWSObject(header, new Payload(JSON.writeValueAsString(claims)));
      jws.sign(new RSASSASigner(key));
      return jws.serialize();
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("claims are not JSON-serializable", e);
    } catch (JOSEException e) {
      throw new IllegalStateException("dev issuer could not sign", e);
    }
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      String path = exchange.getRequestURI().getPath();
      String method = exchange.getRequestMethod();
      if (path.startsWith(DevPeopleIdp.PREFIX + "/")) {
        people.handle(exchange, new JWKSet(new ArrayList<JWK>(keys.published)).toString(true));
        return;
      }
      switch (path) {
        case DISCOVERY_PATH -> {
          if (requireMethod(exchange, method, "GET")) {
            respondJson(exchange, 200, discoveryDocument());
          }
        }
        case JWKS_PATH, JWKS_SHORT_PATH -> {
          if (requireMethod(exchange, method, "GET")) {
            jwksFetches.incrementAndGet();
            respond(exchange, 200, "application/json",
                new JWKSet(new ArrayList<JWK>(keys.published)).toString(true));
          }
        }
        case MINT_PATH -> {
          if (requireMethod(exchange, method, "POST")) {
            handleMint(exchange);
          }
        }
        case WORKLOAD_PATH -> {
          if (requireMethod(exchange, method, "GET")) {
            handleWorkloadToken(exchange);
          }
        }
        default -> respondError(exchange, 404, "NOT_FOUND", "no such endpoint on the dev issuer");
      }
    } catch (RuntimeException e) {
      respondError(exchange, 500, "INTERNAL", "dev issuer failed: " + e.getClass().getSimpleName());
    }
  }

  private Map<String, Object> discoveryDocument() {
    Map<String, Object> document = new LinkedHashMap<>();
    document.put("issuer", issuer.toString());
    document.put("jwks_uri", jwksUri().toString());
    document.put("response_types_supported", List.of("id_token"));
    document.put("subject_types_supported", List.of("public", "pairwise"));
    document.put("id_token_signing_alg_values_supported", List.of("RS256"));
    document.put("scopes_supported", List.of("openid"));
    document.put("claims_supported", List.copyOf(claims(Map.of()).keySet()));
    return document;
  }

  private void handleMint(HttpExchange exchange) throws IOException {
    byte[] body;
    try (InputStream in = exchange.getRequestBody()) {
      body = in.readNBytes(MAX_MINT_BODY_BYTES + 1);
    }
    if (body.length > MAX_MINT_BODY_BYTES) {
      respondError(exchange, 413, "INVALID_ARGUMENT", "claims body is larger than " + MAX_MINT_BODY_BYTES + " bytes");
      return;
    }
    Map<String, Object> overrides = Map.of();
    if (!new String(body, StandardCharsets.UTF_8).isBlank()) {
      JsonNode node;
      try {
        node = JSON.readTree(body);
      } catch (IOException e) {
        respondError(exchange, 400, "INVALID_ARGUMENT", "body is not valid JSON");
        return;
      }
      if (node == null || !node.isObject()) {
        respondError(exchange, 400, "INVALID_ARGUMENT", "body must be a JSON object of claims");
        return;
      }
      @SuppressWarnings("unchecked")
      Map<String, Object> parsed = JSON.convertValue(node, LinkedHashMap.class);
      overrides = parsed;
    }
    Map<String, Object> claims = claims(overrides);
    Map<String, Object> answer = new LinkedHashMap<>();
    answer.put("token", sign(claims));
    answer.put("claims", claims);
    respondJson(exchange, 200, answer);
  }

  private void handleWorkloadToken(HttpExchange exchange) throws IOException {
    String audience = queryParameter(exchange.getRequestURI().getRawQuery(), "audience");
    if (audience == null || audience.isBlank()) {
      respondError(exchange, 400, "INVALID_ARGUMENT", "query parameter 'audience' is required");
      return;
    }
    respond(exchange, 200, "text/plain; charset=utf-8", workloadToken(audience));
  }

  private static String queryParameter(String rawQuery, String name) {
    if (rawQuery == null) {
      return null;
    }
    for (String pair : rawQuery.split("&")) {
      int eq = pair.indexOf('=');
      String key = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
      if (key.equals(name)) {
        return eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
      }
    }
    return null;
  }

  private static boolean requireMethod(HttpExchange exchange, String method, String expected) throws IOException {
    if (expected.equals(method)) {
      return true;
    }
    exchange.getResponseHeaders().set("Allow", expected);
    respondError(exchange, 405, "INVALID_ARGUMENT", "method " + method + " not allowed here (expected: " + expected + ")");
    return false;
  }

  private static void respondError(HttpExchange exchange, int code, String status, String message) throws IOException {
    Map<String, Object> error = new LinkedHashMap<>();
    error.put("code", code);
    error.put("message", message);
    error.put("status", status);
    respondJson(exchange, code, Map.of("error", error));
  }

  static void respondJson(HttpExchange exchange, int code, Object body) throws IOException {
    respond(exchange, code, "application/json; charset=utf-8", JSON.writeValueAsString(body));
  }

  static void respond(HttpExchange exchange, int code, String contentType, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", contentType);
    exchange.getResponseHeaders().set("Cache-Control", "no-store");
    exchange.sendResponseHeaders(code, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  private static RSAKey newKey() {
    try {
      return new RSAKeyGenerator(2048)
          .keyUse(KeyUse.SIGNATURE)
          .algorithm(JWSAlgorithm.RS256)
          .keyID(UUID.randomUUID().toString())
          .generate();
    } catch (JOSEException e) {
      throw new IllegalStateException("cannot generate an RSA key", e);
    }
  }

  private static byte[] randomBytes(int n) {
    byte[] bytes = new byte[n];
    RANDOM.nextBytes(bytes);
    return bytes;
  }

  private static String hostLiteral(InetSocketAddress address) {
    InetAddress ip = address.getAddress();
    if (ip == null || ip.isAnyLocalAddress()) {
      return "localhost";
    }
    return ip instanceof Inet6Address ? "[" + ip.getHostAddress() + "]" : ip.getHostAddress();
  }
}

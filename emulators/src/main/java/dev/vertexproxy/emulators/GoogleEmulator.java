package dev.vertexproxy.emulators;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.source.JWKSourceBuilder;
import com.nimbusds.jose.proc.BadJOSEException;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.MalformedURLException;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * Emulates the two Google endpoints the proxy's credentials need, on their real wire formats, so that
 * google-auth-library's own code paths ({@code IdentityPoolCredentials} → {@code StsRequestHandler},
 * {@code ImpersonatedCredentials}) run against it unchanged:
 * <ul>
 *   <li>STS {@code POST /v1/token}: RFC 8693 token exchange of a JWT subject token for a federated access token whose
 *       principal is derived from the {@code audience}, the provider's canonical name
 *       ({@value WorkloadIdentityProvider.Name#SHAPE}):
 *       {@code principal://iam.googleapis.com/projects/{number}/locations/global/workloadIdentityPools/{pool}/subject/}
 *       followed by the token's {@code sub};</li>
 *   <li>IAM Credentials {@code POST /v1/projects/-/serviceAccounts/{email}:generateAccessToken}, authorized by a
 *       bearer this emulator issued, answering a token for the service account.</li>
 * </ul>
 *
 * <p>STS judges an exchange in Google's order, each refusal with Google's error code and description: the form
 * ({@code grant_type}, token types) → the audience's shape ({@code invalid_request}) → that a provider of that name
 * exists ({@code invalid_target}) → the subject token (signature against a {@link #trustIssuer trusted issuer},
 * expiry; {@code invalid_grant}) → the token's {@code aud} against the provider's allowed audiences
 * ({@code invalid_grant}) → the provider's attribute condition ({@code unauthorized_client}). Until a provider is
 * {@link #registerProvider registered}, any well-formed audience names a provider that accepts every token. IAM
 * refuses with Google's {@code PERMISSION_DENIED} body, {@code google.rpc.ErrorInfo} included, whether the service
 * account is not permitted or does not exist.
 *
 * <p>Fault switches answer in each endpoint's own error shape (OAuth's {@code error}/{@code error_description} for STS,
 * Google's {@code {"error":{"code","message","status"}}} for IAM): {@link #failNext}, {@link #failAll} until
 * {@link #recover()}, and {@link #hold} until {@link #release()}, which parks requests on a condition so that a test
 * can see them in flight through {@link #held()} without sleeping.
 *
 * <p>It serves HTTPS with a self-signed certificate (the library insists on an {@code https} {@code token_url});
 * clients trust it through {@link #trustStore()} or {@link #clientSslContext()}. Issued tokens are opaque random
 * strings remembered with their principal and an expiry taken from the injected {@link Clock}, and are exposed
 * through {@link IssuedTokens} to the Vertex emulator.
 *
 * <p>Thread-safe: requests are served concurrently and the test hooks may be called from any thread.
 */
public final class GoogleEmulator implements IssuedTokens, AutoCloseable {
  /** Which endpoint a fault switch applies to. */
  public enum Endpoint { STS, IAM, ANY }

  private static final String TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange";
  private static final String ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token";
  private static final Set<String> JWT_SUBJECT_TOKEN_TYPES =
      Set.of("urn:ietf:params:oauth:token-type:jwt", "urn:ietf:params:oauth:token-type:id_token");
  private static final Pattern GENERATE_ACCESS_TOKEN_PATH =
      Pattern.compile("/v1/projects/-/serviceAccounts/([^/:]+):generateAccessToken");
  private static final String GET_ACCESS_TOKEN = "iam.serviceAccounts.getAccessToken";
  private static final String INVALID_AUDIENCE = "Invalid value for \"audience\". This value should be the full "
      + "resource name of the Identity Provider. See https://cloud.google.com/iam/docs/reference/sts/rest/v1/TopLevel/token "
      + "for the list of possible formats.";
  private static final String INVALID_TARGET = "The target service indicated by the \"audience\" parameters is invalid. "
      + "This might either be because the pool or provider is disabled or deleted or because it doesn't exist.";
  private static final String CONDITION_REJECTED = "The given credential is rejected by the attribute condition.";
  private static final Pattern LIFETIME = Pattern.compile("(\\d{1,6})s");
  private static final Duration MAX_LIFETIME = Duration.ofHours(12);
  private static final int MAX_BODY_BYTES = 64 * 1024;
  private static final int PRUNE_THRESHOLD = 10_000;
  private static final Set<JWSAlgorithm> SUBJECT_TOKEN_ALGORITHMS = Set.of(
      JWSAlgorithm.RS256, JWSAlgorithm.RS384, JWSAlgorithm.RS512, JWSAlgorithm.PS256, JWSAlgorithm.PS384,
      JWSAlgorithm.PS512, JWSAlgorithm.ES256, JWSAlgorithm.ES384, JWSAlgorithm.ES512, JWSAlgorithm.EdDSA);

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final SecureRandom RANDOM = new SecureRandom();

  private final HttpsServer server;
  private final ExecutorService workers;
  private final GoogleEmulatorTls tls;
  private final Clock clock;
  private final URI baseUri;

  private final Map<String, Issued> issued = new ConcurrentHashMap<>();
  private final Map<String, DefaultJWTProcessor<SecurityContext>> trustedIssuers = new ConcurrentHashMap<>();
  private final Map<String, WorkloadIdentityProvider> providers = new ConcurrentHashMap<>();
  private final AtomicInteger stsCalls = new AtomicInteger();
  private final Map<String, AtomicInteger> stsCallsByAudience = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> iamCalls = new ConcurrentHashMap<>();
  private final Map<String, List<String>> iamCallers = new ConcurrentHashMap<>();
  private final AtomicReference<Duration> tokenLifetime = new AtomicReference<>(Duration.ofHours(1));
  private final AtomicReference<Set<String>> permittedOnly = new AtomicReference<>();
  private final Set<String> refused = ConcurrentHashMap.newKeySet();
  private final GoogleEmulatorFaults faults = new GoogleEmulatorFaults();

  private GoogleEmulator(HttpsServer server, ExecutorService workers, GoogleEmulatorTls tls, Clock clock) {
    this.server = server;
    this.workers = workers;
    this.tls = tls;
    this.clock = clock;
    InetSocketAddress bound = server.getAddress();
    this.baseUri = URI.create("https://" + hostForUri(bound) + ":" + bound.getPort());
  }

  /** Starts the emulator on {@code bind} (use port 0 for an ephemeral port); stop it with {@link #close()}. */
  public static GoogleEmulator start(InetSocketAddress bind, Clock clock) throws IOException {
    GoogleEmulatorTls tls = GoogleEmulatorTls.selfSigned(bind.getAddress(), clock);
    HttpsServer server = HttpsServer.create(bind, 64);
    server.setHttpsConfigurator(new HttpsConfigurator(tls.serverContext()));
    AtomicInteger threadNumber = new AtomicInteger();
    ExecutorService workers = Executors.newCachedThreadPool(runnable -> {
      Thread thread = new Thread(runnable, "google-emulator-" + threadNumber.incrementAndGet());
      thread.setDaemon(true);
      return thread;
    });
    server.setExecutor(workers);
    GoogleEmulator emulator = new GoogleEmulator(server, workers, tls, clock);
    server.createContext("/", emulator::serve);
    server.start();
    return emulator;
  }

  // ---- addresses and trust ----

  /** {@code https://127.0.0.1:<port>}. */
  public URI baseUri() {
    return baseUri;
  }

  /** The STS token endpoint, for an {@code external_account} file's {@code token_url}. */
  public URI stsTokenUri() {
    return baseUri.resolve("/v1/token");
  }

  /** The IAM Credentials base, under which {@code /v1/projects/-/serviceAccounts/...} is served. */
  public URI iamBaseUri() {
    return baseUri;
  }

  /** A trust store holding only this emulator's certificate (for {@code NetHttpTransport.Builder.trustCertificates}). */
  public KeyStore trustStore() {
    return tls.trustStore();
  }

  /** Writes this emulator's certificate as PEM, for a {@code credentials.ca_file}. */
  public void writeCertificatePem(Path file) throws IOException {
    try {
      Certificate certificate = tls.trustStore().getCertificate("google-emulator");
      String body = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
          .encodeToString(certificate.getEncoded());
      Files.writeString(file, "-----BEGIN CERTIFICATE-----\n" + body + "\n-----END CERTIFICATE-----\n",
          StandardCharsets.US_ASCII);
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot encode the Google emulator's certificate", e);
    }
  }

  /** A client TLS context that trusts only this emulator's certificate (for {@code java.net.http.HttpClient}). */
  public SSLContext clientSslContext() {
    try {
      TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      trust.init(tls.trustStore());
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, trust.getTrustManagers(), null);
      return context;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot build a client TLS context for the Google emulator", e);
    }
  }

  // ---- behaviour switches ----

  /**
   * From now on STS accepts only subject tokens whose {@code iss} is {@code issuer} (or another trusted issuer) and
   * whose signature verifies against the keys at {@code jwksUri}. Without any trusted issuer, any well-formed,
   * unexpired signed JWT with a {@code sub} is accepted (its signature is not checked).
   */
  public void trustIssuer(URI issuer, URI jwksUri) {
    DefaultJWTProcessor<SecurityContext> processor = new DefaultJWTProcessor<>();
    try {
      processor.setJWSKeySelector(new JWSVerificationKeySelector<>(
          SUBJECT_TOKEN_ALGORITHMS, JWKSourceBuilder.<SecurityContext>create(jwksUri.toURL()).build()));
    } catch (MalformedURLException e) {
      throw new IllegalArgumentException("jwksUri: " + jwksUri + " (expected: an http(s) URL)", e);
    }
    // Time claims are checked against the injected clock below, not nimbus' wall clock.
    processor.setJWTClaimsSetVerifier((claims, context) -> { });
    trustedIssuers.put(issuer.toString(), processor);
  }

  /**
   * From now on STS exchanges only for registered providers (others answer {@code invalid_target}), and checks the
   * subject token against this one when it is the {@code audience}: its {@code aud} (a string or a list) must hold one
   * of {@code allowedAudiences} (when empty, Google's default: {@code providerName} with or without the {@code https:}
   * prefix), and each {@code attributeCondition} claim's string form must equal the given value. Registering a name
   * again replaces the provider.
   *
   * @param providerName the canonical name, {@value WorkloadIdentityProvider.Name#SHAPE}
   */
  public void registerProvider(String providerName, Set<String> allowedAudiences, Map<String, String> attributeCondition) {
    WorkloadIdentityProvider.Name name = WorkloadIdentityProvider.Name.parse(providerName).orElseThrow(() ->
        new IllegalArgumentException("providerName: " + providerName + " (expected: " + WorkloadIdentityProvider.Name.SHAPE
            + ")"));
    providers.put(name.canonical(), new WorkloadIdentityProvider(name, allowedAudiences, attributeCondition));
  }

  /** Only these service accounts may be impersonated; every other one answers 403. */
  public void permitOnly(Set<String> serviceAccounts) {
    permittedOnly.set(Set.copyOf(serviceAccounts));
  }

  /** This service account answers 403 from now on. */
  public void refuse(String serviceAccount) {
    refused.add(serviceAccount);
  }

  /** Lifetime of tokens issued from now on (IAM tokens get the shorter of this and the requested lifetime). */
  public void tokenLifetime(Duration lifetime) {
    if (lifetime.isNegative() || lifetime.isZero()) {
      throw new IllegalArgumentException("tokenLifetime: " + lifetime + " (expected: positive)");
    }
    tokenLifetime.set(lifetime);
  }

  /** The next {@code count} requests, to either endpoint, fail with {@code httpStatus} in that endpoint's error shape. */
  public void failNext(int count, int httpStatus) {
    if (count < 0 || httpStatus < 400 || httpStatus > 599) {
      throw new IllegalArgumentException("failNext: " + count + ", " + httpStatus + " (expected: count >= 0, status 4xx/5xx)");
    }
    faults.failNext(count, httpStatus);
  }

  /**
   * Every request to {@code endpoint} fails with {@code httpStatus}, in that endpoint's error shape, until
   * {@link #recover()}; meanwhile {@link #failNext} failures are neither answered nor used up.
   */
  public void failAll(Endpoint endpoint, int httpStatus) {
    if (httpStatus < 400 || httpStatus > 599) {
      throw new IllegalArgumentException("failAll: " + httpStatus + " (expected: status 4xx/5xx)");
    }
    faults.failAll(endpoint, httpStatus);
  }

  /** Ends every {@link #failAll} outage; {@link #failNext} failures still pending stay pending. */
  public void recover() {
    faults.recover();
  }

  /**
   * Requests to {@code endpoint} arriving from now on wait (counted, not yet answered) until {@link #release()} or
   * {@link #close()}; {@link #held()} tells how many are waiting.
   */
  public void hold(Endpoint endpoint) {
    faults.hold(endpoint);
  }

  /** Lets every held request go on, and stops holding any endpoint. */
  public void release() {
    faults.release();
  }

  /** How many requests are waiting in a {@link #hold} right now. */
  public int held() {
    return faults.held();
  }

  /** The next request, to either endpoint, is answered only after {@code delay} (to make concurrent callers overlap). */
  public void delayNext(Duration delay) {
    faults.delayNext(delay);
  }

  // ---- observations ----

  /** Requests received at the STS endpoint, failed ones included. */
  public int stsCalls() {
    return stsCalls.get();
  }

  /** Requests received at the STS endpoint whose {@code audience} is {@code providerName}, failed ones included. */
  public int stsCalls(String providerName) {
    AtomicInteger calls = stsCallsByAudience.get(providerName);
    return calls == null ? 0 : calls.get();
  }

  /**
   * The principal of the bearer behind each access token issued for {@code serviceAccount}, oldest first: a federated
   * {@code principal://...} when an STS token impersonated it, a service-account email for a delegated call.
   */
  public List<String> iamCallers(String serviceAccount) {
    List<String> callers = iamCallers.get(serviceAccount);
    if (callers == null) {
      return List.of();
    }
    synchronized (callers) {
      return List.copyOf(callers);
    }
  }

  /** generateAccessToken requests received for {@code serviceAccount}, failed ones included. */
  public int iamCalls(String serviceAccount) {
    AtomicInteger calls = iamCalls.get(serviceAccount);
    return calls == null ? 0 : calls.get();
  }

  /** Every access token this emulator has issued (expired ones included, until pruned): for tests that grep for leaks. */
  public Set<String> issuedAccessTokens() {
    return Set.copyOf(issued.keySet());
  }

  @Override
  public Optional<Issued> lookup(String accessToken) {
    if (accessToken == null) {
      return Optional.empty();
    }
    Issued token = issued.get(accessToken);
    if (token == null || !clock.instant().isBefore(token.expiresAt())) {
      return Optional.empty();
    }
    return Optional.of(token);
  }

  @Override
  public void close() {
    faults.close();
    server.stop(0);
    workers.shutdownNow();
  }

  // ---- serving ----

  private void serve(HttpExchange exchange) throws IOException {
    try (exchange) {
      String path = exchange.getRequestURI().getPath();
      Matcher iam = GENERATE_ACCESS_TOKEN_PATH.matcher(path);
      Endpoint endpoint;
      if (path.equals("/v1/token")) {
        endpoint = Endpoint.STS;
      } else if (iam.matches()) {
        endpoint = Endpoint.IAM;
      } else {
        sendGoogleError(exchange, 404, "NOT_FOUND", "The requested URL " + path + " was not found on this server.");
        return;
      }
      byte[] body = readBody(exchange);
      Map<String, String> form = endpoint == Endpoint.STS && body != null
          ? parseForm(new String(body, StandardCharsets.UTF_8))
          : Map.of();
      if (endpoint == Endpoint.STS) {
        stsCalls.incrementAndGet();
        if (form.get("audience") != null) {
          stsCallsByAudience.computeIfAbsent(form.get("audience"), audience -> new AtomicInteger()).incrementAndGet();
        }
      } else {
        iamCalls.computeIfAbsent(iam.group(1), email -> new AtomicInteger()).incrementAndGet();
      }
      if (faults.pass(endpoint) == GoogleEmulatorFaults.Passage.CLOSED) {
        sendFailure(exchange, endpoint, 503, "the emulator is shutting down");
        return;
      }
      int injected = faults.injectedFailure(endpoint);
      if (injected != 0) {
        sendFailure(exchange, endpoint, injected, "injected failure");
        return;
      }
      if (!"POST".equals(exchange.getRequestMethod())) {
        if (endpoint == Endpoint.STS) {
          sendOAuthError(exchange, 405, "invalid_request", "the token endpoint accepts only POST");
        } else {
          sendGoogleError(exchange, 405, "INVALID_ARGUMENT", "generateAccessToken accepts only POST");
        }
        return;
      }
      if (body == null) {
        sendGoogleError(exchange, 413, "INVALID_ARGUMENT", "request body too large");
      } else if (endpoint == Endpoint.STS) {
        exchangeToken(exchange, form);
      } else {
        generateAccessToken(exchange, iam.group(1), body);
      }
    }
  }

  private void exchangeToken(HttpExchange exchange, Map<String, String> form) throws IOException {
    if (!TOKEN_EXCHANGE_GRANT.equals(form.get("grant_type"))) {
      sendOAuthError(exchange, 400, "unsupported_grant_type", "grant_type must be " + TOKEN_EXCHANGE_GRANT);
      return;
    }
    if (!JWT_SUBJECT_TOKEN_TYPES.contains(form.get("subject_token_type"))) {
      sendOAuthError(exchange, 400, "invalid_request", "subject_token_type must be a JWT or ID token type");
      return;
    }
    String requestedType = form.get("requested_token_type");
    if (requestedType != null && !ACCESS_TOKEN_TYPE.equals(requestedType)) {
      sendOAuthError(exchange, 400, "invalid_request", "Invalid value of requested_token_type in request.");
      return;
    }
    if (isBlank(form.get("subject_token"))) {
      sendOAuthError(exchange, 400, "invalid_request", "subject_token is required");
      return;
    }
    WorkloadIdentityProvider.Name audience = WorkloadIdentityProvider.Name.parse(form.get("audience")).orElse(null);
    if (audience == null) {
      sendOAuthError(exchange, 400, "invalid_request", INVALID_AUDIENCE);
      return;
    }
    // Until a provider is registered, every well-formed audience names one that accepts any token (the dev default).
    WorkloadIdentityProvider provider = providers.isEmpty()
        ? new WorkloadIdentityProvider(audience, Set.of(), Map.of())
        : providers.get(audience.canonical());
    if (provider == null) {
      sendOAuthError(exchange, 400, "invalid_target", INVALID_TARGET);
      return;
    }
    JWTClaimsSet claims;
    try {
      claims = verifiedClaims(form.get("subject_token"));
    } catch (SubjectTokenRejected e) {
      sendOAuthError(exchange, 400, "invalid_grant", e.getMessage());
      return;
    }
    List<String> tokenAudiences = claims.getAudience();
    if (!providers.isEmpty() && !provider.acceptsAudience(tokenAudiences)) {
      // Google's own wording: it names what the token carries, never what the provider expects.
      sendOAuthError(exchange, 400, "invalid_grant",
          "The audience in ID Token " + tokenAudiences + " does not match the expected audience.");
      return;
    }
    if (!provider.conditionHolds(claims)) {
      sendOAuthError(exchange, 400, "unauthorized_client", CONDITION_REJECTED);
      return;
    }
    // The emulator's lifetime, not capped at the subject token's exp: the proxy caps the federated token itself.
    Duration lifetime = tokenLifetime.get();
    String accessToken = issue(audience.principal(claims.getSubject()), "sts", lifetime);
    Map<String, Object> answer = new LinkedHashMap<>();
    answer.put("access_token", accessToken);
    answer.put("issued_token_type", ACCESS_TOKEN_TYPE);
    answer.put("token_type", "Bearer");
    answer.put("expires_in", lifetime.toSeconds());
    sendJson(exchange, 200, answer);
  }

  private JWTClaimsSet verifiedClaims(String subjectToken) throws SubjectTokenRejected {
    JWTClaimsSet claims;
    try {
      SignedJWT jwt = SignedJWT.parse(subjectToken);
      claims = jwt.getJWTClaimsSet();
      if (!trustedIssuers.isEmpty()) {
        DefaultJWTProcessor<SecurityContext> processor = trustedIssuers.get(String.valueOf(claims.getIssuer()));
        if (processor == null) {
          throw new SubjectTokenRejected(
              "The issuer in ID Token " + claims.getIssuer() + " does not match the expected one in config");
        }
        processor.process(jwt, null);
      }
    } catch (ParseException e) {
      throw new SubjectTokenRejected("the subject token is not a signed JWT");
    } catch (BadJOSEException | JOSEException e) {
      throw new SubjectTokenRejected("Unable to verify the ID Token signature.");
    }
    Instant now = clock.instant();
    if (claims.getExpirationTime() == null || !now.isBefore(claims.getExpirationTime().toInstant())) {
      Long issuedAt = claims.getIssueTime() == null ? null : claims.getIssueTime().toInstant().getEpochSecond();
      throw new SubjectTokenRejected("ID Token issued at " + issuedAt + " is stale to sign-in.");
    }
    if (isBlank(claims.getSubject())) {
      throw new SubjectTokenRejected("the subject token has no sub");
    }
    return claims;
  }

  private void generateAccessToken(HttpExchange exchange, String serviceAccount, byte[] body) throws IOException {
    Issued caller = lookup(bearer(exchange)).orElse(null);
    if (caller == null) {
      sendGoogleError(exchange, 401, "UNAUTHENTICATED",
          "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid "
              + "authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.");
      return;
    }
    if (refused.contains(serviceAccount)
        || (permittedOnly.get() != null && !permittedOnly.get().contains(serviceAccount))) {
      // Google's answer whether the caller lacks the permission or the account does not exist: the text says both.
      Map<String, Object> errorInfo = new LinkedHashMap<>();
      errorInfo.put("@type", "type.googleapis.com/google.rpc.ErrorInfo");
      errorInfo.put("reason", "IAM_PERMISSION_DENIED");
      errorInfo.put("domain", "iam.googleapis.com");
      errorInfo.put("metadata", Map.of("permission", GET_ACCESS_TOKEN));
      sendGoogleError(exchange, 403, "PERMISSION_DENIED",
          "Permission '" + GET_ACCESS_TOKEN + "' denied on resource (or it may not exist).", List.of(errorInfo));
      return;
    }
    JsonNode request;
    try {
      request = JSON.readTree(body);
    } catch (IOException e) {
      sendGoogleError(exchange, 400, "INVALID_ARGUMENT", "Invalid JSON payload received.");
      return;
    }
    JsonNode scope = request == null ? null : request.get("scope");
    if (scope == null || !scope.isArray() || scope.isEmpty()) {
      sendGoogleError(exchange, 400, "INVALID_ARGUMENT", "Scope required.");
      return;
    }
    Duration lifetime = tokenLifetime.get();
    JsonNode requestedLifetime = request.get("lifetime");
    if (requestedLifetime != null && !requestedLifetime.isNull()) {
      Matcher seconds = LIFETIME.matcher(requestedLifetime.asText());
      if (!seconds.matches() || Duration.ofSeconds(Long.parseLong(seconds.group(1))).compareTo(MAX_LIFETIME) > 0
          || Long.parseLong(seconds.group(1)) == 0) {
        sendGoogleError(exchange, 400, "INVALID_ARGUMENT",
            "Invalid value for lifetime: " + requestedLifetime.asText() + " (expected: 1s..43200s)");
        return;
      }
      Duration asked = Duration.ofSeconds(Long.parseLong(seconds.group(1)));
      lifetime = asked.compareTo(lifetime) < 0 ? asked : lifetime;
    }
    String accessToken = issue(serviceAccount, "iam", lifetime);
    List<String> callers = iamCallers.computeIfAbsent(serviceAccount, email -> new ArrayList<>());
    synchronized (callers) {
      callers.add(caller.principal());
    }
    Instant expiresAt = issued.get(accessToken).expiresAt();
    Map<String, Object> answer = new LinkedHashMap<>();
    answer.put("accessToken", accessToken);
    answer.put("expireTime", DateTimeFormatter.ISO_INSTANT.format(expiresAt.truncatedTo(ChronoUnit.SECONDS)));
    sendJson(exchange, 200, answer);
  }

  private String issue(String principal, String kind, Duration lifetime) {
    byte[] random = new byte[32];
    RANDOM.nextBytes(random);
    String token = "ya29.emu-" + Base64.getUrlEncoder().withoutPadding().encodeToString(random);
    // Whole seconds, so that the expiry we remember equals the RFC 3339 expireTime the client parses.
    Instant now = clock.instant();
    Instant expiresAt = now.plus(lifetime).truncatedTo(ChronoUnit.SECONDS);
    if (issued.size() >= PRUNE_THRESHOLD) {
      // A long-running dev session must not grow without bound: expired tokens are never looked up successfully.
      issued.values().removeIf(old -> !now.isBefore(old.expiresAt()));
    }
    issued.put(token, new Issued(principal, kind, expiresAt));
    return token;
  }

  // ---- wire helpers ----

  private static String bearer(HttpExchange exchange) {
    String authorization = exchange.getRequestHeaders().getFirst("Authorization");
    if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return null;
    }
    return authorization.substring(7).trim();
  }

  private static byte[] readBody(HttpExchange exchange) throws IOException {
    try (InputStream in = exchange.getRequestBody()) {
      byte[] body = in.readNBytes(MAX_BODY_BYTES + 1);
      return body.length > MAX_BODY_BYTES ? null : body;
    }
  }

  private static Map<String, String> parseForm(String body) {
    Map<String, String> form = new LinkedHashMap<>();
    for (String pair : body.split("&")) {
      if (pair.isEmpty()) {
        continue;
      }
      int equals = pair.indexOf('=');
      String name = URLDecoder.decode(equals < 0 ? pair : pair.substring(0, equals), StandardCharsets.UTF_8);
      String value = equals < 0 ? "" : URLDecoder.decode(pair.substring(equals + 1), StandardCharsets.UTF_8);
      form.putIfAbsent(name, value);
    }
    return form;
  }

  private static void sendOAuthError(HttpExchange exchange, int status, String error, String description)
      throws IOException {
    Map<String, Object> answer = new LinkedHashMap<>();
    answer.put("error", error);
    answer.put("error_description", description);
    sendJson(exchange, status, answer);
  }

  /** A failure injected by a fault switch, in {@code endpoint}'s own error shape. */
  private static void sendFailure(HttpExchange exchange, Endpoint endpoint, int status, String description)
      throws IOException {
    if (endpoint == Endpoint.STS) {
      sendOAuthError(exchange, status, status >= 500 ? "temporarily_unavailable" : "invalid_request", description);
    } else {
      sendGoogleError(exchange, status, googleStatus(status), description);
    }
  }

  private static void sendGoogleError(HttpExchange exchange, int status, String googleStatus, String message)
      throws IOException {
    sendGoogleError(exchange, status, googleStatus, message, List.of());
  }

  private static void sendGoogleError(HttpExchange exchange, int status, String googleStatus, String message,
      List<Map<String, Object>> details) throws IOException {
    Map<String, Object> error = new LinkedHashMap<>();
    error.put("code", status);
    error.put("message", message);
    error.put("status", googleStatus);
    if (!details.isEmpty()) {
      error.put("details", details);
    }
    sendJson(exchange, status, Map.of("error", error));
  }

  private static void sendJson(HttpExchange exchange, int status, Object body) throws IOException {
    byte[] bytes;
    try {
      bytes = JSON.writeValueAsBytes(body);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    exchange.getResponseHeaders().set("Content-Type", "application/json; charset=UTF-8");
    exchange.getResponseHeaders().set("Cache-Control", "no-store");
    exchange.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  static String googleStatus(int httpStatus) {
    switch (httpStatus) {
      case 400: return "INVALID_ARGUMENT";
      case 401: return "UNAUTHENTICATED";
      case 403: return "PERMISSION_DENIED";
      case 404: return "NOT_FOUND";
      case 409: return "ABORTED";
      case 429: return "RESOURCE_EXHAUSTED";
      case 501: return "UNIMPLEMENTED";
      case 503: return "UNAVAILABLE";
      case 504: return "DEADLINE_EXCEEDED";
      default: return httpStatus < 500 ? "FAILED_PRECONDITION" : "INTERNAL";
    }
  }

  private static String hostForUri(InetSocketAddress address) {
    String host = address.getAddress().getHostAddress();
    return host.contains(":") ? "[" + host + "]" : host;
  }

  private static boolean isBlank(String value) {
    return value == null || value.isBlank();
  }

  /** Why STS refuses a subject token; the message goes to the client, so it never quotes the token. */
  private static final class SubjectTokenRejected extends Exception {
    private static final long serialVersionUID = 1L;
    SubjectTokenRejected(String message) {
      super(message, null, false, false);
    }
  }
}

package dev.vertexproxy.proxy.credentials;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.benmanes.caffeine.cache.AsyncLoadingCache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import com.google.api.client.http.HttpResponseException;
import com.google.auth.http.HttpTransportFactory;
import com.google.auth.oauth2.AccessToken;
import com.google.auth.oauth2.GoogleCredentials;
import com.google.auth.oauth2.ImpersonatedCredentials;
import dev.vertexproxy.proxy.config.CredentialsConfig;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Google access tokens for the service accounts named by policy rules, obtained by impersonation
 * ({@link ImpersonatedCredentials} over the proxy's own keyless identity) and cached per service account.
 *
 * <p>Design: a Caffeine {@link AsyncLoadingCache} keyed by service account gives "one fetch per key at a time"
 * (concurrent callers on a cold key share one IAM call) and never caches a failed fetch. An entry stays usable until
 * shortly before the token expires ({@code min(refreshBefore / 2, 1 min)}, for clock skew and request latency).
 * Caffeine's own refresh is fixed-interval, but token lifetimes vary, so the background refresh is done here: the
 * first read inside {@code refreshBefore} of expiry starts one fetch on the executor and is answered with the current
 * token; the fresh token replaces it when it arrives. A failed refresh keeps serving the still-valid token (outage
 * grace) and is retried after a short pause. All fetches go through google-auth-library's own code paths on the
 * injected executor, never on the caller's thread. Time comes from the injected {@link Clock}.
 *
 * <p>Thread-safe. {@link #tokenFor} never blocks.
 */
public final class GoogleTokenProvider implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(GoogleTokenProvider.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  /** Service-account emails (and numeric unique ids): nothing that could change the IAM URL's path or query. */
  private static final Pattern SERVICE_ACCOUNT = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._+-]*@[A-Za-z0-9.-]+|[0-9]{1,30}");
  private static final Duration MAX_EXPIRY_MARGIN = Duration.ofMinutes(1);
  private static final Duration MAX_RETRY_PAUSE = Duration.ofSeconds(30);
  private static final int MAX_CACHED_ACCOUNTS = 10_000;

  private final GoogleCredentials source;
  private final CredentialsConfig config;
  private final HttpTransportFactory transport;
  private final Clock clock;
  private final Executor executor;
  private final Duration expiryMargin;
  private final Duration retryPause;
  private final AsyncLoadingCache<String, GoogleToken> cache;
  private final Map<String, Boolean> refreshing = new ConcurrentHashMap<>();
  private final Map<String, Instant> retryNotBefore = new ConcurrentHashMap<>();
  private volatile boolean closed;

  /** A Google access token; {@link #toString()} leaves the value out so it cannot end up in a log line. */
  public record GoogleToken(String value, Instant expiresAt, String principal) {
    public GoogleToken {
      Objects.requireNonNull(value, "value");
      Objects.requireNonNull(expiresAt, "expiresAt");
      Objects.requireNonNull(principal, "principal");
    }

    @Override
    public String toString() {
      return "GoogleToken[principal=" + principal + ", expiresAt=" + expiresAt + "]";
    }
  }

  private GoogleTokenProvider(GoogleCredentials source, CredentialsConfig config, HttpTransportFactory transport,
      Clock clock, Executor executor) {
    this.source = source;
    this.config = config;
    this.transport = transport;
    this.clock = clock;
    this.executor = executor;
    Duration half = config.refreshBefore().dividedBy(2);
    this.expiryMargin = half.compareTo(MAX_EXPIRY_MARGIN) < 0 ? half : MAX_EXPIRY_MARGIN;
    Duration tenth = config.refreshBefore().dividedBy(10);
    this.retryPause = tenth.compareTo(MAX_RETRY_PAUSE) < 0 ? tenth : MAX_RETRY_PAUSE;
    this.cache = Caffeine.newBuilder()
        .maximumSize(MAX_CACHED_ACCOUNTS)
        .executor(executor)
        .ticker(() -> {
          Instant now = clock.instant();
          return now.getEpochSecond() * 1_000_000_000L + now.getNano();
        })
        .expireAfter(new Expiry<String, GoogleToken>() {
          // Measured from Caffeine's own reading of the ticker (currentTime), not a second reading of the clock: the
          // two readings could straddle a clock step and shorten the entry's life by that step.
          @Override
          public long expireAfterCreate(String account, GoogleToken token, long currentTime) {
            return usableFor(token, currentTime);
          }

          @Override
          public long expireAfterUpdate(String account, GoogleToken token, long currentTime, long currentDuration) {
            return usableFor(token, currentTime);
          }

          @Override
          public long expireAfterRead(String account, GoogleToken token, long currentTime, long currentDuration) {
            return currentDuration;
          }
        })
        .buildAsync((account, loaderExecutor) -> CompletableFuture.supplyAsync(() -> fetch(account), loaderExecutor));
  }

  /**
   * Loads the proxy's source credentials (without fetching anything) and builds the provider.
   *
   * @throws IllegalArgumentException when the configuration is refused: {@code sts} mode (not implemented yet) or a
   *                                  service-account key as source credentials
   * @throws IOException              when the source credentials cannot be read
   */
  public static GoogleTokenProvider create(CredentialsConfig config, HttpTransportFactory transport, Clock clock,
      Executor executor) throws IOException {
    Objects.requireNonNull(config, "config");
    Objects.requireNonNull(transport, "transport");
    Objects.requireNonNull(clock, "clock");
    Objects.requireNonNull(executor, "executor");
    if (config.mode() != CredentialsConfig.Mode.IMPERSONATE) {
      throw new IllegalArgumentException("credentials.mode: " + config.mode().name().toLowerCase(java.util.Locale.ROOT)
          + " is not implemented yet (expected: impersonate)");
    }
    return new GoogleTokenProvider(SourceCredentials.load(config, transport), config, transport, clock, executor);
  }

  /**
   * A token for {@code serviceAccount}: already complete when a usable token is cached, otherwise completed on the
   * executor. Fails with {@link GoogleTokenUnavailableException} when Google refuses or cannot be reached and no
   * usable token is cached, and with {@link IllegalArgumentException} for a malformed service-account name.
   */
  public CompletableFuture<GoogleToken> tokenFor(String serviceAccount) {
    if (closed) {
      return CompletableFuture.failedFuture(new IllegalStateException("the Google token provider is closed"));
    }
    if (serviceAccount == null || !SERVICE_ACCOUNT.matcher(serviceAccount).matches()) {
      return CompletableFuture.failedFuture(new IllegalArgumentException(
          "service account: " + serviceAccount + " (expected: an email such as name@project.iam.gserviceaccount.com)"));
    }
    CompletableFuture<GoogleToken> cached = cache.get(serviceAccount);
    if (cached.isCompletedExceptionally()) {
      // Caffeine drops a failed load in a completion callback, so a caller arriving just after a failure can still
      // be handed it; a failure answers only the callers that were waiting for it, the next caller fetches anew.
      cache.asMap().remove(serviceAccount, cached);
      cached = cache.get(serviceAccount);
    }
    if (cached.isDone() && !cached.isCompletedExceptionally()) {
      refreshIfDue(serviceAccount, cached, cached.join());
    }
    // A copy, so that a caller cancelling or completing its future cannot touch the shared cached one.
    return cached.copy();
  }

  /** Forgets every cached token; later calls fail. Does not shut down the injected executor. */
  @Override
  public void close() {
    closed = true;
    cache.synchronous().invalidateAll();
  }

  private void refreshIfDue(String serviceAccount, CompletableFuture<GoogleToken> current, GoogleToken token) {
    Instant now = clock.instant();
    if (now.isBefore(token.expiresAt().minus(config.refreshBefore()))) {
      return;
    }
    Instant notBefore = retryNotBefore.get(serviceAccount);
    if (notBefore != null && now.isBefore(notBefore)) {
      return;
    }
    if (refreshing.putIfAbsent(serviceAccount, Boolean.TRUE) != null) {
      return;
    }
    try {
      executor.execute(() -> refresh(serviceAccount, current));
    } catch (RejectedExecutionException e) {
      refreshing.remove(serviceAccount);
      log.warn("background refresh of the Google token for {} not started: executor refused it", serviceAccount);
    }
  }

  private void refresh(String serviceAccount, CompletableFuture<GoogleToken> current) {
    try {
      GoogleToken fresh = fetch(serviceAccount);
      // Only replace the entry we refreshed: if it expired or was replaced meanwhile, the newer state wins.
      cache.asMap().replace(serviceAccount, current, CompletableFuture.completedFuture(fresh));
      retryNotBefore.remove(serviceAccount);
    } catch (RuntimeException e) {
      retryNotBefore.put(serviceAccount, clock.instant().plus(retryPause));
      log.warn("background refresh of the Google token for {} failed; serving the current token until {} and"
          + " retrying in {}: {}", serviceAccount, current.join().expiresAt().minus(expiryMargin), retryPause,
          e.getMessage());
    } finally {
      refreshing.remove(serviceAccount);
    }
  }

  /** One impersonation round trip through the library: source token (STS, metadata…) then generateAccessToken. */
  private GoogleToken fetch(String serviceAccount) {
    ImpersonatedCredentials.Builder builder = ImpersonatedCredentials.newBuilder()
        .setSourceCredentials(source)
        .setTargetPrincipal(serviceAccount)
        .setDelegates(List.of())
        .setScopes(config.scopes())
        .setLifetime(Math.toIntExact(config.lifetime().toSeconds()))
        .setHttpTransportFactory(transport);
    if (config.iamEndpoint() != null) {
      // google-auth 1.57 uses the override verbatim as the full generateAccessToken URL.
      builder.setIamEndpointOverride(generateAccessTokenUrl(config.iamEndpoint().toString(), serviceAccount));
    }
    AccessToken token;
    try {
      token = builder.build().refreshAccessToken();
    } catch (IOException | RuntimeException e) {
      throw unavailable(serviceAccount, e);
    }
    if (token == null || token.getExpirationTime() == null) {
      throw new GoogleTokenUnavailableException(serviceAccount, 0,
          "no Google access token for " + serviceAccount + ": IAM Credentials answered without an expiry", null);
    }
    return new GoogleToken(token.getTokenValue(), token.getExpirationTime().toInstant(), serviceAccount);
  }

  static String generateAccessTokenUrl(String iamBase, String serviceAccount) {
    String base = iamBase.endsWith("/") ? iamBase.substring(0, iamBase.length() - 1) : iamBase;
    return base + "/v1/projects/-/serviceAccounts/" + serviceAccount + ":generateAccessToken";
  }

  /** Nanoseconds from {@code nowNanos} (the cache ticker's epoch nanos) until the token stops being usable. */
  private long usableFor(GoogleToken token, long nowNanos) {
    Instant usableUntil = token.expiresAt().minus(expiryMargin);
    long until = usableUntil.getEpochSecond() * 1_000_000_000L + usableUntil.getNano();
    return Math.max(0L, until - nowNanos);
  }

  /** Turns the library's failure into one message naming Google's answer, without quoting anything secret. */
  private static GoogleTokenUnavailableException unavailable(String serviceAccount, Throwable failure) {
    HttpResponseException answer = null;
    for (Throwable cause = failure; cause != null && answer == null; cause = cause.getCause()) {
      if (cause instanceof HttpResponseException) {
        answer = (HttpResponseException) cause;
      }
    }
    String detail;
    int status = 0;
    if (answer != null) {
      status = answer.getStatusCode();
      detail = "Google answered " + status + describeErrorBody(answer.getContent());
    } else {
      Throwable root = failure;
      while (root.getCause() != null) {
        root = root.getCause();
      }
      detail = "Google could not be reached or refused the source credentials ("
          + root.getClass().getSimpleName() + (root.getMessage() == null ? "" : ": " + root.getMessage()) + ")";
    }
    return new GoogleTokenUnavailableException(serviceAccount, status,
        "no Google access token for " + serviceAccount + ": " + detail, failure);
  }

  /** " PERMISSION_DENIED: message" for Google's error shape, " invalid_grant: description" for OAuth's. */
  private static String describeErrorBody(String body) {
    if (body == null || body.isBlank()) {
      return "";
    }
    try {
      JsonNode root = JSON.readTree(body);
      JsonNode error = root == null ? null : root.get("error");
      if (error != null && error.isObject()) {
        return " " + error.path("status").asText("") + ": " + error.path("message").asText("");
      }
      if (error != null && error.isTextual()) {
        return " " + error.asText() + ": " + root.path("error_description").asText("");
      }
    } catch (IOException e) {
      // not JSON: fall through to nothing rather than quote an arbitrary body
    }
    return "";
  }
}

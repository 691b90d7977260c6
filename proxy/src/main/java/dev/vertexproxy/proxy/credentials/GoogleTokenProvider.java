package dev.vertexproxy.proxy.credentials;

import com.google.auth.http.HttpTransportFactory;
import com.google.auth.oauth2.GoogleCredentials;
import com.google.common.base.Suppliers;
import dev.vertexproxy.proxy.config.CredentialsConfig;
import io.netty.util.concurrent.EventExecutorGroup;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * Google access tokens for the requests the policy allowed: the service account a rule names, and for modes that act
 * as the caller, the caller too ({@link TokenRequest}).
 *
 * <p>Design: a stack of layers with one job each, composed by {@link Builder} (nimbus' {@code JWKSourceBuilder} and
 * Caffeine's builder are the models):
 * <ol>
 *   <li>the fetching source asks Google, on the blocking executor, by the request's mode:
 *       {@link ImpersonatingTokenSource} (ImpersonatedCredentials over the proxy's own keyless identity) or
 *       {@link FederatingTokenSource} (the caller's token exchanged at STS, then optionally impersonating); each
 *       fetch is bounded by {@code credentials.fetch_timeout};</li>
 *   <li>{@link FailureBackoff} keeps a failing key from reaching Google on every request, and its callers from
 *       waiting on a Google that is down;</li>
 *   <li>{@link RefreshAheadCache}: one fetch per key at a time, refreshed {@code refresh_before} ahead of expiry,
 *       never served once unusable.</li>
 * </ol>
 * This class only checks the request and hands it to the top layer. Thread-safe; {@link #tokenFor} never blocks.
 */
public final class GoogleTokenProvider implements AutoCloseable {
  /** Service-account emails (and numeric unique ids): nothing that could change the IAM URL's path or query. */
  private static final Pattern SERVICE_ACCOUNT = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._+-]*@[A-Za-z0-9.-]+|[0-9]{1,30}");

  /** At most this many service-account names are remembered as checked. */
  static final int MAX_CHECKED_NAMES = 1024;

  private final RefreshAheadCache cache;
  private final boolean needsCaller;
  /**
   * Names that matched {@link #SERVICE_ACCOUNT} already. They come from the policy's rules, a small set asked for on
   * every request; bounded all the same, and past the bound every name is matched as before.
   */
  private final Set<String> checkedNames = ConcurrentHashMap.newKeySet();
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

  private GoogleTokenProvider(RefreshAheadCache cache, boolean needsCaller) {
    this.cache = cache;
    this.needsCaller = needsCaller;
  }

  /**
   * The provider {@code config} describes, with every default: loads the proxy's source credentials (without fetching
   * anything) and builds the layers.
   *
   * @throws IllegalArgumentException when the configuration is refused: a service-account key as source credentials
   * @throws IOException              when the source credentials cannot be read
   */
  public static GoogleTokenProvider create(CredentialsConfig config, HttpTransportFactory transport, Clock clock,
      Executor executor) throws IOException {
    return builder().config(config).impersonation(transport).clock(clock).executor(executor).build();
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * A token for {@code request}: already complete when a usable token is cached, otherwise completed on the executor.
   * Fails with {@link GoogleTokenUnavailableException} when Google refuses or cannot be reached (or refused a moment
   * ago: see {@link FailureBackoff}) and no usable token is cached, and with {@link IllegalArgumentException} for a
   * malformed service-account name or, in a mode that acts as the caller, a request without one.
   */
  public CompletableFuture<GoogleToken> tokenFor(TokenRequest request) {
    if (closed) {
      return CompletableFuture.failedFuture(new IllegalStateException("the Google token provider is closed"));
    }
    String serviceAccount = request == null ? null : request.serviceAccount();
    boolean direct = request != null && request.mode() == TokenRequest.Mode.STS && serviceAccount == null;
    if (!direct && !validServiceAccount(serviceAccount)) {
      return CompletableFuture.failedFuture(new IllegalArgumentException(
          "service account: " + serviceAccount + " (expected: an email such as name@project.iam.gserviceaccount.com)"));
    }
    if (request.mode() == TokenRequest.Mode.STS) {
      return request.caller().isEmpty() || request.audience() == null
          ? CompletableFuture.failedFuture(new IllegalArgumentException("sts token request for " + request.target()
              + " carries no caller or provider (expected: TokenRequest.federating)"))
          : cache.tokenFor(request);
    }
    if (needsCaller && request.caller().isEmpty()) {
      return CompletableFuture.failedFuture(new IllegalArgumentException(
          "token request for " + serviceAccount
              + " carries no caller (expected: TokenRequest.forCaller in this mode)"));
    }
    return cache.tokenFor(needsCaller ? request : request.withoutCaller());
  }

  private boolean validServiceAccount(String name) {
    if (name == null) {
      return false;
    }
    if (checkedNames.contains(name)) {
      return true;
    }
    if (!SERVICE_ACCOUNT.matcher(name).matches()) {
      return false;
    }
    if (checkedNames.size() < MAX_CHECKED_NAMES) {
      checkedNames.add(name);
    }
    return true;
  }

  /**
   * When the cached token that expires first does, or {@code null} when none is cached; for the metric that warns
   * before the cache runs dry. Reads the cache, costs one pass over its entries.
   */
  public Instant earliestExpiry() {
    return cache.earliestExpiry();
  }

  /** Forgets every cached token; later calls fail. Does not shut down the injected executor. */
  @Override
  public void close() {
    closed = true;
    cache.close();
  }

  /**
   * Composes the layers. Every setting is checked at {@link #build()}, and every problem is reported at once. Not
   * thread-safe; build once.
   */
  public static final class Builder {
    private CredentialsConfig config;
    private HttpTransportFactory impersonationTransport;
    private GoogleTokenSource.Fetching source;
    private Clock clock;
    private Executor executor;
    private Duration lifetime;
    private Duration refreshBefore;
    private Duration backOffInitial = Duration.ofSeconds(1);
    private Duration backOffMax = Duration.ofSeconds(10);
    private long maximumSize = 10_000;
    private GoogleTokenEvents events = GoogleTokenEvents.NONE;

    private Builder() {
    }

    /** The {@code credentials} section: the mode, and the token lifetime and {@code refresh_before} unless set. */
    public Builder config(CredentialsConfig config) {
      this.config = Objects.requireNonNull(config, "config");
      return this;
    }

    /**
     * Fetch from Google over this transport: by impersonation with the config's source credentials, and by STS
     * token exchange of the caller's token, as each request's mode says.
     */
    public Builder impersonation(HttpTransportFactory transport) {
      this.impersonationTransport = Objects.requireNonNull(transport, "transport");
      return this;
    }

    /** Fetch from this source instead (tests; the next modes). */
    Builder source(GoogleTokenSource.Fetching source) {
      this.source = Objects.requireNonNull(source, "source");
      return this;
    }

    /** The clock every expiry, refresh and back-off is measured on (the cache's ticker). */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** Where fetches run: a blocking pool, never an event loop. */
    public Builder executor(Executor executor) {
      this.executor = Objects.requireNonNull(executor, "executor");
      return this;
    }

    /** The lifetime of the tokens the source fetches (default: the config's {@code lifetime}). */
    public Builder lifetime(Duration lifetime) {
      this.lifetime = Objects.requireNonNull(lifetime, "lifetime");
      return this;
    }

    /** How long before expiry a token is refreshed in the background (default: the config's {@code refresh_before}). */
    public Builder refreshBefore(Duration refreshBefore) {
      this.refreshBefore = Objects.requireNonNull(refreshBefore, "refreshBefore");
      return this;
    }

    /** The back-off after repeated failures for one key: {@code initial}, doubling up to {@code max} (1 s, 10 s). */
    public Builder backOff(Duration initial, Duration max) {
      this.backOffInitial = Objects.requireNonNull(initial, "initial");
      this.backOffMax = Objects.requireNonNull(max, "max");
      return this;
    }

    /** How many keys' tokens are cached at most (default 10000). */
    public Builder maximumSize(long maximumSize) {
      this.maximumSize = maximumSize;
      return this;
    }

    /** Where cache hits and misses and every request to Google are reported (default: nowhere). */
    public Builder events(GoogleTokenEvents events) {
      this.events = Objects.requireNonNull(events, "events");
      return this;
    }

    /**
     * Checks every setting, then builds the layers (loading the source credentials for impersonation, which fetches
     * nothing).
     *
     * @throws IllegalArgumentException naming every impossible or missing setting
     * @throws IOException              when the source credentials cannot be read
     */
    public GoogleTokenProvider build() throws IOException {
      Duration lifetime = this.lifetime != null ? this.lifetime
          : config != null ? config.lifetime() : CredentialsConfig.DEFAULT_LIFETIME;
      Duration refreshBefore = this.refreshBefore != null ? this.refreshBefore
          : config != null ? config.refreshBefore() : CredentialsConfig.DEFAULT_REFRESH_BEFORE;
      List<String> problems = problems(lifetime, refreshBefore);
      if (!problems.isEmpty()) {
        throw new IllegalArgumentException(String.join("\n", problems));
      }
      GoogleTokenSource.Fetching fetching = source != null ? source : googleSources();
      GoogleTokenEvents reportTo = events;
      // Counted right above the fetching source, so a back-off answering "still failing" is not counted as a fetch.
      Duration timeout = config == null ? CredentialsConfig.DEFAULT_FETCH_TIMEOUT : config.fetchTimeout();
      GoogleTokenSource counted = request -> bounded(fetching.tokenFor(request), request, timeout)
          .whenComplete((t, e) -> reportTo.fetched(e == null));
      FailureBackoff backOff = new FailureBackoff(counted, clock, backOffInitial, backOffMax);
      return new GoogleTokenProvider(new RefreshAheadCache(backOff, clock, refreshBefore, maximumSize, events),
          fetching.needsCaller());
    }

    /**
     * Both Google sources, chosen per request by its mode. The proxy's own credentials are loaded now when
     * {@code impersonate} is the default mode (a broken ADC stops the start), otherwise when a rule first needs them.
     */
    private GoogleTokenSource.Fetching googleSources() throws IOException {
      Supplier<GoogleCredentials> own;
      if (config.mode() == CredentialsConfig.Mode.IMPERSONATE) {
        GoogleCredentials loaded = SourceCredentials.load(config, impersonationTransport);
        own = () -> loaded;
      } else {
        own = Suppliers.memoize(() -> {
          try {
            return SourceCredentials.load(config, impersonationTransport);
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        });
      }
      GoogleTokenSource.Fetching impersonating =
          new ImpersonatingTokenSource(own, config, impersonationTransport, executor);
      GoogleTokenSource.Fetching federating = new FederatingTokenSource(config, impersonationTransport, executor);
      return request -> request.mode() == TokenRequest.Mode.STS ? federating.tokenFor(request)
          : impersonating.tokenFor(request);
    }

    private static CompletableFuture<GoogleToken> bounded(CompletableFuture<GoogleToken> fetch, TokenRequest request,
        Duration timeout) {
      return fetch.orTimeout(timeout.toNanos(), TimeUnit.NANOSECONDS).exceptionallyCompose(e ->
          CompletableFuture.failedFuture(e instanceof TimeoutException
              ? new GoogleTokenUnavailableException(request.serviceAccount(), 0, "no Google access token for "
                  + request.target() + ": Google did not answer within " + timeout + " (credentials.fetch_timeout)", e)
              : e));
    }

    private List<String> problems(Duration lifetime, Duration refreshBefore) {
      List<String> problems = new ArrayList<>();
      if (source == null && impersonationTransport == null) {
        problems.add("fetching source: none (expected: impersonation(transport) or another source)");
      } else if (source != null && impersonationTransport != null) {
        problems.add("fetching source: two given (expected: impersonation(transport) or another source, not both)");
      }
      if (impersonationTransport != null) {
        if (config == null) {
          problems.add("impersonation: no config (expected: config(credentials) naming the source credentials)");
        }
      }
      if (clock == null) {
        problems.add("clock: none (expected: the clock expiries are measured on)");
      }
      if (executor == null) {
        problems.add("executor: none (expected: the blocking executor fetches run on)");
      } else if (executor instanceof EventExecutorGroup) {
        problems.add("executor: " + executor.getClass().getSimpleName()
            + " is an event loop (expected: a blocking executor; fetches block while Google answers)");
      }
      if (refreshBefore.isNegative() || refreshBefore.isZero() || refreshBefore.compareTo(lifetime) >= 0) {
        // At or beyond the lifetime every token would be due for refresh the moment it arrives.
        problems.add("credentials.refresh_before: " + refreshBefore + " (expected: positive and shorter than lifetime "
            + lifetime + ")");
      }
      if (backOffInitial.isNegative() || backOffInitial.isZero() || backOffMax.compareTo(backOffInitial) < 0) {
        problems.add("back-off: " + backOffInitial + " doubling up to " + backOffMax
            + " (expected: a positive initial delay no longer than the maximum)");
      }
      if (maximumSize < 1) {
        problems.add("maximum size: " + maximumSize + " (expected: at least 1)");
      }
      return problems;
    }
  }
}

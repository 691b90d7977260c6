package dev.vertexproxy.proxy.credentials;

import com.google.auth.http.HttpTransportFactory;
import com.google.auth.oauth2.AccessToken;
import com.google.auth.oauth2.GoogleCredentials;
import com.google.auth.oauth2.ImpersonatedCredentials;
import dev.vertexproxy.proxy.config.CredentialsConfig;
import dev.vertexproxy.proxy.credentials.GoogleTokenProvider.GoogleToken;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Supplier;

/**
 * The fetching source of the {@code impersonate} mode: one round trip through google-auth-library per call — the
 * proxy's own keyless source credentials ({@link SourceCredentials}: STS, metadata server…) and then IAM Credentials'
 * {@code generateAccessToken} for the rule's service account ({@link ImpersonatedCredentials}), through the
 * configured delegation chain. No caching and no retrying here: that is the job of the layers above.
 *
 * <p>The library blocks, so every fetch runs on the injected executor, never on the caller's thread. Thread-safe.
 */
final class ImpersonatingTokenSource implements GoogleTokenSource.Fetching {
  private static final String PROXY_IDENTITY = "the proxy's identity";

  private final Supplier<GoogleCredentials> source;
  private final CredentialsConfig config;
  private final HttpTransportFactory transport;
  private final Executor executor;

  /** @param source the proxy's own credentials, loaded when first needed (a failure fails that fetch) */
  ImpersonatingTokenSource(Supplier<GoogleCredentials> source, CredentialsConfig config, HttpTransportFactory transport,
      Executor executor) {
    this.source = source;
    this.config = config;
    this.transport = transport;
    this.executor = executor;
  }

  @Override
  public CompletableFuture<GoogleToken> tokenFor(TokenRequest request) {
    return onExecutor(executor, request, () -> fetch(request));
  }

  /** {@code fetch} on the blocking executor; a full executor fails the future instead of throwing at the caller. */
  static CompletableFuture<GoogleToken> onExecutor(Executor executor, TokenRequest request, Supplier<GoogleToken> fetch) {
    try {
      return CompletableFuture.supplyAsync(fetch, executor);
    } catch (RejectedExecutionException e) {
      return CompletableFuture.failedFuture(new GoogleTokenUnavailableException(request.serviceAccount(), 0,
          "no Google access token for " + request.target() + ": the blocking executor refused the fetch", e));
    }
  }

  private GoogleToken fetch(TokenRequest request) {
    String serviceAccount = request.serviceAccount();
    AccessToken token;
    try {
      token = impersonate(source.get(), serviceAccount, config, transport).refreshAccessToken();
    } catch (IOException | RuntimeException e) {
      throw GoogleErrors.unavailable(request, PROXY_IDENTITY, e instanceof UncheckedIOException u ? u.getCause() : e);
    }
    return checked(token, serviceAccount, serviceAccount, null);
  }

  /** {@code source} impersonating {@code serviceAccount} through the configured chain, scopes and lifetime. */
  static ImpersonatedCredentials impersonate(GoogleCredentials source, String serviceAccount, CredentialsConfig config,
      HttpTransportFactory transport) {
    ImpersonatedCredentials.Builder builder = ImpersonatedCredentials.newBuilder()
        .setSourceCredentials(source)
        .setTargetPrincipal(serviceAccount)
        .setDelegates(config.delegates())
        .setScopes(config.scopes())
        .setLifetime(Math.toIntExact(config.lifetime().toSeconds()))
        .setHttpTransportFactory(transport);
    if (config.iamEndpoint() != null) {
      // google-auth 1.57 uses the override verbatim as the full generateAccessToken URL.
      builder.setIamEndpointOverride(generateAccessTokenUrl(config.iamEndpoint().toString(), serviceAccount));
    }
    return builder.build();
  }

  /**
   * The library's token as ours, its expiry capped at {@code notAfter} when given; a token without an expiry is
   * refused (nothing could say when to stop using it).
   */
  static GoogleToken checked(AccessToken token, String serviceAccount, String principal, Instant notAfter) {
    if (token == null || token.getExpirationTime() == null) {
      throw new GoogleTokenUnavailableException(serviceAccount, 0,
          "no Google access token for " + principal + ": Google answered without an expiry", null);
    }
    Instant expiresAt = token.getExpirationTime().toInstant();
    if (notAfter != null && notAfter.isBefore(expiresAt)) {
      expiresAt = notAfter;
    }
    return new GoogleToken(token.getTokenValue(), expiresAt, principal);
  }

  static String generateAccessTokenUrl(String iamBase, String serviceAccount) {
    String base = iamBase.endsWith("/") ? iamBase.substring(0, iamBase.length() - 1) : iamBase;
    return base + "/v1/projects/-/serviceAccounts/" + serviceAccount + ":generateAccessToken";
  }
}

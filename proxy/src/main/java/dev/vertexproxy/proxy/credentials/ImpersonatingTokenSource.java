package dev.vertexproxy.proxy.credentials;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.api.client.http.HttpResponseException;
import com.google.auth.http.HttpTransportFactory;
import com.google.auth.oauth2.AccessToken;
import com.google.auth.oauth2.GoogleCredentials;
import com.google.auth.oauth2.ImpersonatedCredentials;
import dev.vertexproxy.proxy.config.CredentialsConfig;
import dev.vertexproxy.proxy.credentials.GoogleTokenProvider.GoogleToken;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/**
 * The fetching source of the {@code impersonate} mode: one round trip through google-auth-library per call — the
 * proxy's own keyless source credentials ({@link SourceCredentials}: STS, metadata server…) and then IAM Credentials'
 * {@code generateAccessToken} for the rule's service account ({@link ImpersonatedCredentials}). No caching and no
 * retrying here: that is the job of the layers above.
 *
 * <p>The library blocks, so every fetch runs on the injected executor, never on the caller's thread. Thread-safe.
 */
final class ImpersonatingTokenSource implements GoogleTokenSource.Fetching {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final GoogleCredentials source;
  private final CredentialsConfig config;
  private final HttpTransportFactory transport;
  private final Executor executor;

  ImpersonatingTokenSource(GoogleCredentials source, CredentialsConfig config, HttpTransportFactory transport,
      Executor executor) {
    this.source = source;
    this.config = config;
    this.transport = transport;
    this.executor = executor;
  }

  @Override
  public CompletableFuture<GoogleToken> tokenFor(TokenRequest request) {
    String serviceAccount = request.serviceAccount();
    try {
      return CompletableFuture.supplyAsync(() -> fetch(serviceAccount), executor);
    } catch (RejectedExecutionException e) {
      return CompletableFuture.failedFuture(new GoogleTokenUnavailableException(serviceAccount, 0,
          "no Google access token for " + serviceAccount + ": the blocking executor refused the fetch", e));
    }
  }

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

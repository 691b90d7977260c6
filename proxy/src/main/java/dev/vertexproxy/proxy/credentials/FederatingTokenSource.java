package dev.vertexproxy.proxy.credentials;

import com.google.auth.http.HttpTransportFactory;
import com.google.auth.oauth2.AccessToken;
import com.google.auth.oauth2.ExternalAccountCredentials.SubjectTokenTypes;
import com.google.auth.oauth2.GoogleCredentials;
import com.google.auth.oauth2.IdentityPoolCredentials;
import dev.vertexproxy.policy.RuleCredentials;
import dev.vertexproxy.proxy.config.CredentialsConfig;
import dev.vertexproxy.proxy.credentials.GoogleTokenProvider.GoogleToken;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * The fetching source of the {@code sts} mode: the caller's own verified OIDC token, handed to google-auth-library's
 * {@link IdentityPoolCredentials} through a subject-token supplier, is exchanged at Google STS for a federated token
 * of the request's workload identity provider; with a service account that federated identity then impersonates it
 * ({@link ImpersonatingTokenSource#impersonate}, the same IAM path and delegation chain as the {@code impersonate}
 * mode). Google's audit logs name the caller: {@code principal://…/subject/SUB} directly, or as the first delegate
 * of the service account's token.
 *
 * <p>No token outlives the caller's own: its expiry is capped at {@link TokenRequest#callerExpiresAt()}. The caller's
 * token lives only in the supplier of one credentials object for the duration of one fetch. Blocking library calls
 * run on the injected executor. Thread-safe.
 */
final class FederatingTokenSource implements GoogleTokenSource.Fetching {
  private final CredentialsConfig config;
  private final HttpTransportFactory transport;
  private final Executor executor;

  FederatingTokenSource(CredentialsConfig config, HttpTransportFactory transport, Executor executor) {
    this.config = config;
    this.transport = transport;
    this.executor = executor;
  }

  @Override
  public boolean needsCaller() {
    return true;
  }

  @Override
  public CompletableFuture<GoogleToken> tokenFor(TokenRequest request) {
    return ImpersonatingTokenSource.onExecutor(executor, request, () -> fetch(request));
  }

  private GoogleToken fetch(TokenRequest request) {
    String subject = request.caller().orElseThrow().subject();
    String federatedPrincipal = RuleCredentials.federatedPrincipal(request.audience(), subject);
    String callerToken = request.callerToken();
    GoogleCredentials federated = IdentityPoolCredentials.newBuilder()
        .setSubjectTokenSupplier(context -> callerToken)
        .setSubjectTokenType(SubjectTokenTypes.JWT)
        .setAudience(request.audience())
        .setTokenUrl(config.sts().tokenUrl().toString())
        // the federated token is what impersonates the account, and IAM Credentials wants cloud-platform for that
        .setScopes(request.serviceAccount() == null ? config.scopes() : List.of(CredentialsConfig.CLOUD_PLATFORM_SCOPE))
        .setHttpTransportFactory(transport)
        .build();
    AccessToken token;
    try {
      token = request.serviceAccount() == null ? federated.refreshAccessToken()
          : ImpersonatingTokenSource.impersonate(federated, request.serviceAccount(), config, transport)
              .refreshAccessToken();
    } catch (IOException | RuntimeException e) {
      throw GoogleErrors.unavailable(request, "the federated caller " + federatedPrincipal, e);
    }
    String principal = request.serviceAccount() != null ? request.serviceAccount() : federatedPrincipal;
    return ImpersonatingTokenSource.checked(token, request.serviceAccount(), principal, request.callerExpiresAt());
  }
}

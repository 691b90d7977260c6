package dev.vertexproxy.proxy.admission;

import dev.vertexproxy.proxy.credentials.GoogleTokenProvider;
import dev.vertexproxy.proxy.credentials.TokenRequest;
import dev.vertexproxy.proxy.logging.RequestLog;
import dev.vertexproxy.proxy.reason.Reason;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which Google credential goes to Vertex: a cached access token for the allowing rule's service account, never fetched
 * on the event loop. Last step, after {@link PolicyStep}; asynchronous on a cache miss. A token we could not obtain is our
 * 503 ({@code credentials-unavailable}); the policy's {@code allow} stands in the record.
 */
public final class CredentialsStep implements AdmissionStep {
  private static final Logger log = LoggerFactory.getLogger(CredentialsStep.class);

  private final GoogleTokenProvider tokens;

  /** Fetches, hits and misses are counted by the token stack itself ({@code GoogleTokenEvents}), not here. */
  public CredentialsStep(GoogleTokenProvider tokens) {
    this.tokens = tokens;
  }

  @Override
  public String name() {
    return "credentials";
  }

  @Override
  public CompletionStage<Verdict> decide(Admission admission) {
    String serviceAccount = admission.decision().serviceAccount();
    // The verified caller goes along for modes that act as the caller; impersonation drops it before any layer sees it.
    TokenRequest request = admission.caller() == null ? TokenRequest.impersonating(serviceAccount)
        : TokenRequest.forCaller(serviceAccount, admission.caller(), admission.callerToken());
    RequestLog.Context logContext = RequestLog.current();
    return tokens.tokenFor(request).handle((token, err) -> {
      if (err == null) {
        admission.googleToken(token);
        return Verdict.proceed();
      }
      logContext.run(() -> {
        log.warn("no Google token for {}: {}", serviceAccount, IdentityStep.unwrap(err).getMessage());
      });
      return Verdict.refuse(Reason.CREDENTIALS_UNAVAILABLE,
          "The proxy could not obtain Google credentials for this request; try again later.");
    });
  }
}

package dev.vertexproxy.proxy.admission;

import dev.vertexproxy.policy.Decision;
import dev.vertexproxy.policy.RuleCredentials;
import dev.vertexproxy.proxy.config.CredentialsConfig;
import dev.vertexproxy.proxy.credentials.CredentialsPlan;
import dev.vertexproxy.proxy.credentials.GoogleTokenProvider;
import dev.vertexproxy.proxy.credentials.TokenRequest;
import dev.vertexproxy.proxy.logging.RequestLog;
import dev.vertexproxy.proxy.reason.Reason;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which Google credential goes to Vertex: a cached access token obtained as the allowing rule says — by
 * impersonating its service account, or ({@code sts}) by exchanging the caller's own token at Google STS — never
 * fetched on the event loop. Last step, after {@link PolicyStep}; asynchronous on a cache miss. A token we could not
 * obtain is our 503 ({@code credentials-unavailable}); the policy's {@code allow} stands in the record.
 */
public final class CredentialsStep implements AdmissionStep {
  private static final Logger log = LoggerFactory.getLogger(CredentialsStep.class);
  private static final String UNAVAILABLE = "The proxy could not obtain Google credentials for this request; try again"
      + " later.";

  private final GoogleTokenProvider tokens;
  private final CredentialsConfig defaults;

  /** In {@code impersonate} mode for every rule without a {@code credentials:} block of its own. */
  public CredentialsStep(GoogleTokenProvider tokens) {
    this(tokens, CredentialsConfig.impersonate(null));
  }

  /**
   * @param defaults proxy.yaml's {@code credentials}: the mode and provider of rules without a block of their own.
   *                 Fetches, hits and misses are counted by the token stack itself ({@code GoogleTokenEvents}).
   */
  public CredentialsStep(GoogleTokenProvider tokens, CredentialsConfig defaults) {
    this.tokens = tokens;
    this.defaults = defaults;
  }

  @Override
  public String name() {
    return "credentials";
  }

  @Override
  public CompletionStage<Verdict> decide(Admission admission) {
    Decision decision = admission.decision();
    String serviceAccount = decision.serviceAccount();
    RuleCredentials own = decision.credentials();
    boolean sts = CredentialsPlan.modeOf(own, defaults) == CredentialsConfig.Mode.STS;
    TokenRequest request;
    RequestLog.Context logContext = RequestLog.current();
    if (sts) {
      String audience = CredentialsPlan.audienceOf(own, defaults);
      if (admission.caller() == null || admission.callerExpiresAt() == null || audience == null
          || admission.callerProxyIssued()) {
        // checked when the policy loads (CredentialsPlan); this is the guard should a rule slip through anyway
        logContext.run(() -> log.warn("rule {} is in sts mode but {}", decision.rule(), audience == null
            ? "names no workload identity provider" : "the caller's token is the proxy's own, which Google STS does"
                + " not accept"));
        return CompletableFuture.completedFuture(Verdict.refuse(Reason.CREDENTIALS_UNAVAILABLE, UNAVAILABLE));
      }
      request = TokenRequest.federating(audience, serviceAccount, admission.caller(), admission.callerToken(),
          admission.callerExpiresAt());
    } else {
      // the caller goes along for sources that act as the caller; impersonation drops it before any layer sees it
      request = admission.caller() == null ? TokenRequest.impersonating(serviceAccount)
          : TokenRequest.forCaller(serviceAccount, admission.caller(), admission.callerToken());
    }
    return tokens.tokenFor(request).handle((token, err) -> {
      if (err == null) {
        admission.googleToken(token);
        return Verdict.proceed();
      }
      logContext.run(() -> {
        log.warn("no Google token for {}: {}", request.target(), IdentityStep.unwrap(err).getMessage());
      });
      return Verdict.refuse(Reason.CREDENTIALS_UNAVAILABLE, UNAVAILABLE);
    });
  }
}

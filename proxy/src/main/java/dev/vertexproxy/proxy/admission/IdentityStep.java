package dev.vertexproxy.proxy.admission;

import dev.vertexproxy.proxy.identity.IdentityException;
import dev.vertexproxy.proxy.identity.TokenVerifier;
import dev.vertexproxy.proxy.logging.RequestLog;
import dev.vertexproxy.proxy.reason.Reason;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who is calling: verifies the caller's bearer JWT ({@code Proxy-Authorization} wins over {@code Authorization}).
 * After {@link RouteStep}, before {@link PolicyStep}; asynchronous when the issuer's keys must be fetched. A refused
 * token is the caller's 401; an issuer or key set we could not reach is our 503, never a refusal of the caller.
 */
public final class IdentityStep implements AdmissionStep {
  private static final Logger log = LoggerFactory.getLogger(IdentityStep.class);

  private final TokenVerifier verifier;

  public IdentityStep(TokenVerifier verifier) {
    this.verifier = verifier;
  }

  @Override
  public String name() {
    return "identity";
  }

  @Override
  public CompletionStage<Verdict> decide(Admission admission) {
    HttpHeaders headers = admission.head().headers();
    String header = headers.get(HttpHeaderNames.PROXY_AUTHORIZATION);
    if (header == null) {
      header = headers.get(HttpHeaderNames.AUTHORIZATION);
    }
    if (header == null) {
      return AdmissionStep.decided(Verdict.refuse(Reason.TOKEN_MISSING,
          "Request is missing an OIDC bearer token (Authorization: Bearer <token>)."));
    }
    if (header.length() < 8 || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return AdmissionStep.decided(Verdict.refuse(Reason.TOKEN_MALFORMED,
          "The Authorization header must use the Bearer scheme."));
    }
    String token = header.substring(7).trim();
    RequestLog.Context logContext = RequestLog.current();
    return verifier.verifyToken(token).handle((verified, err) -> {
      if (err == null) {
        admission.caller(verified, token);
        return Verdict.proceed();
      }
      Throwable cause = unwrap(err);
      if (cause instanceof IdentityException ie) {
        return Verdict.refuse(Reason.of(ie.reason()), ie.getMessage());
      }
      logContext.run(() -> {
        log.warn("identity verification failed unexpectedly: {}", cause.toString());
      });
      return Verdict.refuse(Reason.IDENTITY_UNAVAILABLE, "The caller's identity could not be verified right now.");
    });
  }

  static Throwable unwrap(Throwable t) {
    while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }
}

package dev.vertexproxy.proxy.login.page;

import dev.vertexproxy.policy.Policy;
import dev.vertexproxy.proxy.identity.TokenVerifier;
import dev.vertexproxy.proxy.identity.VerifiedToken;
import dev.vertexproxy.proxy.login.BrowserLogin;
import dev.vertexproxy.proxy.login.Csrf;
import dev.vertexproxy.proxy.login.SessionCookie;
import dev.vertexproxy.proxy.login.SessionIssuer;
import dev.vertexproxy.proxy.reason.Reason;
import dev.vertexproxy.proxy.reserved.ReservedEndpoint;
import dev.vertexproxy.proxy.reserved.ReservedRequest;
import dev.vertexproxy.proxy.reserved.ReservedResponse;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/**
 * {@code GET /_proxy/}: the page for people ({@link PersonPage}) for the session in the cookie. No cookie, or an
 * expired or otherwise unusable one: off to {@code /_proxy/login}, which comes back here. A revoked session or subject
 * is shown as such ({@code session-revoked}, 401) with a way to log in again, not silently sent round the login.
 * Thread-safe.
 */
public final class PersonPageEndpoint implements ReservedEndpoint {
  private final SessionIssuer issuer;
  private final TokenVerifier verifier;
  private final Supplier<Policy> policy;
  private final RecentRequests recent;

  /** The page for sessions of {@code issuer}, explaining {@code policy} (read per request: a reload shows at once). */
  public PersonPageEndpoint(SessionIssuer issuer, TokenVerifier verifier, Supplier<Policy> policy, RecentRequests recent) {
    this.issuer = issuer;
    this.verifier = verifier;
    this.policy = policy;
    this.recent = recent;
  }

  @Override
  public CompletionStage<ReservedResponse> handle(ReservedRequest request) {
    return SessionCookie.check(request, verifier).thenApply(read -> {
      if (read.refusal() == Reason.SESSION_REVOKED) {
        return BrowserLogin.htmlPage(ReservedResponse.status(401), Html.errorPage("Session revoked",
            "This session has been revoked. Log in again if you should still have access.", Reason.SESSION_REVOKED.code(),
            request.requestId())).header("Set-Cookie", SessionCookie.clear(issuer.url()))
            .reason(Reason.SESSION_REVOKED).auditMethod("proxy.page");
      }
      if (read.session().isEmpty()) {
        return ReservedResponse.status(303).header("Location", "/_proxy/login?next=/_proxy/")
            .reason(Reason.SESSION_REQUIRED).auditMethod("proxy.page");
      }
      VerifiedToken session = read.session().get();
      PersonPage.View view = new PersonPage.View(session.caller(), issuer.url(), session.expiresAt(), read.token(),
          Csrf.token(issuer, session.sessionId()), policy.get(),
          recent.of(session.caller().issuer(), session.caller().subject()), request.now());
      return BrowserLogin.htmlPage(ReservedResponse.status(200), PersonPage.render(view))
          .reason(Reason.SERVED).caller(session.caller()).auditMethod("proxy.page");
    });
  }
}

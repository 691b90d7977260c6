package dev.vertexproxy.proxy.login;

import dev.vertexproxy.proxy.identity.TokenVerifier;
import dev.vertexproxy.proxy.identity.VerifiedToken;
import dev.vertexproxy.proxy.login.page.Html;
import dev.vertexproxy.proxy.reason.Reason;
import dev.vertexproxy.proxy.reserved.ReservedEndpoint;
import dev.vertexproxy.proxy.reserved.ReservedRequest;
import dev.vertexproxy.proxy.reserved.ReservedResponse;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;

/**
 * {@code POST /_proxy/logout}: ends the browser's session for good — the session token is revoked (at once on this
 * replica, within seconds on the others), so a token copied from the page stops working too — and clears the cookie.
 * Needs the session cookie ({@code session-required}) and the page's CSRF token in the form field {@code csrf}
 * ({@code csrf-token-invalid}); a body that is not a well-formed form is {@code request-malformed}. Thread-safe.
 */
public final class BrowserLogout implements ReservedEndpoint {
  private final SessionIssuer issuer;
  private final TokenVerifier verifier;
  private final Executor blocking;

  /** Logs out sessions of {@code issuer}, read with {@code verifier}; the revocation is written on {@code blocking}. */
  public BrowserLogout(SessionIssuer issuer, TokenVerifier verifier, Executor blocking) {
    this.issuer = issuer;
    this.verifier = verifier;
    this.blocking = blocking;
  }

  @Override
  public CompletionStage<ReservedResponse> handle(ReservedRequest request) {
    Map<String, List<String>> form;
    try {
      form = request.form();
    } catch (IllegalArgumentException e) {
      return BrowserLogin.done(BrowserLogin.page(request, 400, Reason.REQUEST_MALFORMED, "Not a form",
          "Log out with the button on the page."));
    }
    return SessionCookie.check(request, verifier).thenCompose(read -> {
      if (read.session().isEmpty()) {
        return BrowserLogin.done(BrowserLogin.page(request, 401, Reason.SESSION_REQUIRED, "Not logged in",
            "There is no session in this browser to log out of.").header("Set-Cookie", SessionCookie.clear(issuer.url())));
      }
      VerifiedToken session = read.session().get();
      String id = session.sessionId();
      if (id == null || !Csrf.check(issuer, id, ReservedRequest.first(form, Csrf.FIELD).orElse(null))) {
        return BrowserLogin.done(BrowserLogin.page(request, 403, Reason.CSRF_TOKEN_INVALID, "Log out from the page",
            "The request did not carry this session's form token, so it may not come from the proxy's page.")
            .caller(session.caller()));
      }
      return CompletableFuture.runAsync(() -> {
        try {
          issuer.revocations().revokeSession(id, session.expiresAt());
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }, blocking).handle((ok, err) -> err == null ? loggedOut(session)
          : BrowserLogin.page(request, 500, Reason.INTERNAL_ERROR, "Logout failed",
              "The session could not be revoked just now; it is still valid. Try again.")
              .caller(session.caller()).message("the revocation list could not be written"));
    });
  }

  private ReservedResponse loggedOut(VerifiedToken session) {
    String body = "<section id=\"logged-out\"><h1>Logged out</h1><p>Your session and any token copied from it are"
        + " revoked.</p><p><a href=\"/_proxy/login\">Log in again</a></p></section>";
    return BrowserLogin.htmlPage(ReservedResponse.status(200), Html.page("Logged out", body, false))
        .header("Set-Cookie", SessionCookie.clear(issuer.url()))
        .reason(Reason.SERVED).caller(session.caller()).auditMethod("proxy.logout");
  }
}

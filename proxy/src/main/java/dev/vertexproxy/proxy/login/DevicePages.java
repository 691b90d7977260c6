package dev.vertexproxy.proxy.login;

import dev.vertexproxy.proxy.login.page.Html;
import dev.vertexproxy.proxy.identity.TokenVerifier;
import dev.vertexproxy.proxy.identity.VerifiedToken;
import dev.vertexproxy.proxy.reason.Reason;
import dev.vertexproxy.proxy.reserved.ReservedRequest;
import dev.vertexproxy.proxy.reserved.ReservedResponse;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * What the device-approval and CLI-authorize pages share: the person's browser session, their CSRF token, the way to
 * the browser login when there is no session, and plain server-rendered HTML in which every value is escaped.
 *
 * <p>The pages carry no script and load only the proxy's own stylesheet; their policy allows forms to post only to the
 * proxy (and, for the CLI's confirmation, to the loopback redirect the proxy then answers with). The session is the
 * browser login's ({@link SessionCookie}), verified on every request, revocation included; CSRF tokens are its
 * ({@link Csrf}).
 */
final class DevicePages {
  static final String LOGIN_PATH = "/_proxy/login";
  static final String CSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
      + "frame-ancestors 'none'; base-uri 'none'";
  static final String RESUME_COOKIE = "vp_resume";

  private DevicePages() {
  }

  /**
   * A browser session as the pages need it.
   *
   * @param token the verified session token
   * @param id    its {@code jti}: what the CSRF token is bound to
   */
  record Session(VerifiedToken token, String id) {
    /** Who the person is, as they would recognise themselves: {@code email}, else {@code sub}. */
    String who() {
      Object email = token.caller().claims().get("email");
      return email instanceof String e && !e.isEmpty() ? e : token.caller().subject();
    }
  }

  /** The person's browser session ({@link SessionCookie}), when the request carries a valid one. */
  static CompletionStage<Optional<Session>> session(ReservedRequest request, TokenVerifier verifier) {
    return SessionCookie.read(request, verifier).thenApply(v -> v.filter(t -> t.sessionId() != null)
        .map(t -> new Session(t, t.sessionId())));
  }

  /**
   * The browser login, coming back to {@code path} once the person is signed in, with {@code query} (the request's
   * own, already checked) waiting for it in a cookie. The login takes only a plain path as {@code next} — a query
   * could smuggle another target — so what the page needs to resume travels beside it: a cookie scoped to that one
   * path, HMAC-sealed under {@code secret("resume")} so no other site can plant a request, living as long as a login
   * attempt may, sent back on the top-level navigation {@code SameSite=Lax} allows.
   */
  static ReservedResponse toLogin(SessionIssuer issuer, String path, String query, String auditMethod) {
    ReservedResponse r = ReservedResponse.redirect(LOGIN_PATH + "?next=" + enc(path)).auditMethod(auditMethod);
    if (query != null && !query.isEmpty()) {
      String value = Base64.getUrlEncoder().withoutPadding().encodeToString(query.getBytes(StandardCharsets.UTF_8));
      r.header("Set-Cookie", RESUME_COOKIE + "=" + value + "." + seal(issuer, path, value) + "; Path=" + path
          + "; HttpOnly; SameSite=Lax; Max-Age=600" + (issuer.url().startsWith("https://") ? "; Secure" : ""));
    }
    return r;
  }

  /** The query {@link #toLogin} left waiting for {@code path}, when the request carries an intact one. */
  static Optional<String> resumed(SessionIssuer issuer, ReservedRequest request, String path) {
    Optional<String> cookie = request.cookie(RESUME_COOKIE);
    if (cookie.isEmpty()) {
      return Optional.empty();
    }
    int dot = cookie.get().indexOf('.');
    if (dot < 0) {
      return Optional.empty();
    }
    String value = cookie.get().substring(0, dot);
    if (!Hmac.equal(seal(issuer, path, value).getBytes(StandardCharsets.US_ASCII),
        cookie.get().substring(dot + 1).getBytes(StandardCharsets.US_ASCII))) {
      return Optional.empty();
    }
    try {
      return Optional.of(new String(Base64.getUrlDecoder().decode(value), StandardCharsets.UTF_8));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  /** The {@code Set-Cookie} that drops a resumed request once it has been acted on. */
  static String clearResume(String path) {
    return RESUME_COOKIE + "=; Path=" + path + "; HttpOnly; SameSite=Lax; Max-Age=0";
  }

  private static String seal(SessionIssuer issuer, String path, String value) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(
        Hmac.sha256(issuer.secret("resume"), (path + "\n" + value).getBytes(StandardCharsets.UTF_8)));
  }

  /** A whole page; {@code body} is markup built from constants and {@link #text}. */
  static String page(String title, String body) {
    return "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        + "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        + "<meta name=\"referrer\" content=\"no-referrer\"><link rel=\"stylesheet\" href=\"/_proxy/static/page.css\">"
        + "<title>" + text(title) + "</title></head><body><header><a class=\"brand\" href=\"/_proxy/\">vertex-proxy</a>"
        + "</header><main>" + body + "</main></body></html>\n";
  }

  /** An HTML answer with the pages' policy. */
  static ReservedResponse html(int status, String title, String body, String auditMethod) {
    return html(status, title, body, auditMethod, CSP);
  }

  /** An HTML answer with its own policy. */
  static ReservedResponse html(int status, String title, String body, String auditMethod, String csp) {
    return ReservedResponse.status(status).html(page(title, body)).header("Content-Security-Policy", csp)
        .auditMethod(auditMethod);
  }

  /** The plain error page of a refusal: what went wrong, and the reason and request id to quote to an operator. */
  static ReservedResponse error(ReservedRequest request, Reason reason, String heading, String message,
      String auditMethod) {
    String body = "<section class=\"error\"><h1>" + text(heading) + "</h1><p id=\"message\">" + text(message)
        + "</p><p class=\"meta\">reason <code id=\"reason\">" + text(reason.code()) + "</code> · request <code>"
        + text(request.requestId()) + "</code></p></section>";
    return html(reason.httpStatus(), heading, body, auditMethod).reason(reason).message(message);
  }

  /** A hidden form field. */
  static String hidden(String name, String value) {
    return "<input type=\"hidden\" name=\"" + text(name) + "\" value=\"" + text(value) + "\">";
  }

  /** {@code value} escaped for an HTML text node or a double-quoted attribute; {@code null} becomes empty. */
  static String text(Object value) {
    return Html.text(value);
  }


  static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }
}

package dev.vertexproxy.proxy.login;

import dev.vertexproxy.proxy.identity.TokenVerifier;
import dev.vertexproxy.proxy.reason.Reason;
import dev.vertexproxy.proxy.reserved.ReservedEndpoint;
import dev.vertexproxy.proxy.reserved.ReservedRequest;
import dev.vertexproxy.proxy.reserved.ReservedResponse;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executor;

/**
 * {@code /_proxy/cli/authorize}: the authorization endpoint of the CLI's loopback login (RFC 6749 §4.1 with RFC 7636
 * PKCE and RFC 8252 loopback redirects). {@code GET} checks the request and shows the person — signed in by the
 * browser login first if need be — one question: sign in the CLI on this machine as them? {@code POST} (CSRF) answers
 * it: a one-time code ({@link CliAuthorizeCodes}) sent to the CLI's loopback listener, or {@code access_denied}.
 *
 * <p>The confirmation is not a formality. Without it, any page could send a signed-in person's browser here with its
 * own {@code redirect_uri} port and state and have a code for the person delivered to whatever listens there; the
 * CSRF-protected POST means only a deliberate click on the proxy's own page issues a code.
 *
 * <p>The request is checked before anything is shown or anyone is redirected, and a bad one is an error page, never a
 * redirect (RFC 6749 §4.1.2.1): the client must be {@code vertex-proxy-cli}, the {@code redirect_uri}
 * {@code http://127.0.0.1:PORT/…} or {@code http://[::1]:PORT/…} (any port, RFC 8252 §7.3; not {@code localhost},
 * which a resolver may send elsewhere, §8.3), {@code response_type} {@code code}, the challenge method {@code S256}
 * (never {@code plain}), and a {@code state}.
 */
public final class CliAuthorizeEndpoint {
  public static final String PATH = IssuerMetadata.AUTHORIZATION_PATH;
  static final String AUDIT_METHOD = "proxy.cli.authorize";
  /** The pages' policy, plus the loopback redirect the confirmation's form submission ends in. */
  static final String CSP = DevicePages.CSP.replace("form-action 'self'",
      "form-action 'self' http://127.0.0.1:* http://[::1]:*");
  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'")
      .withZone(ZoneOffset.UTC);
  private static final List<String> PARAMS = List.of("response_type", "client_id", "redirect_uri", "state",
      "code_challenge", "code_challenge_method");

  private final SessionIssuer issuer;
  private final TokenVerifier verifier;
  private final CliAuthorizeCodes codes;
  private final Executor blocking;

  public CliAuthorizeEndpoint(SessionIssuer issuer, TokenVerifier verifier, CliAuthorizeCodes codes, Executor blocking) {
    this.issuer = issuer;
    this.verifier = verifier;
    this.codes = codes;
    this.blocking = blocking;
  }

  /** A checked authorization request. */
  record Params(String redirectUri, String state, String codeChallenge) {
  }

  /** {@code GET}: check, then the browser login or the confirmation. */
  public ReservedEndpoint ask() {
    return request -> DevicePages.session(request, verifier).thenApply(s -> {
      Params p;
      try {
        Map<String, List<String>> q = request.query();
        Optional<String> resumed = q.isEmpty() ? DevicePages.resumed(issuer, request, PATH) : Optional.empty();
        if (resumed.isPresent()) {
          q = new QueryStringDecoder(resumed.get(), false).parameters(); // back from the browser login
        }
        p = check(q);
      } catch (IllegalArgumentException e) {
        return DevicePages.error(request, Reason.GRANT_INVALID, "Bad sign-in request", e.getMessage(), AUDIT_METHOD);
      }
      if (s.isEmpty()) {
        return DevicePages.toLogin(issuer, PATH, query(p), AUDIT_METHOD);
      }
      String csrf = DevicePages.hidden(Csrf.FIELD, Csrf.token(issuer, s.get().id()));
      StringBuilder hidden = new StringBuilder(csrf);
      hidden.append(DevicePages.hidden("response_type", "code"))
          .append(DevicePages.hidden("client_id", OAuthTokenEndpoint.CLIENT_ID))
          .append(DevicePages.hidden("redirect_uri", p.redirectUri())).append(DevicePages.hidden("state", p.state()))
          .append(DevicePages.hidden("code_challenge", p.codeChallenge()))
          .append(DevicePages.hidden("code_challenge_method", "S256"));
      String body = "<h1>Sign in the vertex-proxy CLI?</h1><p>Sign in <code>vertex-proxy</code> on this machine as "
          + "<strong id=\"who\">" + DevicePages.text(s.get().who()) + "</strong>? It gets its own session, with what you "
          + "may do now, until " + DevicePages.text(TIME.format(s.get().token().expiresAt())) + " at the latest.</p>"
          + "<p>Continue only if you just ran <code>vertex-proxy login</code> yourself.</p>"
          + "<form method=\"post\" action=\"" + PATH + "\">" + hidden + DevicePages.hidden("decision", "approve")
          + "<button type=\"submit\" id=\"approve\">Sign in</button></form>"
          + "<form method=\"post\" action=\"" + PATH + "\">" + hidden + DevicePages.hidden("decision", "deny")
          + "<button type=\"submit\" id=\"deny\">Cancel</button></form>";
      return DevicePages.html(200, "Sign in the vertex-proxy CLI?", body, AUDIT_METHOD, CSP)
          .caller(s.get().token().caller());
    });
  }

  /** {@code POST}: the person's answer, with CSRF; a code or {@code access_denied} to the loopback redirect. */
  public ReservedEndpoint answer() {
    return request -> DevicePages.session(request, verifier).thenApplyAsync(s -> {
      if (s.isEmpty()) {
        return DevicePages.error(request, Reason.SESSION_REQUIRED, "Not signed in",
            "Your browser session ended; run vertex-proxy login again.", AUDIT_METHOD);
      }
      Map<String, List<String>> form;
      Params p;
      String decision;
      try {
        form = request.form();
        if (!Csrf.check(issuer, s.get().id(), ReservedRequest.single(form, Csrf.FIELD).orElse(null))) {
          return DevicePages.error(request, Reason.CSRF_TOKEN_INVALID, "Refused",
              "This form did not come from the proxy's page; run vertex-proxy login again.", AUDIT_METHOD)
              .caller(s.get().token().caller());
        }
        p = check(form);
        decision = ReservedRequest.single(form, "decision").orElse("");
      } catch (IllegalArgumentException e) {
        return DevicePages.error(request, Reason.GRANT_INVALID, "Bad sign-in request", e.getMessage(), AUDIT_METHOD);
      }
      String back = p.redirectUri() + "?";
      String state = "&state=" + DevicePages.enc(p.state());
      if (decision.equals("deny")) {
        return ReservedResponse.redirect(back + "error=access_denied" + state).auditMethod(AUDIT_METHOD)
            .header("Set-Cookie", DevicePages.clearResume(PATH))
            .reason(Reason.ACCESS_DENIED).caller(s.get().token().caller());
      }
      if (!decision.equals("approve")) {
        return DevicePages.error(request, Reason.GRANT_INVALID, "Nothing decided", "Choose Sign in or Cancel.",
            AUDIT_METHOD);
      }
      Optional<String> code = codes.issue(new CliAuthorizeCodes.Issued(OAuthTokenEndpoint.CLIENT_ID, p.redirectUri(),
          p.codeChallenge(), new DeviceGrants.Approval(s.get().token().caller(), s.get().token().expiresAt(),
              s.get().id(), s.get().token().issuedAt())), request.now());
      if (code.isEmpty()) {
        return DevicePages.error(request, Reason.SLOW_DOWN, "Too many sign-ins",
            "Too many sign-ins are in progress; try again in a minute.", AUDIT_METHOD);
      }
      return ReservedResponse.redirect(back + "code=" + DevicePages.enc(code.get()) + state + "&iss="
          + DevicePages.enc(issuer.url())).header("Set-Cookie", DevicePages.clearResume(PATH)).auditMethod(AUDIT_METHOD)
          .caller(s.get().token().caller());
    }, blocking); // the codes may be a shared file
  }

  /** Checks an authorization request's parameters (query or form); the message says what is wrong. */
  static Params check(Map<String, List<String>> params) {
    for (String name : PARAMS) {
      ReservedRequest.single(params, name);
    }
    if (!OAuthTokenEndpoint.CLIENT_ID.equals(ReservedRequest.first(params, "client_id").orElse(""))) {
      throw new IllegalArgumentException("client_id must be " + OAuthTokenEndpoint.CLIENT_ID);
    }
    String redirect = ReservedRequest.first(params, "redirect_uri").orElse("");
    if (!loopback(redirect)) {
      throw new IllegalArgumentException("redirect_uri must be http://127.0.0.1:PORT/… or http://[::1]:PORT/…");
    }
    if (!"code".equals(ReservedRequest.first(params, "response_type").orElse(""))) {
      throw new IllegalArgumentException("response_type must be code");
    }
    if (!"S256".equals(ReservedRequest.first(params, "code_challenge_method").orElse(""))) {
      throw new IllegalArgumentException("code_challenge_method must be S256");
    }
    String challenge = ReservedRequest.first(params, "code_challenge").orElse("");
    if (!CliAuthorizeCodes.validChallenge(challenge)) {
      throw new IllegalArgumentException("code_challenge must be a S256 challenge (43 base64url characters)");
    }
    String state = ReservedRequest.first(params, "state").orElse("");
    if (state.isEmpty() || state.length() > 512 || !state.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
      throw new IllegalArgumentException("state must be 1 to 512 printable characters");
    }
    return new Params(redirect, state, challenge);
  }

  /** RFC 8252 §7.3 loopback redirect: http, an IP literal of loopback, an explicit port, a path, nothing else. */
  static boolean loopback(String redirect) {
    URI u;
    try {
      u = new URI(redirect);
    } catch (URISyntaxException e) {
      return false;
    }
    return "http".equals(u.getScheme()) && ("127.0.0.1".equals(u.getHost()) || "[::1]".equals(u.getHost()))
        && u.getPort() > 0 && u.getRawUserInfo() == null && u.getRawQuery() == null && u.getRawFragment() == null
        && u.getRawPath() != null && u.getRawPath().startsWith("/") && redirect.length() <= 256;
  }

  private static String query(Params p) {
    return "response_type=code&client_id=" + OAuthTokenEndpoint.CLIENT_ID + "&redirect_uri="
        + DevicePages.enc(p.redirectUri()) + "&state=" + DevicePages.enc(p.state()) + "&code_challenge="
        + p.codeChallenge() + "&code_challenge_method=S256";
  }
}

package dev.vertexproxy.proxy.login;

import dev.vertexproxy.proxy.identity.TokenVerifier;
import dev.vertexproxy.proxy.reason.Reason;
import dev.vertexproxy.proxy.reserved.ReservedEndpoint;
import dev.vertexproxy.proxy.reserved.ReservedRequest;
import dev.vertexproxy.proxy.reserved.ReservedResponse;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;

/**
 * The person's half of the device flow (RFC 8628 §3.3), three steps in the browser of their choice, each needing their
 * browser session:
 *
 * <ol>
 *   <li>{@code GET /_proxy/device[?user_code=…]}: a form to enter the code the terminal shows (filled in from
 *       {@code verification_uri_complete}, never submitted for them); without a session, the browser login first;
 *   <li>{@code POST /_proxy/device} (CSRF): the code is looked up and a confirmation names when and from which address
 *       the sign-in was requested — a code someone else sent you shows a time and place you do not recognise
 *       (RFC 8628 §5.4, remote phishing);
 *   <li>{@code POST /_proxy/device/confirm} (CSRF): approve or deny. Approval binds the person's identity, and their
 *       browser session's expiry and id, to the grant; the CLI's next poll redeems it.
 * </ol>
 *
 * <p>User codes are short by design, so guessing is bounded: every code that matches no pending grant, at either POST,
 * counts against the source address and against the person ({@link DeviceGrants#guessAllowed}); past the bound the
 * page refuses before looking the code up.
 */
public final class DevicePageEndpoint {
  public static final String CONFIRM_PATH = "/_proxy/device/confirm";
  static final String AUDIT_METHOD = "proxy.device.approve";
  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'")
      .withZone(ZoneOffset.UTC);

  private final SessionIssuer issuer;
  private final TokenVerifier verifier;
  private final DeviceGrants devices;
  private final Executor blocking;

  /** {@code blocking} runs the steps that use the store, which may do file I/O ({@link DeviceGrantsInDirectory}). */
  public DevicePageEndpoint(SessionIssuer issuer, TokenVerifier verifier, DeviceGrants devices, Executor blocking) {
    this.issuer = issuer;
    this.verifier = verifier;
    this.devices = devices;
    this.blocking = blocking;
  }

  /** {@code GET /_proxy/device}. */
  public ReservedEndpoint form() {
    return request -> DevicePages.session(request, verifier).thenApply(s -> {
      String code = ReservedRequest.first(request.query(), "user_code")
          .or(() -> DevicePages.resumed(issuer, request, DeviceCodeEndpoint.PAGE_PATH)).orElse("");
      boolean plausible = DeviceGrantsInMemory.normalize(code).length() == 8
          && DeviceGrantsInMemory.normalize(code).chars().allMatch(c -> DeviceGrantsInMemory.ALPHABET.indexOf(c) >= 0);
      if (s.isEmpty()) {
        return DevicePages.toLogin(issuer, DeviceCodeEndpoint.PAGE_PATH, plausible ? code : null, AUDIT_METHOD);
      }
      return codeForm(s.get(), plausible ? code : "", null).caller(s.get().token().caller());
    });
  }

  /** {@code POST /_proxy/device}: the entered code, looked up, and the confirmation. */
  public ReservedEndpoint lookup() {
    return request -> withSession(request, (s, form) -> {
      String code = ReservedRequest.single(form, "user_code").orElse("");
      Optional<ReservedResponse> limited = limited(request, s);
      if (limited.isPresent()) {
        return limited.get();
      }
      Optional<DeviceGrants.Grant> g = devices.pending(code, request.now());
      if (g.isEmpty()) {
        miss(request, s);
        return codeForm(s, "", "No sign-in is waiting for that code. Check it against your terminal, or start "
            + "vertex-proxy login --device again.").reason(Reason.GRANT_INVALID);
      }
      return confirm(s, g.get());
    });
  }

  /** {@code POST /_proxy/device/confirm}: approve or deny. */
  public ReservedEndpoint decide() {
    return request -> withSession(request, (s, form) -> {
      String code = ReservedRequest.single(form, "user_code").orElse("");
      String decision = ReservedRequest.single(form, "decision").orElse("");
      if (!decision.equals("approve") && !decision.equals("deny")) {
        return DevicePages.error(request, Reason.GRANT_INVALID, "Nothing decided", "Choose Approve or Deny.",
            AUDIT_METHOD);
      }
      Optional<ReservedResponse> limited = limited(request, s);
      if (limited.isPresent()) {
        return limited.get();
      }
      boolean done = decision.equals("approve")
          ? devices.approve(code, new DeviceGrants.Approval(s.token().caller(), s.token().expiresAt(), s.id(),
              s.token().issuedAt()), request.now())
          : devices.deny(code, request.now());
      if (!done) {
        miss(request, s);
        return DevicePages.error(request, Reason.GRANT_INVALID, "No such sign-in",
            "No sign-in is waiting for that code any more: it expired or was already decided.", AUDIT_METHOD);
      }
      String body = decision.equals("approve")
          ? "<h1>Approved</h1><p id=\"message\">The vertex-proxy CLI is signed in as " + DevicePages.text(s.who())
            + ". Return to your terminal.</p>"
          : "<h1>Declined</h1><p id=\"message\">The sign-in was declined; the terminal will say so.</p>";
      return DevicePages.html(200, decision.equals("approve") ? "Approved" : "Declined", body, AUDIT_METHOD)
          .caller(s.token().caller());
    });
  }

  /** A step that needs the session and a valid CSRF token; each refusal is its own page and reason. */
  private CompletionStage<ReservedResponse> withSession(ReservedRequest request, Step step) {
    return DevicePages.session(request, verifier).thenApplyAsync(s -> {
      if (s.isEmpty()) {
        return DevicePages.error(request, Reason.SESSION_REQUIRED, "Not signed in",
            "Sign in first: open " + DeviceCodeEndpoint.PAGE_PATH + " again.", AUDIT_METHOD);
      }
      Map<String, List<String>> form;
      try {
        form = request.form();
        if (!Csrf.check(issuer, s.get().id(), ReservedRequest.single(form, Csrf.FIELD).orElse(null))) {
          return DevicePages.error(request, Reason.CSRF_TOKEN_INVALID, "Refused",
              "This form did not come from the proxy's page; open " + DeviceCodeEndpoint.PAGE_PATH + " again.",
              AUDIT_METHOD).caller(s.get().token().caller());
        }
        return step.apply(s.get(), form).caller(s.get().token().caller());
      } catch (IllegalArgumentException e) {
        return DevicePages.error(request, Reason.GRANT_INVALID, "Bad request", e.getMessage(), AUDIT_METHOD);
      }
    }, blocking);
  }

  @FunctionalInterface
  private interface Step {
    ReservedResponse apply(DevicePages.Session s, Map<String, List<String>> form);
  }

  private Optional<ReservedResponse> limited(ReservedRequest request, DevicePages.Session s) {
    if (devices.guessAllowed(ipKey(request), request.now()) && devices.guessAllowed(personKey(s), request.now())) {
      return Optional.empty();
    }
    return Optional.of(DevicePages.error(request, Reason.SLOW_DOWN, "Too many codes",
        "Too many codes that match no sign-in were entered; wait a quarter of an hour and try again.", AUDIT_METHOD));
  }

  private void miss(ReservedRequest request, DevicePages.Session s) {
    devices.missed(ipKey(request), request.now());
    devices.missed(personKey(s), request.now());
  }

  private static String ipKey(ReservedRequest r) {
    return "ip:" + r.sourceIp();
  }

  private static String personKey(DevicePages.Session s) {
    return "person:" + s.token().caller().issuer() + ":" + s.token().caller().subject();
  }

  private ReservedResponse codeForm(DevicePages.Session s, String code, String problem) {
    String body = "<h1>Sign in a device</h1>"
        + (problem == null ? "" : "<p class=\"error\" id=\"message\">" + DevicePages.text(problem) + "</p>")
        + "<p>Enter the code your terminal shows after <code>vertex-proxy login</code>. Only continue if you started "
        + "that sign-in yourself.</p><form method=\"post\" action=\"" + DeviceCodeEndpoint.PAGE_PATH + "\">"
        + DevicePages.hidden(Csrf.FIELD, Csrf.token(issuer, s.id()))
        + "<label>Code <input name=\"user_code\" id=\"user_code\" autocomplete=\"off\" autocapitalize=\"characters\" "
        + "spellcheck=\"false\" value=\"" + DevicePages.text(code) + "\"></label> "
        + "<button type=\"submit\">Continue</button></form>";
    return DevicePages.html(problem == null ? 200 : 400, "Sign in a device", body, AUDIT_METHOD);
  }

  private ReservedResponse confirm(DevicePages.Session s, DeviceGrants.Grant g) {
    String csrf = DevicePages.hidden(Csrf.FIELD, Csrf.token(issuer, s.id()))
        + DevicePages.hidden("user_code", g.userCode());
    String body = "<h1>Sign in the vertex-proxy CLI?</h1><p>A terminal asked to sign in as <strong id=\"who\">"
        + DevicePages.text(s.who()) + "</strong>.</p><dl><dt>Code</dt><dd id=\"code\">" + DevicePages.text(g.userCode())
        + "</dd><dt>Requested</dt><dd id=\"requested\">"
        + DevicePages.text(TIME.format(g.requestedAt().truncatedTo(ChronoUnit.SECONDS)))
        + "</dd><dt>From</dt><dd id=\"source\">" + DevicePages.text(g.sourceIp()) + "</dd></dl>"
        + "<p>Approve only if you started this yourself just now. Whoever holds that terminal gets your access until "
        + DevicePages.text(TIME.format(s.token().expiresAt())) + ".</p>"
        + "<form method=\"post\" action=\"" + CONFIRM_PATH + "\">" + csrf + DevicePages.hidden("decision", "approve")
        + "<button type=\"submit\" id=\"approve\">Approve</button></form>"
        + "<form method=\"post\" action=\"" + CONFIRM_PATH + "\">" + csrf + DevicePages.hidden("decision", "deny")
        + "<button type=\"submit\" id=\"deny\">Deny</button></form>";
    return DevicePages.html(200, "Sign in the vertex-proxy CLI?", body, AUDIT_METHOD);
  }
}

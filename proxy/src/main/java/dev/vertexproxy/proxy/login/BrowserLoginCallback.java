package dev.vertexproxy.proxy.login;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vertexproxy.proxy.config.IssuerConfig;
import dev.vertexproxy.proxy.identity.IdentityException;
import dev.vertexproxy.proxy.identity.VerifiedToken;
import dev.vertexproxy.proxy.reason.Reason;
import dev.vertexproxy.proxy.reserved.ReservedEndpoint;
import dev.vertexproxy.proxy.reserved.ReservedRequest;
import dev.vertexproxy.proxy.reserved.ReservedResponse;
import java.io.IOException;
import java.io.InputStream;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /_proxy/callback}: where the IdP sends the browser back. In order, each failure ending the attempt:
 * the sealed attempt cookie must open ({@code login-state-invalid}); the {@code state} sent back must be the one it
 * holds ({@code login-state-invalid}); the attempt must not have been taken before ({@code login-code-replayed}, on
 * this replica — see {@link LoginStateReplays}); an {@code error} from the IdP is {@code login-failed}; then the code
 * is redeemed at the IdP's token endpoint with the PKCE verifier and the client secret (on the blocking executor;
 * unreachable: {@code login-unavailable}, refused: {@code login-failed}), and the ID token is verified by
 * {@code TokenVerifier.verifyIdToken} — the issuer's keys, {@code aud} the client id, {@code nonce} the attempt's
 * ({@code login-nonce-invalid}; any other failed check is {@code login-failed}, naming the check) — before a session
 * token is minted and set as the session cookie.
 *
 * <p>The attempt cookie is cleared by every answer. Nothing the flow handles — code, verifier, tokens, client secret
 * — is logged or put in an error page; the IdP's {@code error_description} is not echoed either (it is the IdP's
 * text, not ours). Thread-safe.
 */
final class BrowserLoginCallback implements ReservedEndpoint {
  private static final Logger log = LoggerFactory.getLogger(BrowserLoginCallback.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int MAX_TOKEN_RESPONSE_BYTES = 64 * 1024;

  private final BrowserLogin login;

  BrowserLoginCallback(BrowserLogin login) {
    this.login = login;
  }

  /** What the IdP's token endpoint answered: an ID token, or an OAuth error code. */
  private record Redeemed(String idToken, String error) {
    @Override
    public String toString() {
      return "Redeemed[" + (idToken != null ? "id_token" : error) + "]";
    }
  }

  /** The token endpoint could not be reached or answered nonsense: ours, not the person's. */
  private static final class Unreachable extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Unreachable(String message) {
      super(message, null, false, false);
    }
  }

  @Override
  public CompletionStage<ReservedResponse> handle(ReservedRequest request) {
    try {
      return finish(request);
    } catch (IllegalArgumentException e) {
      return refuse(request, login.stateCookie.clearCookie(), 400, Reason.REQUEST_MALFORMED, "Malformed callback",
          "The callback repeats a parameter, so it cannot be the identity provider's. Start the login again.");
    }
  }

  private CompletionStage<ReservedResponse> finish(ReservedRequest request) {
    String clear = login.stateCookie.clearCookie();
    Optional<LoginState> attempt = request.cookie(login.stateCookie.name())
        .flatMap(v -> login.stateCookie.open(v, request.now()));
    if (attempt.isEmpty()) {
      return refuse(request, clear, 400, Reason.LOGIN_STATE_INVALID, "Login expired or not started here",
          "This login was not started in this browser, or took longer than ten minutes. Start it again.");
    }
    LoginState state = attempt.get();
    String returned = ReservedRequest.single(request.query(), "state").orElse("");
    if (!MessageDigest.isEqual(returned.getBytes(StandardCharsets.UTF_8), state.state().getBytes(StandardCharsets.UTF_8))) {
      return refuse(request, clear, 400, Reason.LOGIN_STATE_INVALID, "Login state does not match",
          "The identity provider sent back a different login attempt than this browser started. Start it again.");
    }
    if (!login.replays.take(state.state(), state.expiresAt(), request.now())) {
      return refuse(request, clear, 400, Reason.LOGIN_CODE_REPLAYED, "Login already used",
          "This login has already been completed once; a callback counts only once. Start a new login.");
    }
    IssuerConfig target = login.issuers.get(state.issuerName());
    if (target == null) {
      return refuse(request, clear, 400, Reason.LOGIN_STATE_INVALID, "Login issuer gone",
          "The issuer this login started with is no longer configured. Start it again.");
    }
    if (ReservedRequest.first(request.query(), "error").isPresent()) {
      return refuse(request, clear, 401, Reason.LOGIN_FAILED, "Login refused",
          "The identity provider did not log you in (" + oauthError(ReservedRequest.first(request.query(), "error").get())
          + ").");
    }
    Optional<String> code = ReservedRequest.single(request.query(), "code").filter(c -> !c.isEmpty());
    if (code.isEmpty()) {
      return refuse(request, clear, 400, Reason.LOGIN_STATE_INVALID, "No code",
          "The identity provider sent the browser back without a code. Start the login again.");
    }
    return login.metadata.get(target.issuer())
        .thenCompose(m -> CompletableFuture.supplyAsync(() -> redeem(m, target, code.get(), state), login.blocking))
        .thenCompose(r -> {
          if (r.idToken == null) {
            return CompletableFuture.<ReservedResponse>completedFuture(BrowserLogin.page(request, 401, Reason.LOGIN_FAILED,
                "Login refused", "The identity provider refused the login code (" + oauthError(r.error) + ").")
                .header("Set-Cookie", clear));
          }
          return login.verifier.verifyIdToken(target.name(), r.idToken, target.login().clientId(), state.nonce())
              .thenApply(verified -> session(request, clear, verified, state));
        })
        .exceptionally(err -> failure(request, clear, target, SessionCookie.unwrap(err)));
  }

  private ReservedResponse session(ReservedRequest request, String clear, VerifiedToken verified, LoginState state) {
    SessionIssuer.IssuedToken minted = login.issuer.mint(verified.caller(), SessionIssuer.TokenUse.SESSION, "login", null);
    return ReservedResponse.status(303)
        .header("Location", state.next())
        .header("Set-Cookie", clear)
        .header("Set-Cookie", SessionCookie.set(login.issuer.url(), minted.token(), minted.expiresAt(), request.now()))
        .reason(Reason.SERVED).caller(verified.caller()).auditMethod(BrowserLogin.AUDIT_METHOD);
  }

  private ReservedResponse failure(ReservedRequest request, String clear, IssuerConfig target, Throwable cause) {
    if (cause instanceof IdentityException ie) {
      Reason reason = Reason.of(ie.reason());
      if (reason.httpStatus() >= 500) {
        return BrowserLogin.page(request, reason.httpStatus(), Reason.LOGIN_UNAVAILABLE, "Login unavailable",
            "The keys of '" + target.name() + "' could not be fetched to check the login. Try again in a moment.")
            .header("Set-Cookie", clear);
      }
      if (reason == Reason.LOGIN_NONCE_INVALID) {
        return BrowserLogin.page(request, 401, reason, "Login refused",
            "The identity provider's ID token belongs to another login attempt. Start the login again.")
            .header("Set-Cookie", clear);
      }
      // any other check the ID token failed (another client's aud, signature, expiry): the login failed, and which
      // check it was is named on the page and in the log
      return BrowserLogin.page(request, 401, Reason.LOGIN_FAILED, "Login refused",
          "The identity provider's ID token did not pass the proxy's checks (" + ie.reason() + "): " + ie.getMessage())
          .header("Set-Cookie", clear).message("ID token refused: " + ie.reason());
    }
    if (!(cause instanceof Unreachable) && !(cause instanceof IOException)) {
      log.warn("request {}: browser login failed unexpectedly: {}", request.requestId(), cause.getClass().getName());
    }
    return BrowserLogin.page(request, 503, Reason.LOGIN_UNAVAILABLE, "Login unavailable",
        "The identity provider of '" + target.name() + "' could not be reached. Try again in a moment.")
        .header("Set-Cookie", clear);
  }

  /** Redeems the code at the token endpoint; blocking, so only ever on the blocking executor. */
  private Redeemed redeem(ProviderMetadata m, IssuerConfig target, String code, LoginState state) {
    IssuerConfig.Login settings = target.login();
    Map<String, String> form = new LinkedHashMap<>();
    form.put("grant_type", "authorization_code");
    form.put("code", code);
    form.put("redirect_uri", login.redirectUri());
    form.put("code_verifier", state.codeVerifier());
    HttpRequest.Builder b = HttpRequest.newBuilder(m.tokenEndpoint()).timeout(BrowserLogin.IDP_TIMEOUT)
        .header("Content-Type", "application/x-www-form-urlencoded").header("Accept", "application/json");
    Optional<String> secret = settings.clientSecret();
    if (secret.isPresent() && m.basicAuth()) {
      // RFC 6749 §2.3.1: both parts form-encoded before they are joined and base64-encoded
      String pair = urlEncode(settings.clientId()) + ":" + urlEncode(secret.get());
      b.header("Authorization", "Basic " + Base64.getEncoder().encodeToString(pair.getBytes(StandardCharsets.UTF_8)));
    } else {
      form.put("client_id", settings.clientId());
      secret.ifPresent(s -> form.put("client_secret", s));
    }
    try {
      HttpResponse<InputStream> r = login.http.send(b.POST(HttpRequest.BodyPublishers.ofString(BrowserLogin.form(form)))
          .build(), HttpResponse.BodyHandlers.ofInputStream());
      byte[] body = ProviderMetadata.readBounded(r.body(), MAX_TOKEN_RESPONSE_BYTES);
      JsonNode json = parse(body);
      if (r.statusCode() == 200 && json != null && json.path("id_token").isTextual()) {
        return new Redeemed(json.get("id_token").asText(), null);
      }
      if (r.statusCode() >= 400 && r.statusCode() < 500 && json != null && json.path("error").isTextual()) {
        return new Redeemed(null, json.get("error").asText());
      }
      if (r.statusCode() == 200) {
        return new Redeemed(null, "no id_token");
      }
      throw new CompletionException(new Unreachable("the token endpoint answered HTTP " + r.statusCode()));
    } catch (IOException e) {
      throw new CompletionException(new Unreachable("the token endpoint could not be reached"));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CompletionException(new Unreachable("interrupted while redeeming the code"));
    }
  }

  private static JsonNode parse(byte[] body) {
    try {
      JsonNode n = JSON.readTree(body);
      return n != null && n.isObject() ? n : null;
    } catch (IOException e) {
      return null;
    }
  }

  private static String urlEncode(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  /** An OAuth error code is a short token of printable ASCII (RFC 6749 §4.1.2.1); anything else is not shown. */
  static String oauthError(String error) {
    if (error == null || error.isEmpty() || error.length() > 64) {
      return "error";
    }
    for (int i = 0; i < error.length(); i++) {
      char c = error.charAt(i);
      if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') {
        return "error";
      }
    }
    return error;
  }

  private static CompletionStage<ReservedResponse> refuse(ReservedRequest request, String clear, int status, Reason reason,
      String heading, String message) {
    return BrowserLogin.done(BrowserLogin.page(request, status, reason, heading, message).header("Set-Cookie", clear));
  }
}

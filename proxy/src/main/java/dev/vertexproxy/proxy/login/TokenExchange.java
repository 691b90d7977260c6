package dev.vertexproxy.proxy.login;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vertexproxy.policy.Caller;
import dev.vertexproxy.proxy.identity.IdentityException;
import dev.vertexproxy.proxy.identity.TokenVerifier;
import dev.vertexproxy.proxy.identity.VerifiedToken;
import dev.vertexproxy.proxy.reason.Reason;
import dev.vertexproxy.proxy.reserved.ReservedEndpoint;
import dev.vertexproxy.proxy.reserved.ReservedRequest;
import dev.vertexproxy.proxy.reserved.ReservedResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;

/**
 * {@code POST /_proxy/sts/v1/token}: the proxy's token exchange in Google STS's wire shape (RFC 8693), what
 * google-auth's {@code external_account} credentials call as their {@code token_url}. A verified subject token — a
 * GitLab job's ID token, or a person's proxy session — buys a short-lived proxy access token for the same identity,
 * so SDK code that only knows Application Default Credentials reaches Vertex through the policy as that identity.
 *
 * <p>The request is the form google-auth sends: {@code grant_type} token-exchange, {@code subject_token},
 * {@code subject_token_type} ({@code jwt} or {@code id_token}), {@code audience} (which must be the proxy's issuer
 * URL: a credentials file made for another proxy, or for Google, is refused rather than answered), {@code scope}
 * (accepted and ignored: the policy decides what the token may do) and {@code requested_token_type} (absent or
 * {@code access_token}). Unknown parameters are ignored (RFC 6749 §3.2); a repeated one is refused. Delegation
 * ({@code actor_token}) is not offered. The answer is Google's: {@code access_token}, {@code issued_token_type},
 * {@code token_type: Bearer}, {@code expires_in}; the token never outlives the subject token. Every refusal is an
 * RFC 6749 §5.2 error object, which google-auth shows as {@code Error code invalid_grant: …}.
 *
 * <p>A proxy access token is not accepted as a subject: only the original credential (the job's token, the session)
 * can be exchanged, so every access token traces back to one. Thread-safe; verification and signing leave the event
 * loop for the blocking executor.
 */
public final class TokenExchange implements ReservedEndpoint {
  public static final String PATH = IssuerMetadata.TOKEN_EXCHANGE_PATH;
  public static final String AUDIT_METHOD = "proxy.tokenExchange";
  static final String GRANT_TYPE = "urn:ietf:params:oauth:grant-type:token-exchange";
  static final String JWT = "urn:ietf:params:oauth:token-type:jwt";
  static final String ID_TOKEN = "urn:ietf:params:oauth:token-type:id_token";
  static final String ACCESS_TOKEN = "urn:ietf:params:oauth:token-type:access_token";
  private static final Set<String> SUBJECT_TYPES = Set.of(JWT, ID_TOKEN);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final SessionIssuer issuer;
  private final TokenVerifier verifier;
  private final Executor blocking;
  private final Clock clock;

  public TokenExchange(SessionIssuer issuer, TokenVerifier verifier, Executor blocking, Clock clock) {
    this.issuer = issuer;
    this.verifier = verifier;
    this.blocking = blocking;
    this.clock = clock;
  }

  public TokenExchange(LoginContext ctx) {
    this(ctx.issuer(), ctx.verifier(), ctx.blocking(), ctx.clock());
  }

  /** A refusal: the OAuth error, the HTTP status and the audit reason. */
  private record Refusal(int status, String error, String description, Reason reason) {
  }

  /** A request that passed the form checks: only the subject token is left to verify. */
  private record Exchange(String subjectToken) {
  }

  @Override
  public CompletionStage<ReservedResponse> handle(ReservedRequest request) {
    Object checked = check(request);
    if (checked instanceof Refusal r) {
      return CompletableFuture.completedFuture(refuse(r));
    }
    String subject = ((Exchange) checked).subjectToken();
    return CompletableFuture.supplyAsync(() -> verifier.verifyToken(subject), blocking)
        .thenCompose(f -> f)
        .handleAsync((verified, failure) -> failure == null ? answer(verified) : refuse(refusal(failure)), blocking);
  }

  /** The form checks, in the order a client most needs to hear about them; an {@link Exchange} when all pass. */
  private Object check(ReservedRequest request) {
    Map<String, List<String>> form;
    try {
      form = request.form();
    } catch (IllegalArgumentException e) {
      return invalidRequest(e.getMessage());
    }
    try {
      Optional<String> grant = ReservedRequest.single(form, "grant_type");
      if (grant.isEmpty() || grant.get().isEmpty()) {
        return invalidRequest("grant_type is required");
      }
      if (!grant.get().equals(GRANT_TYPE)) {
        return new Refusal(400, "unsupported_grant_type", "this endpoint exchanges tokens: grant_type must be "
            + GRANT_TYPE, Reason.GRANT_INVALID);
      }
      Optional<String> subject = ReservedRequest.single(form, "subject_token").map(String::strip);
      if (subject.isEmpty() || subject.get().isEmpty()) {
        return invalidRequest("subject_token is required");
      }
      Optional<String> type = ReservedRequest.single(form, "subject_token_type");
      if (type.isEmpty() || !SUBJECT_TYPES.contains(type.get())) {
        return invalidRequest("subject_token_type must be " + JWT + " or " + ID_TOKEN);
      }
      Optional<String> requested = ReservedRequest.single(form, "requested_token_type");
      if (requested.isPresent() && !requested.get().equals(ACCESS_TOKEN)) {
        return invalidRequest("requested_token_type must be " + ACCESS_TOKEN + " (or absent)");
      }
      Optional<String> audience = ReservedRequest.single(form, "audience");
      if (audience.isEmpty() || audience.get().isEmpty()) {
        return invalidRequest("audience is required: this proxy's issuer URL, " + issuer.url());
      }
      if (!audience.get().equals(issuer.url())) {
        // RFC 8693 §2.2.2: the audience names another service; the credentials file was made for someone else
        return new Refusal(400, "invalid_target", "audience must be this proxy's issuer URL, " + issuer.url()
            + " (write the credentials file with `vertex-proxy adc --proxy <this proxy>`)", Reason.GRANT_INVALID);
      }
      ReservedRequest.single(form, "scope"); // accepted once and ignored: the policy decides what the token may do
      if (form.containsKey("actor_token") || form.containsKey("actor_token_type")) {
        return invalidRequest("delegation (actor_token) is not supported");
      }
      return new Exchange(subject.get());
    } catch (IllegalArgumentException repeated) {
      return invalidRequest(repeated.getMessage());
    }
  }

  private static Refusal invalidRequest(String description) {
    return new Refusal(400, "invalid_request", description, Reason.GRANT_INVALID);
  }

  /** Why the subject token bought nothing: the verifier's reason in the audit record, invalid_grant to the client. */
  private static Refusal refusal(Throwable failure) {
    Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
    if (cause instanceof IdentityException e) {
      Reason reason = Reason.of(e.reason());
      if (reason.kind() == Reason.Kind.UNAVAILABLE) {
        return new Refusal(503, "temporarily_unavailable", "the subject token cannot be verified now (" + e.reason()
            + "); retry", reason);
      }
      return new Refusal(400, "invalid_grant", "the subject token is not accepted (" + e.reason() + ")", reason);
    }
    throw cause instanceof RuntimeException r ? r : new CompletionException(cause);
  }

  private ReservedResponse answer(VerifiedToken subject) {
    Caller caller = subject.caller();
    if (subject.proxyIssued() && caller.claims().get(TokenVerifier.PROXY_SESSION) instanceof Map<?, ?> m
        && SessionIssuer.TokenUse.ACCESS.code().equals(m.get("use"))) {
      return refuse(new Refusal(400, "invalid_grant", "a proxy access token cannot be exchanged: exchange the session"
          + " or the original ID token", Reason.GRANT_INVALID), caller);
    }
    Map<String, Object> upstream = new LinkedHashMap<>(caller.claims());
    upstream.remove(TokenVerifier.PROXY_SESSION); // describes the subject token, not the one minted now
    SessionIssuer.IssuedToken minted;
    try {
      minted = issuer.mint(new Caller(caller.issuer(), caller.subject(), upstream), SessionIssuer.TokenUse.ACCESS,
          "exchange", subject.expiresAt());
    } catch (IllegalArgumentException e) {
      return refuse(new Refusal(400, "invalid_grant", e.getMessage(), Reason.GRANT_INVALID), caller);
    }
    Instant now = clock.instant();
    ObjectNode body = JSON.createObjectNode();
    body.put("access_token", minted.token());
    body.put("issued_token_type", ACCESS_TOKEN);
    body.put("token_type", "Bearer");
    body.put("expires_in", Math.max(1, Duration.between(now, minted.expiresAt()).getSeconds()));
    return ReservedResponse.status(200).json(body.toString()).reason(Reason.SERVED).caller(caller)
        .auditMethod(AUDIT_METHOD);
  }

  private static ReservedResponse refuse(Refusal r) {
    return refuse(r, null);
  }

  /** The OAuth error object; {@code caller}, when the subject token verified, goes into the audit record. */
  private static ReservedResponse refuse(Refusal r, Caller caller) {
    ObjectNode body = JSON.createObjectNode();
    body.put("error", r.error());
    body.put("error_description", r.description());
    ReservedResponse response = ReservedResponse.status(r.status()).json(body.toString()).reason(r.reason())
        .auditMethod(AUDIT_METHOD).message(r.error() + ": " + r.description());
    return caller == null ? response : response.caller(caller);
  }
}

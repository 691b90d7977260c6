package dev.vertexproxy.proxy.login;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vertexproxy.policy.Caller;
import dev.vertexproxy.proxy.reason.Reason;
import dev.vertexproxy.proxy.reserved.ReservedEndpoint;
import dev.vertexproxy.proxy.reserved.ReservedRequest;
import dev.vertexproxy.proxy.reserved.ReservedResponse;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /_proxy/oauth/token}: the proxy's token endpoint for its own CLI, the public native client
 * {@value #CLIENT_ID} (no secret; RFC 8252). Two grants, each redeemed once:
 *
 * <ul>
 *   <li>{@code authorization_code} from the loopback login ({@link CliAuthorizeCodes}): the same {@code client_id} and
 *       {@code redirect_uri} as the authorize request, and the PKCE {@code code_verifier} of its S256 challenge;
 *   <li>{@code urn:ietf:params:oauth:grant-type:device_code} (RFC 8628 §3.4) from the device flow
 *       ({@link DeviceGrants}): {@code authorization_pending}, {@code slow_down}, {@code expired_token},
 *       {@code access_denied} while it is not an approved, unredeemed grant.
 * </ul>
 *
 * <p>What it issues is a proxy session ({@link SessionIssuer.TokenUse#SESSION}) for the person whose browser session
 * approved, never outliving that browser session, and only if neither was revoked in between. Every refusal is RFC 6749
 * §5.2's JSON ({@code error}, {@code error_description}) with its own {@link Reason} for the audit record; the answer is
 * never cached. No code, verifier or token reaches a log or the record.
 */
public final class OAuthTokenEndpoint implements ReservedEndpoint {
  public static final String CLIENT_ID = "vertex-proxy-cli";
  public static final String DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";
  static final String AUDIT_METHOD = "proxy.oauth.token";
  private static final Logger log = LoggerFactory.getLogger(OAuthTokenEndpoint.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final SessionIssuer issuer;
  private final DeviceGrants devices;
  private final CliAuthorizeCodes codes;
  private final Executor blocking;

  public OAuthTokenEndpoint(SessionIssuer issuer, DeviceGrants devices, CliAuthorizeCodes codes, Executor blocking) {
    this.issuer = issuer;
    this.devices = devices;
    this.codes = codes;
    this.blocking = blocking;
  }

  @Override
  public CompletionStage<ReservedResponse> handle(ReservedRequest request) {
    Map<String, List<String>> form;
    String grant;
    String clientId;
    try {
      form = request.form();
      grant = ReservedRequest.single(form, "grant_type").orElse("");
      clientId = ReservedRequest.single(form, "client_id").orElse("");
      for (String name : List.of("code", "redirect_uri", "code_verifier", "device_code")) {
        ReservedRequest.single(form, name);
      }
    } catch (IllegalArgumentException e) {
      return done(error(400, "invalid_request", e.getMessage(), Reason.GRANT_INVALID));
    }
    if (!CLIENT_ID.equals(clientId)) {
      return done(error(400, "invalid_client", "client_id must be " + CLIENT_ID, Reason.GRANT_INVALID));
    }
    Instant now = request.now();
    return switch (grant) {
      case "authorization_code" -> authorizationCode(form, now);
      case DEVICE_GRANT -> deviceCode(form, now);
      case "" -> done(error(400, "invalid_request", "grant_type is missing", Reason.GRANT_INVALID));
      default -> done(error(400, "unsupported_grant_type", "grant_type must be authorization_code or " + DEVICE_GRANT,
          Reason.GRANT_INVALID));
    };
  }

  private CompletionStage<ReservedResponse> authorizationCode(Map<String, List<String>> form, Instant now) {
    String code = ReservedRequest.first(form, "code").orElse(null);
    String redirectUri = ReservedRequest.first(form, "redirect_uri").orElse(null);
    String verifier = ReservedRequest.first(form, "code_verifier").orElse(null);
    if (code == null || redirectUri == null || verifier == null) {
      return done(error(400, "invalid_request", "code, redirect_uri and code_verifier are required",
          Reason.GRANT_INVALID));
    }
    return CompletableFuture.supplyAsync(() -> redeem(code, redirectUri, verifier, now), blocking)
        .thenCompose(r -> r);
  }

  /** On the blocking executor: the codes may be a shared file ({@link CliAuthorizeCodes#CliAuthorizeCodes(Path)}). */
  private CompletionStage<ReservedResponse> redeem(String code, String redirectUri, String verifier, Instant now) {
    CliAuthorizeCodes.Redemption r = codes.redeem(code, CLIENT_ID, redirectUri, verifier, now);
    if (r instanceof CliAuthorizeCodes.Replayed replay) {
      ReservedResponse refused = error(400, "invalid_grant", "the code was already used", Reason.LOGIN_CODE_REPLAYED);
      if (replay.sessionId() == null) {
        return done(refused);
      }
      // one of the two redeemers is not the CLI that asked: end what the first redemption got (RFC 6749 §10.5)
      try {
        issuer.revocations().revokeSession(replay.sessionId(), replay.sessionExpiresAt());
      } catch (IOException e) {
        log.warn("could not revoke the session of a replayed CLI code: {}", e.toString());
      }
      return done(refused);
    }
    if (r instanceof CliAuthorizeCodes.Refused refused) {
      return done(error(400, "invalid_grant", refused.why(), Reason.GRANT_INVALID));
    }
    CliAuthorizeCodes.Issued issued = ((CliAuthorizeCodes.Redeemed) r).issued();
    Minted m = issue(issued.approval(), "cli", now);
    if (m.token() != null) {
      codes.yielded(code, m.token().id(), m.token().expiresAt());
    }
    return done(m.response());
  }

  private CompletionStage<ReservedResponse> deviceCode(Map<String, List<String>> form, Instant now) {
    String deviceCode = ReservedRequest.first(form, "device_code").orElse(null);
    if (deviceCode == null) {
      return done(error(400, "invalid_request", "device_code is required", Reason.GRANT_INVALID));
    }
    return CompletableFuture.supplyAsync(() -> devices.poll(deviceCode, now), blocking).thenApply(p -> answer(p, now));
  }

  private ReservedResponse answer(DeviceGrants.Poll p, Instant now) {
    ReservedResponse answer;
    if (p instanceof DeviceGrants.Approved a) {
      answer = issue(a.approval(), "device", now).response();
    } else if (p instanceof DeviceGrants.Pending) {
      answer = error(400, "authorization_pending", "the person has not approved the code yet",
          Reason.AUTHORIZATION_PENDING);
    } else if (p instanceof DeviceGrants.SlowDown s) {
      answer = error(400, "slow_down", "poll at most every " + s.interval().toSeconds() + " s", Reason.SLOW_DOWN);
    } else if (p instanceof DeviceGrants.Expired) {
      answer = error(400, "expired_token", "the code expired; start the login again", Reason.DEVICE_CODE_EXPIRED);
    } else if (p instanceof DeviceGrants.Denied) {
      answer = error(400, "access_denied", "the person declined the sign-in", Reason.ACCESS_DENIED);
    } else if (p instanceof DeviceGrants.Replayed) {
      answer = error(400, "invalid_grant", "the device code was already used", Reason.LOGIN_CODE_REPLAYED);
    } else {
      answer = error(400, "invalid_grant", "the device code is unknown", Reason.GRANT_INVALID);
    }
    return answer;
  }

  /** The answer of an issuing attempt, and the token when one was minted. */
  private record Minted(ReservedResponse response, SessionIssuer.IssuedToken token) {
  }

  private Minted issue(DeviceGrants.Approval approval, String via, Instant now) {
    Caller caller = approval.caller();
    if (issuer.revoked(caller.issuer(), caller.subject(), approval.sessionIssuedAt(), approval.sessionId())) {
      return new Minted(error(400, "invalid_grant", "the approving session was revoked", Reason.GRANT_INVALID)
          .caller(caller), null);
    }
    SessionIssuer.IssuedToken t;
    try {
      t = issuer.mint(caller, SessionIssuer.TokenUse.SESSION, via, approval.notAfter());
    } catch (IllegalArgumentException e) {
      return new Minted(error(400, "invalid_grant", "the approving session has expired or cannot be carried: "
          + e.getMessage(), Reason.GRANT_INVALID).caller(caller), null);
    }
    ObjectNode o = JSON.createObjectNode();
    o.put("access_token", t.token());
    o.put("token_type", "Bearer");
    o.put("expires_in", Math.max(1, Duration.between(now, t.expiresAt()).toSeconds()));
    return new Minted(ReservedResponse.status(200).json(o.toString()).caller(caller).auditMethod(AUDIT_METHOD), t);
  }

  /** An RFC 6749 §5.2 refusal. */
  static ReservedResponse error(int status, String code, String description, Reason reason) {
    ObjectNode o = JSON.createObjectNode();
    o.put("error", code);
    o.put("error_description", description);
    return ReservedResponse.status(status).json(o.toString()).reason(reason).auditMethod(AUDIT_METHOD)
        .message(code + ": " + description);
  }

  private static CompletionStage<ReservedResponse> done(ReservedResponse r) {
    return CompletableFuture.completedFuture(r);
  }
}

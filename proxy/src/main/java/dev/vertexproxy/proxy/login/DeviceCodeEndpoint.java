package dev.vertexproxy.proxy.login;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vertexproxy.proxy.reason.Reason;
import dev.vertexproxy.proxy.reserved.ReservedEndpoint;
import dev.vertexproxy.proxy.reserved.ReservedRequest;
import dev.vertexproxy.proxy.reserved.ReservedResponse;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;

/**
 * {@code POST /_proxy/device/code}: the device authorization endpoint of RFC 8628 §3.1–3.2, where
 * {@code vertex-proxy login --device} starts. It answers the device code (the CLI's secret), the user code the person
 * types, the page to type it on ({@code <sessions.issuer>/_proxy/device}, and the same with the code filled in), the
 * lifetime and the polling interval.
 *
 * <p>Anyone may start a grant — the person proves who they are later, in the browser — so the store bounds how many are
 * pending ({@link DeviceGrantsInMemory}); beyond that the CLI is told to slow down. Only {@code vertex-proxy-cli} is a
 * client, and no scope is needed or accepted: what the session may do is the policy's business, not the grant's.
 */
public final class DeviceCodeEndpoint implements ReservedEndpoint {
  public static final String PAGE_PATH = "/_proxy/device";
  static final String AUDIT_METHOD = "proxy.device.code";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final SessionIssuer issuer;
  private final DeviceGrants devices;
  private final Executor blocking;

  /** {@code blocking} runs the store's calls, which may do file I/O ({@link DeviceGrantsInDirectory}). */
  public DeviceCodeEndpoint(SessionIssuer issuer, DeviceGrants devices, Executor blocking) {
    this.issuer = issuer;
    this.devices = devices;
    this.blocking = blocking;
  }

  @Override
  public CompletionStage<ReservedResponse> handle(ReservedRequest request) {
    String clientId;
    Optional<String> scope;
    try {
      Map<String, List<String>> form = request.form();
      clientId = ReservedRequest.single(form, "client_id").orElse("");
      scope = ReservedRequest.single(form, "scope");
    } catch (IllegalArgumentException e) {
      return done(error(400, "invalid_request", e.getMessage(), Reason.GRANT_INVALID));
    }
    if (!OAuthTokenEndpoint.CLIENT_ID.equals(clientId)) {
      return done(error(400, "invalid_client", "client_id must be " + OAuthTokenEndpoint.CLIENT_ID,
          Reason.GRANT_INVALID));
    }
    if (scope.isPresent() && !scope.get().isBlank()) {
      return done(error(400, "invalid_scope", "the proxy's sessions take no scope", Reason.GRANT_INVALID));
    }
    return CompletableFuture.supplyAsync(() -> devices.start(request.sourceIp(), request.now()), blocking)
        .thenApply(this::answer);
  }

  private ReservedResponse answer(Optional<DeviceGrants.Grant> started) {
    if (started.isEmpty()) {
      return error(400, "slow_down", "too many sign-ins are pending; try again in a few minutes", Reason.SLOW_DOWN);
    }
    DeviceGrants.Grant g = started.get();
    String page = issuer.url() + PAGE_PATH;
    ObjectNode o = JSON.createObjectNode();
    o.put("device_code", g.deviceCode());
    o.put("user_code", g.userCode());
    o.put("verification_uri", page);
    o.put("verification_uri_complete", page + "?user_code=" + URLEncoder.encode(g.userCode(), StandardCharsets.UTF_8));
    o.put("expires_in", DeviceGrants.LIFETIME.toSeconds());
    o.put("interval", DeviceGrants.INTERVAL.toSeconds());
    return ReservedResponse.status(200).json(o.toString()).auditMethod(AUDIT_METHOD);
  }

  private static ReservedResponse error(int status, String code, String description, Reason reason) {
    return OAuthTokenEndpoint.error(status, code, description, reason).auditMethod(AUDIT_METHOD);
  }

  private static CompletionStage<ReservedResponse> done(ReservedResponse r) {
    return CompletableFuture.completedFuture(r);
  }
}

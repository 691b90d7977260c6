package dev.vertexproxy.proxy.admission;

import dev.vertexproxy.policy.Caller;
import dev.vertexproxy.policy.Decision;
import dev.vertexproxy.policy.route.Route;
import dev.vertexproxy.proxy.credentials.GoogleTokenProvider.GoogleToken;
import dev.vertexproxy.proxy.identity.VerifiedToken;
import java.time.Instant;

/**
 * What the admission steps learned about one request, in the order they learn it: the {@link RequestHead}, then the
 * route, the verified caller, the policy's decision and the Google token. Each step fills in its part (the setters are
 * for the step that decides it); what is not known yet is {@code null}. The caller's and Google's tokens never appear
 * in {@link #toString()}.
 *
 * <p>Steps run on the exchange's event loop ({@link AdmissionChain}); an asynchronous step may record its result from
 * the thread that completed its work, before the chain moves on. The fields are volatile so the driver, on the event
 * loop, sees a consistent value even when the caller goes away while such a step is still deciding.
 */
public final class Admission {
  private final RequestHead head;
  private volatile Route route;
  private volatile boolean queryRefused;
  private volatile Caller caller;
  private volatile String callerToken;
  private volatile Instant callerExpiresAt;
  private volatile boolean callerProxyIssued;
  private volatile Decision decision;
  private volatile String policyVersion;
  private volatile GoogleToken googleToken;
  private volatile boolean reserved;
  private volatile String allowHeader;
  private volatile String reservedMethod;

  public Admission(RequestHead head) {
    this.head = head;
  }

  public RequestHead head() {
    return head;
  }

  /** The Vertex method and resource, once the route step found them. */
  public Route route() {
    return route;
  }

  public void route(Route r) {
    this.route = r;
  }

  /** The route step refused the query string: records keep its parameter names only, never its values. */
  public boolean queryRefused() {
    return queryRefused;
  }

  public void queryRefused(boolean refused) {
    this.queryRefused = refused;
  }

  /** The verified caller, once the identity step accepted its token. */
  public Caller caller() {
    return caller;
  }

  /** The caller's verified bearer token, for credential modes that exchange it; never logged or audited. */
  public String callerToken() {
    return callerToken;
  }

  public void caller(Caller c, String token) {
    this.caller = c;
    this.callerToken = token;
  }

  /** The verified caller with its token's expiry and whether the proxy issued it (a person's session). */
  public void caller(VerifiedToken verified, String token) {
    caller(verified.caller(), token);
    this.callerExpiresAt = verified.expiresAt();
    this.callerProxyIssued = verified.proxyIssued();
  }

  /** When the caller's token expires; {@code null} before the identity step, or when set without it. */
  public Instant callerExpiresAt() {
    return callerExpiresAt;
  }

  /** Whether the caller's token is one the proxy issued (a person's session or exchanged access token). */
  public boolean callerProxyIssued() {
    return callerProxyIssued;
  }

  /** The policy's decision, once the policy step made it (allowed or not). */
  public Decision decision() {
    return decision;
  }

  /** The version of the policy that decided. */
  public String policyVersion() {
    return policyVersion;
  }

  public void decision(Decision d, String version) {
    this.decision = d;
    this.policyVersion = version;
  }

  /** The Google token that goes to Vertex, once the credentials step obtained it. */
  public GoogleToken googleToken() {
    return googleToken;
  }

  public void googleToken(GoogleToken t) {
    this.googleToken = t;
  }

  /** The path is one of the proxy's own ({@code /_proxy/}, {@code /.well-known/}): never routed to Vertex. */
  public boolean reserved() {
    return reserved;
  }

  public void reserved(boolean r) {
    this.reserved = r;
  }

  /** For a reserved path asked with a method it does not serve: the methods it does, for the 405's {@code Allow}. */
  public String allowHeader() {
    return allowHeader;
  }

  public void allowHeader(String allow) {
    this.allowHeader = allow;
  }

  /** The reserved endpoint's name for the audit record's {@code method} (e.g. {@code proxy.login}), once it answered. */
  public String reservedMethod() {
    return reservedMethod;
  }

  public void reservedMethod(String name) {
    this.reservedMethod = name;
  }

  @Override
  public String toString() {
    return "Admission[" + head.method() + " route=" + (route == null ? "-" : route.method().name())
        + " caller=" + (caller == null ? "-" : caller.issuer() + "/" + caller.subject())
        + " decision=" + (decision == null ? "-" : decision.reason())
        + " googlePrincipal=" + (googleToken == null ? "-" : googleToken.principal()) + "]";
  }
}

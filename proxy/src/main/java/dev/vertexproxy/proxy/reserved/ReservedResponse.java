package dev.vertexproxy.proxy.reserved;

import dev.vertexproxy.policy.Caller;
import dev.vertexproxy.proxy.reason.Reason;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * What a {@link ReservedEndpoint} answers: status, headers, body, and what the exchange's audit record says about it —
 * the reason ({@link Reason#SERVED} unless set), the caller the endpoint identified, and the endpoint's name as the
 * record's {@code method} (e.g. {@code proxy.login}). Built fluently by the endpoint and not changed after it is
 * returned. The server adds the protective headers of {@link ReservedRoutes#SECURITY_HEADERS} the endpoint did not set.
 */
public final class ReservedResponse {
  private final int status;
  private final HttpHeaders headers = new DefaultHttpHeaders();
  private byte[] body = new byte[0];
  private Reason reason = Reason.SERVED;
  private Caller caller;
  private String auditMethod;
  private String message;

  private ReservedResponse(int status) {
    if (status < 200 || status > 599) {
      throw new IllegalArgumentException("status " + status);
    }
    this.status = status;
  }

  public static ReservedResponse status(int status) {
    return new ReservedResponse(status);
  }

  /** A 302 to {@code location}; the caller must have checked that the target is one it may send people to. */
  public static ReservedResponse redirect(String location) {
    return new ReservedResponse(302).header(HttpHeaderNames.LOCATION.toString(), location);
  }

  public ReservedResponse header(String name, String value) {
    headers.add(name, value);
    return this;
  }

  public ReservedResponse json(String json) {
    return body("application/json; charset=utf-8", json);
  }

  public ReservedResponse html(String html) {
    return body("text/html; charset=utf-8", html);
  }

  public ReservedResponse text(String text) {
    return body("text/plain; charset=utf-8", text);
  }

  public ReservedResponse body(String contentType, String text) {
    return body(contentType, text.getBytes(StandardCharsets.UTF_8));
  }

  public ReservedResponse body(String contentType, byte[] bytes) {
    headers.set(HttpHeaderNames.CONTENT_TYPE, contentType);
    this.body = bytes.clone();
    return this;
  }

  /** Why the exchange ended as it did, for the audit record and the metric ({@link Reason#SERVED} by default). */
  public ReservedResponse reason(Reason r) {
    this.reason = Objects.requireNonNull(r);
    return this;
  }

  /** The verified caller this request acted for (the person who logged in, the subject of an exchanged token). */
  public ReservedResponse caller(Caller c) {
    this.caller = c;
    return this;
  }

  /** The endpoint's name in the audit record's {@code method}, e.g. {@code proxy.login}. */
  public ReservedResponse auditMethod(String name) {
    this.auditMethod = name;
    return this;
  }

  /** A short, secret-free note for the proxy's own log when the answer is a refusal or failure. */
  public ReservedResponse message(String m) {
    this.message = m;
    return this;
  }

  public int status() {
    return status;
  }

  public HttpHeaders headers() {
    return headers;
  }

  public byte[] body() {
    return body.clone();
  }

  public Reason reason() {
    return reason;
  }

  public Caller caller() {
    return caller;
  }

  public String auditMethod() {
    return auditMethod;
  }

  public String message() {
    return message;
  }
}

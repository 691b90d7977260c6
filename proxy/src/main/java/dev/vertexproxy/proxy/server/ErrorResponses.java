package dev.vertexproxy.proxy.server;

import dev.vertexproxy.proxy.reason.Reason;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;

/**
 * The one place that turns a refusal ({@link Reason} and message) into a response: Google's JSON error shape, so SDK
 * clients show it, plus the reason in {@code error.details} (an {@code ErrorInfo} with domain {@code vertex-proxy}) for
 * tooling. The message is shown to the caller, so it never holds a token or secret.
 */
final class ErrorResponses {
  static final String REQUEST_ID_HEADER = "x-vertex-proxy-request-id";

  private ErrorResponses() {
  }

  static FullHttpResponse of(ByteBufAllocator alloc, Reason reason, String message, String requestId) {
    int code = reason.httpStatus();
    String json = "{\"error\":{\"code\":" + code
        + ",\"message\":" + quote(message)
        + ",\"status\":\"" + reason.googleStatus() + "\""
        + ",\"details\":[{\"@type\":\"type.googleapis.com/google.rpc.ErrorInfo\",\"reason\":" + quote(reason.code())
        + ",\"domain\":\"vertex-proxy\",\"metadata\":{\"request_id\":" + quote(requestId) + "}}]}}\n";
    ByteBuf body = alloc.buffer(json.length());
    body.writeCharSequence(json, StandardCharsets.UTF_8);
    FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(code), body);
    r.headers()
        .set(HttpHeaderNames.CONTENT_TYPE, "application/json; charset=UTF-8")
        .set(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes())
        .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE)
        .set("x-content-type-options", "nosniff")
        .set(REQUEST_ID_HEADER, requestId);
    if (code == 401) {
      r.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer realm=\"vertex-proxy\"");
    }
    return r;
  }

  static String quote(String s) {
    StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          if (c < 0x20 || c == '<' || c == '>' || c == '&') {
            sb.append(String.format("\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    return sb.append('"').toString();
  }
}

package dev.vertexproxy.proxy.upstream;

import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;

/** Builds the request head an admitted call sends to Vertex through the {@link UpstreamRelay}. Stateless. */
public final class UpstreamRequest {
  private UpstreamRequest() {
  }

  /**
   * The request head Vertex gets: the caller's end-to-end headers, minus hop-by-hop ones, the framing, caller
   * credentials and Google steering headers; then the origin's host, the Google token, keep-alive, a User-Agent that
   * carries the request id ({@link UpstreamUserAgent}), and a framing the proxy computed from what its decoder read —
   * never one carried over from the caller.
   */
  public static HttpRequest head(String method, String uri, HttpHeaders callerHeaders, boolean chunked,
      long declaredBodyBytes, Origin origin, String googleToken, String requestId) {
    HttpRequest head = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.valueOf(method), uri);
    HttpHeaders out = head.headers();
    out.set(callerHeaders);
    HopByHop.stripForUpstream(out);
    out.set(HttpHeaderNames.HOST, origin.hostHeader());
    out.set(HttpHeaderNames.AUTHORIZATION, "Bearer " + googleToken);
    out.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
    out.set(HttpHeaderNames.USER_AGENT, UpstreamUserAgent.of(callerHeaders.get(HttpHeaderNames.USER_AGENT), requestId));
    if (chunked) {
      out.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
    } else if (declaredBodyBytes > 0 || hasRequestBody(method)) {
      out.set(HttpHeaderNames.CONTENT_LENGTH, declaredBodyBytes);
    }
    return head;
  }

  /** Methods whose requests carry a body by definition: Google's front end wants a length even when it is 0. */
  private static boolean hasRequestBody(String method) {
    return "POST".equals(method) || "PUT".equals(method) || "PATCH".equals(method);
  }
}

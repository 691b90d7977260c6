package dev.vertexproxy.proxy.upstream;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;

/**
 * The framing of a final Vertex response head as it goes to the caller: the proxy's, computed from what the decoder
 * read — an upstream {@code Connection} header naming {@code Content-Length} must not leave the caller's keep-alive
 * connection unframed. Used by {@link UpstreamRelay} on each final head. Stateless.
 *
 * @param upstreamKeepAlive whether the upstream connection can carry another response after this one: only a
 *                          keep-alive answer whose body has a framed end (a body that ends when the connection closes
 *                          can never be followed by another response on it)
 * @param holdHead          whether the answer has no body, so that its head alone would be a complete answer: the
 *                          head then waits with the end ({@link UpstreamRelay.Events#responseEnding})
 */
record ResponseFraming(boolean upstreamKeepAlive, boolean holdHead) {
  /** Rewrites {@code res}'s hop-by-hop and framing headers in place and says how the rest of the answer goes. */
  static ResponseFraming apply(HttpResponse res, boolean headRequest) {
    int code = res.status().code();
    boolean chunked = HttpUtil.isTransferEncodingChunked(res);
    long length = chunked ? -1 : HttpUtil.getContentLength(res, -1L);
    boolean keepAlive = HttpUtil.isKeepAlive(res) && (chunked || length >= 0);
    HopByHop.strip(res.headers());
    res.headers().remove(HttpHeaderNames.TRANSFER_ENCODING);
    boolean bodiless = code == 204 || code == 304;
    if (bodiless) {
      // no body by definition: no framing header at all
    } else if (length >= 0) {
      res.headers().set(HttpHeaderNames.CONTENT_LENGTH, length);
    } else {
      HttpUtil.setTransferEncodingChunked(res, true);
    }
    return new ResponseFraming(keepAlive, bodiless || length == 0 || headRequest);
  }
}

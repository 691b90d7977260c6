package dev.vertexproxy.proxy.admission;

import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;

/**
 * The request as the decoder read it, before any step looked at it. Framing fields come from the decoder: they are
 * meaningful only when {@code decoderFailure} is {@code null}.
 *
 * @param method            the HTTP method
 * @param uri               the request target exactly as received
 * @param headers           the caller's headers (read-only by convention: steps never change them)
 * @param decoderFailure    why the decoder refused the head, or {@code null}
 * @param chunked           the body is chunked (its length is unknown)
 * @param declaredBodyBytes the body's length: {@code -1} when chunked or unknown, {@code 0} when there is none
 * @param expectContinue    the caller sent {@code Expect: 100-continue}
 */
public record RequestHead(String method, String uri, HttpHeaders headers, Throwable decoderFailure, boolean chunked,
    long declaredBodyBytes, boolean expectContinue) {

  /**
   * The head as the decoder left it. The decoder's verdict comes before anything reads a framing header: after a failure
   * those headers are whatever the caller wrote (a Content-Length of "0x2" or "2, 181"), and the body length is unknown.
   */
  public static RequestHead of(HttpRequest req) {
    boolean expect = HttpUtil.is100ContinueExpected(req);
    if (req.decoderResult().isFailure()) {
      return new RequestHead(req.method().name(), req.uri(), req.headers(), req.decoderResult().cause(), false, -1, expect);
    }
    boolean chunked = HttpUtil.isTransferEncodingChunked(req);
    // -1 when unknown (chunked); 0 when the request has no body at all
    long declared = chunked ? -1 : HttpUtil.getContentLength(req, 0L);
    return new RequestHead(req.method().name(), req.uri(), req.headers(), null, chunked, declared, expect);
  }
}

package dev.vertexproxy.proxy.admission;

import io.netty.handler.codec.http.HttpHeaders;

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
}

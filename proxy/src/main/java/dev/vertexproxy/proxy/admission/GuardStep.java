package dev.vertexproxy.proxy.admission;

import dev.vertexproxy.proxy.reason.Reason;
import dev.vertexproxy.proxy.upstream.HopByHop;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import java.util.concurrent.CompletionStage;
import java.util.function.BooleanSupplier;

/**
 * First step: limits and framing. Refuses what the decoder could not read, what would let the caller choose the framing
 * or the method Vertex sees, bodies over the limit, and everything while the audit trail cannot be written (when
 * {@code audit.on_failure: reject}). Before {@link RouteStep}; synchronous.
 */
public final class GuardStep implements AdmissionStep {
  private final long maxBodyBytes;
  private final BooleanSupplier auditRefusesRequests;

  /**
   * @param maxBodyBytes         {@code limits.max_body_bytes}
   * @param auditRefusesRequests true while requests must be refused because the audit trail cannot be written
   */
  public GuardStep(long maxBodyBytes, BooleanSupplier auditRefusesRequests) {
    this.maxBodyBytes = maxBodyBytes;
    this.auditRefusesRequests = auditRefusesRequests;
  }

  @Override
  public String name() {
    return "guard";
  }

  @Override
  public CompletionStage<Verdict> decide(Admission admission) {
    return AdmissionStep.decided(check(admission.head()));
  }

  Verdict check(RequestHead head) {
    Throwable failure = head.decoderFailure();
    if (failure instanceof TooLongHttpLineException) {
      return Verdict.refuse(Reason.URI_TOO_LONG, "The request line is longer than this proxy accepts.");
    }
    if (failure instanceof TooLongHttpHeaderException || failure instanceof TooLongFrameException) {
      return Verdict.refuse(Reason.HEADERS_TOO_LARGE, "The request headers are larger than this proxy accepts.");
    }
    if (failure != null) {
      return Verdict.refuse(Reason.REQUEST_MALFORMED, "The request is not valid HTTP/1.1.");
    }
    if (auditRefusesRequests.getAsBoolean()) {
      return Verdict.refuse(Reason.AUDIT_UNAVAILABLE, "The audit trail cannot be written; requests are refused until it can.");
    }
    HttpHeaders h = head.headers();
    if (h.contains(HttpHeaderNames.EXPECT) && !head.expectContinue()) {
      return Verdict.refuse(Reason.EXPECTATION_UNSUPPORTED, "Only Expect: 100-continue is supported.");
    }
    if (h.contains(HttpHeaderNames.TRANSFER_ENCODING) && !head.chunked()) {
      return Verdict.refuse(Reason.TRANSFER_ENCODING_UNSUPPORTED, "Only chunked transfer encoding is supported.");
    }
    String protectedOption = HopByHop.protectedOption(h);
    if (protectedOption != null) {
      // RFC 9110 lets Connection make any header hop-by-hop, i.e. deleted on the way: never the framing, the host or a
      // credential, or Vertex would read the rest of the body as a request the policy never saw.
      return Verdict.refuse(Reason.CONNECTION_HEADER_INVALID, "The Connection header may not name " + protectedOption + ".");
    }
    if (h.contains("x-http-method-override") || h.contains("x-method-override")) {
      // Google honours method overrides; the method it would execute must be the one the policy decided on.
      return Verdict.refuse(Reason.METHOD_OVERRIDE_NOT_ALLOWED, "HTTP method override headers are not accepted.");
    }
    if (head.declaredBodyBytes() > maxBodyBytes) {
      return Verdict.refuse(Reason.BODY_TOO_LARGE,
          "The request body is larger than this proxy accepts (" + maxBodyBytes + " bytes).");
    }
    return Verdict.proceed();
  }
}

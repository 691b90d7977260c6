package dev.vertexproxy.proxy.identity;

import com.nimbusds.jwt.proc.BadJWTException;
import dev.vertexproxy.proxy.identity.IdentityException.Reason;

/**
 * A claims check failed inside nimbus' {@code DefaultJWTProcessor}; carries the reason out through the processor,
 * which rethrows {@link BadJWTException}s from the claims verifier unchanged.
 */
final class ClaimsRefused extends BadJWTException {
  private static final long serialVersionUID = 1L;
  private final Reason reason;

  ClaimsRefused(Reason reason, String message) {
    super(message);
    this.reason = reason;
  }

  Reason reason() {
    return reason;
  }
}

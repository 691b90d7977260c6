package dev.vertexproxy.proxy.identity;

/**
 * What an issuer's key source reports for metrics: every fetch of its discovery document and JWKS that actually went
 * out, per configured issuer name (never a token or a subject). Called on the blocking executor; implementations must
 * be cheap and thread-safe.
 */
public interface KeyFetchEvents {
  /** Reports nothing. */
  KeyFetchEvents NONE = (issuerName, ok) -> {
  };

  /** A fetch for the issuer configured as {@code issuerName} ended; {@code ok} when keys came back. */
  void fetched(String issuerName, boolean ok);
}

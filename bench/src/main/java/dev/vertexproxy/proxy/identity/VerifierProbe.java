package dev.vertexproxy.proxy.identity;

/**
 * Lets a benchmark prove which path it measured: how many tokens a {@link TokenVerifier} took through signature and
 * claims verification (its cache misses). It lives in the verifier's package inside the benchmark jar, so the proxy
 * keeps the counter package-private.
 */
public final class VerifierProbe {
  private VerifierProbe() {
  }

  /** {@link TokenVerifier#fullVerifications()} of {@code verifier}. */
  public static long fullVerifications(TokenVerifier verifier) {
    return verifier.fullVerifications();
  }
}

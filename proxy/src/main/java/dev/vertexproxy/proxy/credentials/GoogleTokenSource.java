package dev.vertexproxy.proxy.credentials;

import dev.vertexproxy.proxy.credentials.GoogleTokenProvider.GoogleToken;
import java.util.concurrent.CompletableFuture;

/**
 * One layer of the Google token stack that {@link GoogleTokenProvider.Builder} composes: the fetching source at the
 * bottom, then {@link FailureBackoff}, then {@link RefreshAheadCache}. Every layer answers with a future and never
 * blocks the calling thread; a failure is the future's, not a thrown exception.
 */
interface GoogleTokenSource {
  CompletableFuture<GoogleToken> tokenFor(TokenRequest request);

  /**
   * The bottom layer: the one that asks Google. A new credentials mode is a new fetching source; the layers above
   * stay as they are.
   */
  interface Fetching extends GoogleTokenSource {
    /**
     * Whether tokens depend on the caller (they are obtained with the caller's own token). Requests then must carry
     * the caller and tokens are cached per caller; otherwise the caller is stripped before the request reaches any
     * layer, so the caller's token goes nowhere it is not needed.
     */
    default boolean needsCaller() {
      return false;
    }
  }
}

package dev.vertexproxy.proxy.credentials;

/**
 * What the Google token stack reports as it works, for metrics: cache hits and misses at the top layer, and every
 * request that actually went to Google at the bottom. Called on whatever thread the layer runs on (an event loop for
 * hits and misses, the blocking executor for fetches): implementations must be cheap and thread-safe, and never block.
 */
public interface GoogleTokenEvents {
  /** Reports nothing. */
  GoogleTokenEvents NONE = new GoogleTokenEvents() {
  };

  /** A usable cached token (or a fetch already under way for the same key) answered the request. */
  default void cacheHit() {
  }

  /** Nothing usable was cached: this request starts a fetch. */
  default void cacheMiss() {
  }

  /** A request to Google ended: a first fetch or a background refresh; {@code ok} when a token came back. */
  default void fetched(boolean ok) {
  }
}

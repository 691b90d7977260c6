package dev.vertexproxy.proxy.reserved;

import java.util.concurrent.CompletionStage;

/**
 * One route the proxy answers itself, under {@code /_proxy/} or {@code /.well-known/}: the login pages, the proxy's
 * issuer metadata, its OAuth endpoints. The request arrives whole (its body bounded by
 * {@link ReservedRoutes#MAX_BODY_BYTES}) after the guard step; the answer goes back to the caller and the exchange ends
 * in one audit record like every other.
 *
 * <p>Contract: stateless or thread-safe, one instance for all requests. {@link #handle} is called on the connection's
 * event loop and must not block it: work that waits (HTTP to an IdP, files) runs elsewhere and completes the stage on
 * any thread. A stage that fails answers 500 {@code internal-error}; an endpoint never lets its exception text reach
 * the caller.
 */
@FunctionalInterface
public interface ReservedEndpoint {
  CompletionStage<ReservedResponse> handle(ReservedRequest request);
}

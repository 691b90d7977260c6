package dev.vertexproxy.proxy.upstream;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;

/** Where an exchange gets its connection to Vertex: the pool in production, a scripted channel in tests. */
public interface LeaseSource {
  /** A connection to {@code origin} on {@code loop}; the future completes on {@code loop}. */
  Future<UpstreamLease> lease(EventLoop loop, Origin origin);
}

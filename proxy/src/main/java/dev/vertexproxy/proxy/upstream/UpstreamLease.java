package dev.vertexproxy.proxy.upstream;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * One exchange's hold on a connection to Vertex. The lease owns the exchange's handlers on that connection: it attaches
 * the relay in front of the pool's guard, arms the response timeout, and takes both off again before the connection
 * goes back to the pool or is closed — so nothing outside this package edits an upstream pipeline, and a connection
 * never returns to the pool with an exchange's handler on it.
 *
 * <p>Confined to the connection's event loop. Ends once: after {@link #release} or {@link #close}, nothing more.
 */
public final class UpstreamLease {
  private final Channel channel;
  private final Consumer<Channel> giveBack;
  private final Runnable onEnd;
  private boolean ended;

  /** A lease on {@code channel}; {@code giveBack} takes it back on a reusable release ({@code null}: always close). */
  UpstreamLease(Channel channel, Consumer<Channel> giveBack) {
    this(channel, giveBack, null);
  }

  /** As above; {@code onEnd} (if not {@code null}) hears that the lease ended, before the connection is given back. */
  UpstreamLease(Channel channel, Consumer<Channel> giveBack, Runnable onEnd) {
    this.channel = channel;
    this.giveBack = giveBack;
    this.onEnd = onEnd;
  }

  /** A lease on a channel no pool knows (a dedicated connection, a test's scripted channel): release closes it. */
  public static UpstreamLease unpooled(Channel channel) {
    return new UpstreamLease(channel, null);
  }

  Channel channel() {
    return channel;
  }

  void attach(ChannelHandler relay) {
    ChannelPipeline p = channel.pipeline();
    if (p.get(UpstreamConnections.GUARD) != null) {
      p.addBefore(UpstreamConnections.GUARD, UpstreamConnections.RELAY, relay);
    } else {
      p.addLast(UpstreamConnections.RELAY, relay);
    }
  }

  /**
   * Starts the response timeout (once: later calls do nothing): silence from Vertex longer than {@code timeout} fires an
   * {@link IdleStateEvent} at the relay.
   */
  void armResponseTimeout(Duration timeout) {
    ChannelPipeline p = channel.pipeline();
    if (!ended && p.get(UpstreamConnections.RESPONSE_TIMEOUT) == null && p.get(UpstreamConnections.RELAY) != null) {
      p.addBefore(UpstreamConnections.RELAY, UpstreamConnections.RESPONSE_TIMEOUT,
          new IdleStateHandler(timeout.toMillis(), 0, 0, TimeUnit.MILLISECONDS));
    }
  }

  ChannelFuture write(Object msg) {
    return channel.write(msg);
  }

  void flush() {
    channel.flush();
  }

  void read() {
    channel.read();
  }

  /**
   * Ends the lease: the connection goes back to the pool when {@code reusable} (the exchange ended exactly at the framed
   * end of a keep-alive response, with the whole request sent), and is closed otherwise.
   */
  void release(boolean reusable) {
    if (ended) {
      return;
    }
    ended = true;
    detach();
    if (onEnd != null) {
      onEnd.run();
    }
    if (reusable && giveBack != null) {
      giveBack.accept(channel);
    } else {
      channel.close();
    }
  }

  /** Ends the lease and closes the connection; the relay is detached first, so it hears nothing of the close. */
  void close() {
    release(false);
  }

  private void detach() {
    ChannelPipeline p = channel.pipeline();
    if (p.get(UpstreamConnections.RELAY) != null) {
      p.remove(UpstreamConnections.RELAY);
    }
    if (p.get(UpstreamConnections.RESPONSE_TIMEOUT) != null) {
      p.remove(UpstreamConnections.RESPONSE_TIMEOUT);
    }
  }
}

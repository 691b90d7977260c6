package dev.vertexproxy.proxy.server;

import io.netty.channel.ChannelHandlerContext;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** One connection's timer for a request head to arrive; armed between exchanges. Confined to the event loop. */
final class HeaderTimer {
  private ScheduledFuture<?> timer;

  void arm(ChannelHandlerContext ctx, Duration timeout, Runnable onTimeout) {
    cancel();
    timer = ctx.executor().schedule(onTimeout, timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  void cancel() {
    if (timer != null) {
      timer.cancel(false);
      timer = null;
    }
  }
}

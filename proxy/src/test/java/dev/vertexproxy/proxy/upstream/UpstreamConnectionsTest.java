package dev.vertexproxy.proxy.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The pool on one event loop against a real listening socket: connections are reused, and a loop whose callers keep
 * more exchanges in flight than {@code max_idle_per_host} does not close and reopen connections between two bursts.
 */
class UpstreamConnectionsTest {
  private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private final EventLoop loop = group.next();
  private final List<Socket> accepted = new CopyOnWriteArrayList<>();
  private final AtomicInteger accepts = new AtomicInteger();
  private final ServerSocket server;
  private final Origin origin;

  UpstreamConnectionsTest() throws IOException {
    server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    origin = new Origin(false, "127.0.0.1", server.getLocalPort());
    Thread t = new Thread(() -> {
      try {
        while (true) {
          accepted.add(server.accept());
          accepts.incrementAndGet();
        }
      } catch (IOException closed) {
        // done
      }
    }, "pool-test-accept");
    t.setDaemon(true);
    t.start();
  }

  @AfterEach
  void close() throws IOException {
    server.close();
    for (Socket s : accepted) {
      s.close();
    }
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  private List<UpstreamLease> leaseAll(UpstreamConnections pool, int n) throws Exception {
    List<UpstreamLease> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(loop.submit(() -> pool.lease(loop, origin)).get().get(5, TimeUnit.SECONDS));
    }
    return out;
  }

  private void releaseAll(List<UpstreamLease> leases) throws Exception {
    loop.submit(() -> leases.forEach(l -> l.release(true))).get();
  }

  @Test
  void burstsLargerThanTheIdleCapReuseTheirConnectionsInsteadOfReopeningThem() throws Exception {
    try (UpstreamConnections pool = new UpstreamConnections(NioSocketChannel.class, Duration.ofSeconds(2), null, 1,
        Runnable::run)) {
      // hold all four at once, so the loop has seen four in use together
      List<UpstreamLease> first = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        first.addAll(leaseAll(pool, 1));
      }
      releaseAll(first);
      for (int round = 0; round < 3; round++) {
        releaseAll(leaseAll(pool, 4));
      }
      assertThat(pool.opened()).as("four connections, opened once").isEqualTo(4);
      assertThat(pool.reused()).isEqualTo(12);
      assertThat(accepts).hasValue(4);
    }
  }

  @Test
  void withoutConcurrencyTheIdleCapStillHolds() throws Exception {
    try (UpstreamConnections pool = new UpstreamConnections(NioSocketChannel.class, Duration.ofSeconds(2), null, 1,
        Runnable::run)) {
      for (int round = 0; round < 3; round++) {
        releaseAll(leaseAll(pool, 1));
      }
      assertThat(pool.opened()).as("one at a time: one connection").isEqualTo(1);
      assertThat(pool.reused()).isEqualTo(2);
    }
  }
}

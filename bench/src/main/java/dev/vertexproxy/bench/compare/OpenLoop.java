package dev.vertexproxy.bench.compare;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.PrintStream;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Open-loop latency at a fixed rate, corrected for coordinated omission: request {@code i} is due at
 * {@code t0 + i / rate}, and its latency is its completion time minus its due time, not minus the time it was sent.
 * A request waits for a free keep-alive connection (HTTP/1.1, no pipelining) when all are busy, so a server stall
 * shows in every request it delayed, as a caller arriving at that rate would see it, not in the one request that
 * happened to be on the wire.
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar dev.vertexproxy.bench.compare.OpenLoop --url http://127.0.0.1:8080/v1/... \
 *     [--header 'Authorization: Bearer …']... [--body-file body.json] [--method POST] \
 *     --rate 2000 [--duration 10] [--warmup 2] [--connections 16] [--drain 5] [--connect-timeout 5]
 * </pre>
 *
 * {@code --rate 0} measures unloaded: one connection, one request at a time back to back (closed loop), latency =
 * send to completion. Requests due in the warm-up are sent but not measured. After {@code --duration} no new
 * request falls due; those still queued or in flight get {@code --drain} seconds more, then count as
 * {@code unfinished}. The run is bounded: connect timeout + warm-up + duration + drain, plus a few seconds at most;
 * {@code main} halts 30 s past that ({@link Watchdog}).
 *
 * <p>Stdout, one JSON object: {@code sent}, {@code completed}, {@code measured}, {@code errors} (non-2xx by status,
 * {@code io}, {@code connect}, {@code unfinished}), {@code achieved_rate} (measured completions per second),
 * {@code latency_us} (min, p50, p90, p99, p99_9, max, mean over every 2xx sample of the measured window: exact
 * samples, nearest rank, rounded to 1 µs), {@code service_us} (send to completion, the figure a closed-loop tool
 * reports) and {@code send_lag_us} (how late the generator itself sent requests after their due time: with free
 * connections this is the generator's own timer error, included in {@code latency_us}).
 */
public final class OpenLoop {
  static final Set<String> OPTIONS = Set.of("url", "header", "body-file", "method", "rate", "duration", "warmup",
      "connections", "drain", "connect-timeout");

  private OpenLoop() {
  }

  public static void main(String[] args) {
    Watchdog.arm("OpenLoop", args, OPTIONS, c -> c.seconds("connect-timeout", 5) + c.seconds("warmup", 0)
        + c.seconds("duration", 10) + c.seconds("drain", 5), System.out);
    System.exit(run(args, System.out));
  }

  static int run(String[] args, PrintStream out) {
    Result r;
    try {
      r = execute(Cli.parse(args, OPTIONS));
    } catch (IllegalArgumentException e) {
      System.err.println("OpenLoop: " + e.getMessage());
      return 2;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 1;
    }
    Json.print(out, r.json);
    return 0;
  }

  /** What a run measured: the JSON it prints, and the samples behind it. */
  static final class Result {
    final Map<String, Object> json;
    final Samples latency;
    final Samples service;

    Result(Map<String, Object> json, Samples latency, Samples service) {
      this.json = json;
      this.latency = latency;
      this.service = service;
    }
  }

  static Result execute(Cli cli) throws InterruptedException {
    HttpTarget target = HttpTarget.from(cli);
    double rate = cli.decimal("rate", 0, 0);
    long warmup = cli.seconds("warmup", 0);
    long duration = cli.seconds("duration", 10);
    long drain = cli.seconds("drain", 5);
    int connectTimeout = (int) (cli.decimal("connect-timeout", 5, 0.001) * 1000);
    int connections = rate == 0 ? 1 : (int) cli.integer("connections", 16, 1);
    try (Net net = new Net("open-loop", 1)) {
      Generator g = new Generator(net, target, rate, warmup, duration, connections, connectTimeout);
      g.loop.execute(g::start);
      if (!g.connected.await(connectTimeout + 1000L, TimeUnit.MILLISECONDS)) {
        System.err.println("OpenLoop: not every connection opened within --connect-timeout; starting with those that did");
      }
      g.loop.execute(g::begin);
      if (!g.done.await(warmup + duration + drain, TimeUnit.NANOSECONDS)) {
        System.err.println("OpenLoop: --drain ended with requests still queued or in flight");
      }
      try {
        return g.loop.submit(() -> g.finish(drain)).get(5, TimeUnit.SECONDS);
      } catch (ExecutionException | TimeoutException e) {
        throw new IllegalStateException("OpenLoop: could not collect the results", e);
      }
    }
  }

  /** All state lives on one event loop, so nothing here is shared between threads. */
  private static final class Generator {
    final EventLoop loop;
    final CountDownLatch connected;
    final CountDownLatch done = new CountDownLatch(1);
    private final Bootstrap bootstrap;
    private final HttpTarget target;
    private final boolean closedLoop;
    private final double period;
    private final long warmup;
    private final long duration;
    private final long total;
    private final int connections;
    private final ArrayDeque<Conn> idle = new ArrayDeque<>();
    private final List<Conn> all = new ArrayList<>();
    private final Samples latency = new Samples();
    private final Samples service = new Samples();
    private final Samples lag = new Samples();
    private final Map<Integer, Long> statusErrors = new TreeMap<>();
    private long t0;
    private long next;
    private long sent;
    private long completed;
    private long measured;
    private long lastMeasured;
    private long ioErrors;
    private long connectErrors;
    private boolean started;
    private boolean stopping;
    private ScheduledFuture<?> timer;

    Generator(Net net, HttpTarget target, double rate, long warmup, long duration, int connections, int connectTimeout) {
      this.loop = net.group.next();
      this.bootstrap = net.client(connectTimeout);
      this.target = target;
      this.closedLoop = rate == 0;
      this.period = closedLoop ? 0 : 1e9 / rate;
      this.warmup = warmup;
      this.duration = duration;
      this.total = closedLoop ? Long.MAX_VALUE : (long) Math.ceil((warmup + duration) / period);
      this.connections = connections;
      this.connected = new CountDownLatch(connections);
    }

    void start() {
      for (int i = 0; i < connections; i++) {
        connect(true);
      }
    }

    void begin() {
      t0 = System.nanoTime();
      started = true;
      dispatch();
    }

    private void connect(boolean first) {
      if (stopping) {
        return;
      }
      Conn c = new Conn();
      ChannelFuture f = bootstrap.clone().handler(new ChannelInitializer<Channel>() {
        @Override
        protected void initChannel(Channel ch) {
          target.addCodec(ch);
          ch.pipeline().addLast(c);
        }
      }).connect(target.host, target.port);
      f.addListener(done -> {
        if (first) {
          connected.countDown();
        }
        if (done.isSuccess()) {
          c.channel = f.channel();
          all.add(c);
          idle.add(c);
          dispatch();
        } else {
          connectErrors++;
          if (connectErrors <= 5) {
            System.err.println("OpenLoop: connect " + target.host + ":" + target.port + ": " + done.cause());
          }
          loop.schedule(() -> connect(false), 100, TimeUnit.MILLISECONDS);
        }
      });
    }

    /** Sends every request that is due on a free connection, then waits for the next due time or a completion. */
    private void dispatch() {
      if (!started || stopping) {
        return;
      }
      long now = System.nanoTime();
      if (closedLoop) {
        if (now - t0 >= warmup + duration) {
          if (idle.size() == all.size()) {
            done.countDown();
          }
          return;
        }
        Conn c = idle.poll();
        if (c != null) {
          c.send(next++, now, now);
        }
        return;
      }
      long due = Math.min(total, (long) ((now - t0) / period) + 1);
      while (next < due && !idle.isEmpty()) {
        long i = next++;
        idle.poll().send(i, t0 + (long) (i * period), now);
      }
      if (next >= total) {
        if (idle.size() == all.size()) {
          done.countDown();
        }
        return;
      }
      if (next >= due && timer == null && !idle.isEmpty()) {
        long wait = t0 + (long) (next * period) - System.nanoTime();
        timer = loop.schedule(() -> {
          timer = null;
          dispatch();
        }, Math.max(0, wait), TimeUnit.NANOSECONDS);
      }
    }

    void complete(Conn c, int status, long now, boolean keepAlive) {
      completed++;
      boolean inWindow = c.due - t0 >= warmup && c.due - t0 < warmup + duration;
      if (status < 200 || status > 299) {
        statusErrors.merge(status, 1L, Long::sum);
      } else if (inWindow) {
        measured++;
        lastMeasured = now;
        latency.add(now - c.due);
        service.add(now - c.sentAt);
        lag.add(c.sentAt - c.due);
      }
      c.busy = false;
      if (keepAlive) {
        idle.add(c);
      } else {
        all.remove(c);
        c.channel.close();
        connect(false);
      }
      dispatch();
    }

    void lost(Conn c) {
      all.remove(c);
      idle.remove(c);
      if (c.busy) {
        ioErrors++;
        c.busy = false;
      }
      if (!stopping) {
        connect(false);
        dispatch();
      }
    }

    Result finish(long drain) {
      stopping = true;
      if (timer != null) {
        timer.cancel(false);
      }
      for (Conn c : new ArrayList<>(all)) {
        c.channel.close();
      }
      long window = lastMeasured - (t0 + warmup);
      Map<String, Object> errors = new LinkedHashMap<>();
      long statusTotal = statusErrors.values().stream().mapToLong(Long::longValue).sum();
      long unfinished = closedLoop ? 0 : total - completed - ioErrors;
      errors.put("total", statusTotal + ioErrors + unfinished);
      Map<String, Long> byStatus = new LinkedHashMap<>();
      statusErrors.forEach((k, v) -> byStatus.put(Integer.toString(k), v));
      errors.put("status", byStatus);
      errors.put("io", ioErrors);
      errors.put("connect", connectErrors);
      errors.put("unfinished", unfinished);
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("tool", "OpenLoop");
      m.put("url", "http" + (target.ssl == null ? "" : "s") + "://" + target.host + ":" + target.port + target.pathAndQuery);
      m.put("mode", closedLoop ? "closed-loop" : "open-loop");
      m.put("rate", closedLoop ? 0 : 1e9 / period);
      m.put("connections", connections);
      m.put("warmup_s", warmup / 1e9);
      m.put("duration_s", duration / 1e9);
      m.put("drain_s", drain / 1e9);
      m.put("sent", sent);
      m.put("completed", completed);
      m.put("measured", measured);
      m.put("errors", errors);
      m.put("achieved_rate", window > 0 ? Math.round(measured * 1e10 / window) / 10.0 : 0);
      m.put("latency_us", latency.summaryMicros());
      m.put("service_us", service.summaryMicros());
      m.put("send_lag_us", lag.summaryMicros());
      m.put("transport", Net.transport());
      return new Result(m, latency, service);
    }

    /** One keep-alive connection carrying one request at a time. */
    private final class Conn extends ChannelInboundHandlerAdapter {
      Channel channel;
      boolean busy;
      long due;
      long sentAt;
      private int status;
      private boolean keepAlive;

      void send(long index, long dueAt, long now) {
        busy = true;
        due = dueAt;
        sentAt = now;
        sent++;
        channel.writeAndFlush(target.request(), channel.voidPromise());
      }

      @Override
      public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
          if (msg instanceof HttpResponse) {
            HttpResponse r = (HttpResponse) msg;
            status = r.decoderResult().isFailure() ? 0 : r.status().code();
            keepAlive = HttpUtil.isKeepAlive(r);
          }
          if (msg instanceof LastHttpContent && busy) {
            complete(this, status, System.nanoTime(), keepAlive);
          }
        } finally {
          ReferenceCountUtil.release(msg);
        }
      }

      @Override
      public void channelInactive(ChannelHandlerContext ctx) {
        lost(this);
      }

      @Override
      public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (ioErrors < 5) {
          System.err.println("OpenLoop: " + cause);
        }
        ctx.close();
      }
    }
  }
}

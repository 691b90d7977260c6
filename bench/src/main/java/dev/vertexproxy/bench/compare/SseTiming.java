package dev.vertexproxy.bench.compare;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * How soon server-sent events arrive through a proxy: streams one after another on a keep-alive connection, and for
 * each the time from the request being written to the socket to its first event fully received, then the gap between
 * each event and the one before it. Compared with the same figures direct to the stub, they show what a proxy adds
 * to the first event and whether it batches events (a batching proxy shows gaps of 0 and stretched ones).
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar dev.vertexproxy.bench.compare.SseTiming \
 *     --url 'http://127.0.0.1:8080/v1/…:streamGenerateContent?alt=sse' [--header 'K: V']... [--body-file body.json] \
 *     [--streams 50] [--warmup-streams 0] [--timeout 30] [--deadline 120] [--connect-timeout 5]
 * </pre>
 *
 * {@code --warmup-streams K} runs K streams first that are not timed (the first streams of a fresh JVM, the tool's
 * or a proxy's, time class loading and the interpreter); {@code streams} in the output counts the timed ones,
 * {@code started}, {@code completed} and {@code events} count all.
 * An event ends at the blank line after its {@code data:} lines; events completed by one read get the time of that
 * read. {@code --timeout} bounds each stream (then counted as {@code timeout} and the connection replaced); no stream
 * starts after {@code --deadline} seconds (default 120; {@code started} then says how many did), and {@code main} halts
 * 30 s past deadline + timeout ({@link Watchdog}). Stdout, one JSON object: {@code streams}, {@code started},
 * {@code completed}, {@code errors} (non-2xx by status, {@code io}, {@code timeout}, {@code connect},
 * {@code no_events}), {@code events} (total, min and max per stream), {@code first_event_us} and {@code gap_us} (min,
 * p50, p90, p99, p99_9, max, mean over every stream, exact samples rounded to 1 µs).
 */
public final class SseTiming {
  static final Set<String> OPTIONS = Set.of("url", "header", "body-file", "method", "streams", "timeout",
      "connect-timeout", "deadline", "warmup-streams");

  private SseTiming() {
  }

  public static void main(String[] args) {
    Watchdog.arm("SseTiming", args, OPTIONS, c -> c.seconds("deadline", 120) + c.seconds("timeout", 30)
        + c.seconds("connect-timeout", 5), System.out);
    System.exit(run(args, System.out));
  }

  static int run(String[] args, PrintStream out) {
    try {
      Json.print(out, execute(Cli.parse(args, OPTIONS)).json);
      return 0;
    } catch (IllegalArgumentException e) {
      System.err.println("SseTiming: " + e.getMessage());
      return 2;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 1;
    }
  }

  /** What a run measured: the JSON it prints and the samples behind it. */
  static final class Result {
    final Map<String, Object> json;
    final Samples firstEvent;
    final Samples gaps;

    Result(Map<String, Object> json, Samples firstEvent, Samples gaps) {
      this.json = json;
      this.firstEvent = firstEvent;
      this.gaps = gaps;
    }
  }

  static Result execute(Cli cli) throws InterruptedException {
    HttpTarget target = HttpTarget.from(cli);
    int streams = (int) cli.integer("streams", 50, 1);
    long timeout = cli.seconds("timeout", 30);
    long deadline = cli.seconds("deadline", 120);
    int warmup = (int) cli.integer("warmup-streams", 0, 0);
    int connectTimeout = (int) (cli.decimal("connect-timeout", 5, 0.001) * 1000);
    try (Net net = new Net("sse-timing", 1)) {
      Streams s = new Streams(net, target, warmup + streams, warmup, timeout, connectTimeout, System.nanoTime() + deadline);
      net.group.execute(s::next);
      try {
        return s.result.get(deadline + timeout + connectTimeout * 1_000_000L + TimeUnit.SECONDS.toNanos(5),
            TimeUnit.NANOSECONDS);
      } catch (ExecutionException | TimeoutException e) {
        throw new IllegalStateException("SseTiming: no result", e);
      }
    }
  }

  /** Runs the streams one at a time; all state is on the one event loop. */
  private static final class Streams {
    final CompletableFuture<Result> result = new CompletableFuture<>();
    private final Net net;
    private final HttpTarget target;
    private final int streams;
    private final long timeout;
    private final int connectTimeout;
    private final long deadline;
    private final int warmup;
    private final Samples firstEvent = new Samples();
    private final Samples gaps = new Samples();
    private final Map<Integer, Long> statusErrors = new TreeMap<>();
    private Channel channel;
    private Stream current;
    private int started;
    private int completed;
    private long events;
    private long minEvents = Long.MAX_VALUE;
    private long maxEvents;
    private long ioErrors;
    private long timeouts;
    private long connectErrors;
    private long noEvents;

    Streams(Net net, HttpTarget target, int streams, int warmup, long timeout, int connectTimeout, long deadline) {
      this.deadline = deadline;
      this.warmup = warmup;
      this.net = net;
      this.target = target;
      this.streams = streams;
      this.timeout = timeout;
      this.connectTimeout = connectTimeout;
    }

    /** Starts the next stream, on the open connection or a new one. */
    void next() {
      if (started == streams || System.nanoTime() - deadline >= 0) {
        finish();
        return;
      }
      if (channel != null && channel.isActive()) {
        start(channel);
        return;
      }
      ChannelFuture f = net.client(connectTimeout).handler(new ChannelInitializer<Channel>() {
        @Override
        protected void initChannel(Channel ch) {
          target.addCodec(ch);
          ch.pipeline().addLast(new Reader());
        }
      }).connect(target.host, target.port);
      f.addListener(done -> {
        if (done.isSuccess()) {
          channel = f.channel();
          start(channel);
        } else {
          connectErrors++;
          System.err.println("SseTiming: connect " + target.host + ":" + target.port + ": " + done.cause());
          started++;
          net.group.schedule(this::next, 100, TimeUnit.MILLISECONDS);
        }
      });
    }

    private void start(Channel ch) {
      started++;
      Stream s = new Stream();
      s.measured = started > warmup;
      current = s;
      s.timer = ch.eventLoop().schedule(() -> {
        if (current == s) {
          timeouts++;
          end(s, false);
          ch.close();
        }
      }, timeout, TimeUnit.NANOSECONDS);
      ch.writeAndFlush(target.request()).addListener(w -> {
        if (w.isSuccess()) {
          s.written = System.nanoTime();
        }
      });
    }

    /** Ends the current stream, and starts the next one unless the connection is closing. */
    void end(Stream s, boolean keepAlive) {
      if (current != s) {
        return;
      }
      current = null;
      s.timer.cancel(false);
      if (s.ok && s.events == 0) {
        noEvents++;
      }
      if (s.ok) {
        completed++;
        events += s.events;
        minEvents = Math.min(minEvents, s.events);
        maxEvents = Math.max(maxEvents, s.events);
      }
      if (!keepAlive && channel != null) {
        channel.close();
        channel = null;
      }
      net.group.execute(this::next);
    }

    void finish() {
      if (channel != null) {
        channel.close();
      }
      Map<String, Object> errors = new LinkedHashMap<>();
      long statusTotal = statusErrors.values().stream().mapToLong(Long::longValue).sum();
      errors.put("total", statusTotal + ioErrors + timeouts + connectErrors + noEvents);
      Map<String, Long> byStatus = new LinkedHashMap<>();
      statusErrors.forEach((k, v) -> byStatus.put(Integer.toString(k), v));
      errors.put("status", byStatus);
      errors.put("io", ioErrors);
      errors.put("timeout", timeouts);
      errors.put("connect", connectErrors);
      errors.put("no_events", noEvents);
      Map<String, Object> ev = new LinkedHashMap<>();
      ev.put("total", events);
      ev.put("min_per_stream", completed == 0 ? 0 : minEvents);
      ev.put("max_per_stream", maxEvents);
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("tool", "SseTiming");
      m.put("url", "http" + (target.ssl == null ? "" : "s") + "://" + target.host + ":" + target.port + target.pathAndQuery);
      m.put("streams", streams - warmup);
      m.put("warmup_streams", warmup);
      m.put("started", started);
      m.put("completed", completed);
      m.put("errors", errors);
      m.put("events", ev);
      m.put("first_event_us", firstEvent.summaryMicros());
      m.put("gap_us", gaps.summaryMicros());
      m.put("transport", Net.transport());
      result.complete(new Result(m, firstEvent, gaps));
    }

    /** One stream's progress. */
    private final class Stream {
      final SseEvents parser = new SseEvents();
      ScheduledFuture<?> timer;
      long written;
      long lastEvent;
      long events;
      boolean ok;
      boolean keepAlive;
      boolean measured;
    }

    /** Reads the responses of the connection; the stream it belongs to is {@code current}. */
    private final class Reader extends ChannelInboundHandlerAdapter {
      @Override
      public void channelRead(ChannelHandlerContext ctx, Object msg) {
        long now = System.nanoTime();
        try {
          Stream s = current;
          if (s == null) {
            return;
          }
          if (msg instanceof HttpResponse) {
            HttpResponse r = (HttpResponse) msg;
            int status = r.decoderResult().isFailure() ? 0 : r.status().code();
            s.ok = status >= 200 && status <= 299;
            s.keepAlive = HttpUtil.isKeepAlive(r);
            if (!s.ok) {
              statusErrors.merge(status, 1L, Long::sum);
            }
          }
          if (msg instanceof HttpContent && s.ok) {
            ByteBuf content = ((HttpContent) msg).content();
            int n = s.parser.feed(content);
            for (int i = 0; i < n; i++) {
              if (s.measured && s.events == 0) {
                firstEvent.add(now - (s.written == 0 ? now : s.written));
              } else if (s.measured) {
                gaps.add(now - s.lastEvent);
              }
              s.lastEvent = now;
              s.events++;
            }
          }
          if (msg instanceof LastHttpContent) {
            end(s, s.keepAlive);
          }
        } finally {
          ReferenceCountUtil.release(msg);
        }
      }

      @Override
      public void channelInactive(ChannelHandlerContext ctx) {
        Stream s = current;
        if (s != null && ctx.channel() == channel) {
          ioErrors++;
          s.ok = false;
          channel = null;
          current = null;
          s.timer.cancel(false);
          net.group.execute(Streams.this::next);
        }
      }

      @Override
      public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        System.err.println("SseTiming: " + cause);
        ctx.close();
      }
    }
  }
}

package dev.vertexproxy.bench.compare;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Holds many server-sent-event streams open at once, so the benchmark can read a proxy's memory with N concurrent
 * streams: N connections, each with one streaming request, opened together; once every stream has its first event
 * it prints {@code {"open":N}} on stdout (the script then reads the proxy's RSS), holds them until a line arrives on
 * stdin or {@code --hold} seconds pass, and closes them all.
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar dev.vertexproxy.bench.compare.ManyStreams \
 *     --url 'http://127.0.0.1:8080/v1/…:streamGenerateContent?alt=sse&amp;bench_events=200&amp;bench_gap_ms=50' \
 *     [--header 'K: V']... [--body-file body.json] [--streams 1000] [--hold 30] [--open-timeout 30] \
 *     [--connect-timeout 10]
 * </pre>
 *
 * The URL's {@code bench_events} and {@code bench_gap_ms} (read by the stub) should make a stream outlast the hold;
 * one that ends sooner is counted in {@code ended_early}. If not every stream has its first event within
 * {@code --open-timeout}, the {@code open} line is printed with as many as did. The end of stdin without a line does
 * not end the hold (a script's background job may have {@code /dev/null} as stdin). File descriptors are taken as
 * the process has them: nothing is raised; the first connection refused for want of one is reported on stderr,
 * counts in {@code errors.emfile}, and no further connection is tried ({@code errors.not_tried}). The run is
 * bounded by open-timeout + hold + a few seconds; {@code main} halts 30 s past that ({@link Watchdog}).
 *
 * <p>Stdout: the {@code {"open":N}} line, then one JSON object: {@code streams}, {@code opened} (connections
 * established), {@code first_event} (streams that received one), {@code events} (all received), {@code ended_early},
 * {@code errors} (non-2xx by status, {@code connect}, {@code emfile}, {@code not_tried}, {@code io}: closed before
 * its first event), {@code open_ms} (from the first connect to the {@code open} line) and {@code held_ms}.
 */
public final class ManyStreams {
  static final Set<String> OPTIONS = Set.of("url", "header", "body-file", "method", "streams", "hold", "open-timeout",
      "connect-timeout");

  private ManyStreams() {
  }

  public static void main(String[] args) {
    Watchdog.arm("ManyStreams", args, OPTIONS, c -> c.seconds("open-timeout", 30) + c.seconds("hold", 30), System.out);
    System.exit(run(args, System.out, System.in));
  }

  static int run(String[] args, PrintStream out, InputStream in) {
    Cli cli;
    try {
      cli = Cli.parse(args, OPTIONS);
      HttpTarget target = HttpTarget.from(cli);
      int streams = (int) cli.integer("streams", 1000, 1);
      long hold = cli.seconds("hold", 30);
      long openTimeout = cli.seconds("open-timeout", 30);
      int connectTimeout = (int) (cli.decimal("connect-timeout", 10, 0.001) * 1000);
      // loaded now: once the descriptors run out, a class still to be read from the class path could not be
      Json.line(Map.of("open", 0, "events", 0L, "errors", Map.of("status", Map.of()), "rate", 0.5, "url", ""));
      try (Net net = new Net("many-streams", 1)) {
        Streams s = new Streams(net, target, streams, connectTimeout);
        long begin = System.nanoTime();
        s.loop.execute(s::open);
        if (!s.settled.await(openTimeout, TimeUnit.NANOSECONDS)) {
          System.err.println("ManyStreams: --open-timeout reached before every stream had its first event");
        }
        long openMillis = (System.nanoTime() - begin) / 1_000_000;
        int open = call(s, () -> s.firstEvents);
        Json.print(out, Map.of("open", open));
        long heldFrom = System.nanoTime();
        CountDownLatch release = new CountDownLatch(1);
        watch(in, release);
        release.await(hold, TimeUnit.NANOSECONDS);
        long heldMillis = (System.nanoTime() - heldFrom) / 1_000_000;
        Map<String, Object> m = call(s, s::finish);
        m.put("open_ms", openMillis);
        m.put("held_ms", heldMillis);
        Json.print(out, m);
      }
      return 0;
    } catch (IllegalArgumentException e) {
      System.err.println("ManyStreams: " + e.getMessage());
      return 2;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 1;
    }
  }

  private static <T> T call(Streams s, Callable<T> task) throws InterruptedException {
    try {
      return s.loop.submit(task).get(10, TimeUnit.SECONDS);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("ManyStreams: the event loop did not answer", e);
    }
  }

  /** Releases the hold on the first line of stdin; the end of stdin alone does not. */
  private static void watch(InputStream in, CountDownLatch release) {
    if (in == null) {
      return;
    }
    Thread t = new Thread(() -> {
      try {
        BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
        if (r.readLine() != null) {
          release.countDown();
        }
      } catch (IOException e) {
        System.err.println("ManyStreams: stdin: " + e.getMessage());
      }
    }, "many-streams-stdin");
    t.setDaemon(true);
    t.start();
  }

  /** Every connection's state; all of it on the one event loop. */
  private static final class Streams {
    final EventLoop loop;
    final CountDownLatch settled = new CountDownLatch(1);
    private final Net net;
    private final HttpTarget target;
    private final int streams;
    private final int connectTimeout;
    private final List<Channel> channels = new ArrayList<>();
    private final Map<Integer, Long> statusErrors = new TreeMap<>();
    private int opened;
    private int firstEvents;
    private int failed;
    private long events;
    private long endedEarly;
    private long connectErrors;
    private long emfile;
    private long notTried;
    private long ioErrors;
    private boolean closing;

    Streams(Net net, HttpTarget target, int streams, int connectTimeout) {
      this.net = net;
      this.loop = net.group.next();
      this.target = target;
      this.streams = streams;
      this.connectTimeout = connectTimeout;
    }

    void open() {
      for (int i = 0; i < streams; i++) {
        if (emfile > 0) {
          // out of descriptors: trying the rest would only fail the same way and starve the streams already open
          notTried = streams - i;
          failed += notTried;
          settle();
          return;
        }
        ChannelFuture f = net.client(connectTimeout).handler(new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel ch) {
            target.addCodec(ch);
            ch.pipeline().addLast(new Stream());
          }
        }).connect(target.host, target.port);
        f.addListener(done -> {
          if (done.isSuccess()) {
            opened++;
            channels.add(f.channel());
            f.channel().writeAndFlush(target.request());
          } else {
            String why = String.valueOf(done.cause());
            if (outOfFiles(done.cause())) {
              if (emfile++ == 0) {
                System.err.println("ManyStreams: out of file descriptors (EMFILE) at connection " + (opened + emfile
                    + connectErrors) + " of " + streams + ": raise ulimit -n for this process (and the server's)");
              }
            } else if (connectErrors++ < 5) {
              System.err.println("ManyStreams: connect " + target.host + ":" + target.port + ": " + why);
            }
            failed();
          }
        });
      }
    }

    private static boolean outOfFiles(Throwable t) {
      for (Throwable c = t; c != null; c = c.getCause()) {
        if (String.valueOf(c.getMessage()).contains("Too many open files")) {
          return true;
        }
      }
      return false;
    }

    private void failed() {
      failed++;
      settle();
    }

    private void settle() {
      if (firstEvents + failed == streams) {
        settled.countDown();
      }
    }

    Map<String, Object> finish() {
      closing = true;
      for (Channel c : channels) {
        c.close();
      }
      Map<String, Object> errors = new LinkedHashMap<>();
      long statusTotal = statusErrors.values().stream().mapToLong(Long::longValue).sum();
      errors.put("total", statusTotal + connectErrors + emfile + notTried + ioErrors);
      Map<String, Long> byStatus = new LinkedHashMap<>();
      statusErrors.forEach((k, v) -> byStatus.put(Integer.toString(k), v));
      errors.put("status", byStatus);
      errors.put("connect", connectErrors);
      errors.put("emfile", emfile);
      errors.put("not_tried", notTried);
      errors.put("io", ioErrors);
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("tool", "ManyStreams");
      m.put("url", "http" + (target.ssl == null ? "" : "s") + "://" + target.host + ":" + target.port + target.pathAndQuery);
      m.put("streams", streams);
      m.put("opened", opened);
      m.put("first_event", firstEvents);
      m.put("events", events);
      m.put("ended_early", endedEarly);
      m.put("errors", errors);
      m.put("transport", Net.transport());
      return m;
    }

    /** One connection's single stream. */
    private final class Stream extends ChannelInboundHandlerAdapter {
      private final SseEvents parser = new SseEvents();
      private boolean ok;
      private long received;
      private boolean done;

      @Override
      public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
          if (msg instanceof HttpResponse) {
            HttpResponse r = (HttpResponse) msg;
            int status = r.decoderResult().isFailure() ? 0 : r.status().code();
            ok = status >= 200 && status <= 299;
            if (!ok) {
              statusErrors.merge(status, 1L, Long::sum);
              end(ctx);
            }
          }
          if (msg instanceof HttpContent && ok) {
            int n = parser.feed(((HttpContent) msg).content());
            events += n;
            if (received == 0 && n > 0) {
              firstEvents++;
              settle();
            }
            received += n;
          }
          if (msg instanceof LastHttpContent && ok && !closing) {
            endedEarly++;
            end(ctx);
          }
        } finally {
          ReferenceCountUtil.release(msg);
        }
      }

      /** This stream will get no (more) events. */
      private void end(ChannelHandlerContext ctx) {
        if (!done) {
          done = true;
          if (received == 0) {
            failed();
          }
        }
        ctx.close();
      }

      @Override
      public void channelInactive(ChannelHandlerContext ctx) {
        if (!done && !closing) {
          done = true;
          if (received == 0) {
            ioErrors++;
            failed();
          }
        }
      }

      @Override
      public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
      }
    }
  }
}

package dev.vertexproxy.proxy.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vertexproxy.proxy.reason.Reason;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Promise;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The relay on {@link EmbeddedChannel}s: the caller side records what it is sent (and can hold writes, to be a slow
 * caller), the upstream side counts read requests and takes scripted response objects. Time is the embedded loop's,
 * moved with {@code advanceTimeBy}: no sleeps.
 */
class UpstreamRelayTest {
  private static final Origin ORIGIN = new Origin(true, "us-central1-aiplatform.googleapis.com", 443);
  private static final Duration TIMEOUT = Duration.ofSeconds(5);

  private final List<String> events = new ArrayList<>();
  private final List<Channel> givenBack = new ArrayList<>();
  private final AtomicInteger connectFailures = new AtomicInteger();
  private final ReadCounter reads = new ReadCounter();
  private final HeldWrites held = new HeldWrites();
  private final EmbeddedChannel upstream = noAutoRead(new EmbeddedChannel(reads));
  private final EmbeddedChannel caller = new EmbeddedChannel(held);

  private static final String RID = "0123456789abcdef01234567";
  private final UpstreamRelay.Events recorder = new UpstreamRelay.Events() {
    @Override
    public void responseStarted(HttpResponse head) {
      events.add("started " + head.status().code());
    }

    @Override
    public void requestBodyWritten() {
      events.add("body written");
    }

    @Override
    public void responseCompleted() {
      events.add("completed");
    }

    @Override
    public void failed(Reason reason, String message) {
      events.add("failed " + reason.code());
    }
  };

  /** As the pool's connections are: reads happen only when the relay asks for them. */
  private static EmbeddedChannel noAutoRead(EmbeddedChannel ch) {
    ch.config().setAutoRead(false);
    return ch;
  }

  @AfterEach
  void noLeaks() {
    held.releaseAll();
    caller.finishAndReleaseAll();
    upstream.finishAndReleaseAll();
  }

  private UpstreamRelay open(HttpRequest request) {
    LeaseSource source = (loop, origin) -> loop.newSucceededFuture(new UpstreamLease(upstream, givenBack::add));
    return UpstreamRelay.open(source, caller.eventLoop(), ORIGIN, request, List.of(), "req-1", caller, TIMEOUT, recorder,
        connectFailures::incrementAndGet);
  }

  private static HttpRequest post(long bodyBytes) {
    return UpstreamRequest.head("POST",
        "/v1/projects/p/locations/us-central1/publishers/google/models/m:generateContent",
        new DefaultHttpHeaders().add("Content-Type", "application/json"), false, bodyBytes, ORIGIN, "ya29.google", RID);
  }

  private static HttpResponse ok(long contentLength) {
    HttpResponse r = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
    r.headers().set("Content-Length", contentLength).set("Content-Type", "application/json");
    return r;
  }

  private static LastHttpContent last(String s) {
    return new DefaultLastHttpContent(Unpooled.copiedBuffer(s, StandardCharsets.UTF_8));
  }

  /** What the caller was sent, as objects, releasing them. */
  private List<Object> callerGot() {
    List<Object> out = new ArrayList<>();
    Object o;
    while ((o = caller.readOutbound()) != null) {
      out.add(o instanceof HttpResponse r ? "head " + r.status().code() + " " + r.headers().get("content-length")
          + " " + r.headers().get("transfer-encoding")
          : o instanceof LastHttpContent c ? "last " + c.content().toString(StandardCharsets.UTF_8)
          : o instanceof HttpContent c ? "content " + c.content().toString(StandardCharsets.UTF_8) : o);
      ReferenceCountUtil.release(o);
    }
    return out;
  }

  private List<Object> upstreamGot() {
    List<Object> out = new ArrayList<>();
    Object o;
    while ((o = upstream.readOutbound()) != null) {
      out.add(o);
    }
    return out;
  }

  @Test
  void theUpstreamRequestIsFramedByTheProxyAndCarriesOnlyTheGoogleCredential() {
    HttpHeaders caller = new DefaultHttpHeaders().add("Authorization", "Bearer caller-jwt").add("Content-Length", "99")
        .add("Transfer-Encoding", "chunked").add("Connection", "keep-alive, X-Hop").add("X-Hop", "1").add("Host", "proxy.example")
        .add("X-Goog-User-Project", "other").add("X-Goog-Api-Client", "gl-java/17").add("Content-Type", "application/json");
    HttpRequest sized = UpstreamRequest.head("POST", "/v1/x:generateContent", caller, false, 2,
        ORIGIN, "ya29.google", RID);
    assertThat(sized.headers().entries()).extracting(e -> e.getKey().toLowerCase() + ": " + e.getValue())
        .containsExactlyInAnyOrder(
            "x-goog-api-client: gl-java/17", "content-type: application/json", "host: us-central1-aiplatform.googleapis.com",
            "authorization: Bearer ya29.google", "connection: keep-alive", "content-length: 2",
            "user-agent: " + UpstreamUserAgent.of(null, RID));
    HttpRequest chunked = UpstreamRequest.head("POST", "/v1/x:generateContent", caller, true, -1,
        ORIGIN, "ya29.google", RID);
    assertThat(chunked.headers().getAll("transfer-encoding")).containsExactly("chunked");
    assertThat(chunked.headers().contains("content-length")).isFalse();
    HttpRequest get = UpstreamRequest.head("GET", "/v1/x", new DefaultHttpHeaders(), false, 0,
        ORIGIN, "ya29.google", RID);
    assertThat(get.headers().contains("content-length")).isFalse();
    assertThat(UpstreamRequest.head("POST", "/v1/x:cancel", new DefaultHttpHeaders(), false, 0, ORIGIN, "t", RID)
        .headers().get("content-length")).as("Google's front end wants a length on an empty POST").isEqualTo("0");
  }

  @Test
  void theHeadAndTheBodyGoUpstreamInOrderAndTrailersNever() {
    UpstreamRelay relay = open(post(4));
    relay.sendBody(new DefaultHttpContent(Unpooled.copiedBuffer("ab", StandardCharsets.UTF_8)));
    LastHttpContent withTrailer = last("cd");
    withTrailer.trailingHeaders().add("Authorization", "Bearer caller-secret");
    relay.sendBody(withTrailer);
    List<Object> sent = upstreamGot();
    assertThat(sent).hasSize(3);
    assertThat(sent.get(0)).isInstanceOf(HttpRequest.class);
    assertThat(((HttpContent) sent.get(1)).content().toString(StandardCharsets.UTF_8)).isEqualTo("ab");
    assertThat(((LastHttpContent) sent.get(2)).trailingHeaders().isEmpty()).isTrue();
    assertThat(events).containsExactly("body written");
    sent.forEach(ReferenceCountUtil::release);
  }

  @Test
  void vertexIsReadOnlyAsFastAsTheCallerTakesTheResponse() {
    int before = reads.count.get(); // the embedded channel's own read at activation
    open(post(0)).sendBody(last(""));
    upstreamGot().forEach(ReferenceCountUtil::release);
    assertThat(reads.count.get() - before).as("one read, for the response head").isEqualTo(1);
    held.holding = true;
    upstream.writeInbound(ok(4));
    assertThat(reads.count.get() - before).as("no read while the caller has not taken the head").isEqualTo(1);
    held.release();
    assertThat(reads.count.get() - before).isEqualTo(2);
    upstream.writeInbound(new DefaultHttpContent(Unpooled.copiedBuffer("ab", StandardCharsets.UTF_8)));
    assertThat(reads.count.get() - before).isEqualTo(2);
    held.release();
    assertThat(reads.count.get() - before).isEqualTo(3);
    held.holding = false;
    upstream.writeInbound(last("cd"));
    assertThat(callerGot()).containsExactly("head 200 4 null", "content ab", "last cd");
    assertThat(events).containsExactly("started 200", "completed");
    assertThat(givenBack).as("framed, keep-alive, whole request sent: reusable").containsExactly(upstream);
  }

  @Test
  void interimResponsesAreSkippedAndNeverTakenForTheAnswer() {
    open(post(0)).sendBody(last(""));
    upstreamGot().forEach(ReferenceCountUtil::release);
    upstream.writeInbound(
        new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE), LastHttpContent.EMPTY_LAST_CONTENT,
        new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(103)), LastHttpContent.EMPTY_LAST_CONTENT,
        ok(2), last("{}"));
    assertThat(callerGot()).containsExactly("head 200 2 null", "last {}");
    assertThat(events).containsExactly("started 200", "completed");
  }

  @Test
  void anUpstreamConnectionHeaderCannotUnframeTheResponse() {
    open(post(0)).sendBody(last(""));
    upstreamGot().forEach(ReferenceCountUtil::release);
    HttpResponse r = ok(2);
    r.headers().set("Connection", "Content-Length");
    upstream.writeInbound(r, last("{}"));
    assertThat(callerGot()).containsExactly("head 200 2 null", "last {}");
    HttpResponse unframed = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
    assertThat(unframed.headers().contains("content-length")).isFalse();
  }

  @Test
  void aResponseThatEndsOnlyWithTheConnectionIsChunkedForTheCallerAndNeverReused() {
    open(post(0)).sendBody(last(""));
    upstreamGot().forEach(ReferenceCountUtil::release);
    upstream.writeInbound(new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK), last("{}"));
    assertThat(callerGot()).containsExactly("head 200 null chunked", "last {}");
    assertThat(givenBack).isEmpty();
    assertThat(upstream.isOpen()).isFalse();
  }

  @Test
  void bytesAfterTheFramedEndOfTheResponseAreDroppedAndTheConnectionIsNotReused() {
    open(post(0)).sendBody(last(""));
    upstreamGot().forEach(ReferenceCountUtil::release);
    held.holding = true;
    upstream.writeInbound(ok(2), last("{}"), ok(8), last("smuggled"));
    held.releaseAll();
    assertThat(callerGot()).containsExactly("head 200 2 null", "last {}");
    assertThat(events).containsExactly("started 200", "completed");
    assertThat(givenBack).isEmpty();
    assertThat(upstream.isOpen()).isFalse();
  }

  @Test
  void aResponseThatEndsBeforeTheWholeRequestWasSentDoesNotLeaveItsConnectionForTheNextCaller() {
    UpstreamRelay relay = open(post(10));
    relay.sendBody(new DefaultHttpContent(Unpooled.copiedBuffer("abcde", StandardCharsets.UTF_8)));
    upstream.writeInbound(ok(2), last("{}"));
    assertThat(events).containsExactly("body written", "started 200", "completed");
    assertThat(givenBack).isEmpty();
    upstreamGot().forEach(ReferenceCountUtil::release);
  }

  @Test
  void vertexClosingMidResponseIsAResetAndBeforeItIsUnreachable() {
    open(post(0)).sendBody(last(""));
    upstreamGot().forEach(ReferenceCountUtil::release);
    upstream.writeInbound(ok(10));
    upstream.close();
    assertThat(events).containsExactly("started 200", "failed upstream-reset");

    EmbeddedChannel second = new EmbeddedChannel();
    List<String> more = new ArrayList<>();
    UpstreamRelay.open((loop, origin) -> loop.newSucceededFuture(UpstreamLease.unpooled(second)), caller.eventLoop(), ORIGIN,
        post(0), List.of(), "req-2", caller, TIMEOUT, new Recorder(more), () -> { }).sendBody(last(""));
    second.close();
    assertThat(more).containsExactly("failed upstream-unreachable");
    callerGot();
  }

  @Test
  void silenceCountsOnlyOnceTheWholeRequestIsWithVertex() {
    UpstreamRelay relay = open(post(4));
    relay.sendBody(new DefaultHttpContent(Unpooled.copiedBuffer("ab", StandardCharsets.UTF_8)));
    upstream.advanceTimeBy(TIMEOUT.toSeconds() * 3, TimeUnit.SECONDS);
    upstream.runScheduledPendingTasks();
    assertThat(events).as("a slow upload is not Vertex's silence").containsExactly("body written");
    relay.sendBody(last("cd"));
    upstream.advanceTimeBy(TIMEOUT.toSeconds() - 1, TimeUnit.SECONDS);
    upstream.runScheduledPendingTasks();
    assertThat(events).containsExactly("body written");
    upstream.advanceTimeBy(2, TimeUnit.SECONDS);
    upstream.runScheduledPendingTasks();
    assertThat(events).containsExactly("body written", "failed upstream-timeout");
    assertThat(upstream.isOpen()).isFalse();
    upstreamGot().forEach(ReferenceCountUtil::release);
  }

  @Test
  void aConnectionThatCannotBeHadIsATimeoutOrUnreachableAndIsCounted() {
    List<String> timedOut = new ArrayList<>();
    UpstreamRelay.open((loop, origin) -> loop.newFailedFuture(new ConnectTimeoutException("slow")), caller.eventLoop(), ORIGIN,
        post(0), List.of(), "req-1", caller, TIMEOUT, new Recorder(timedOut), connectFailures::incrementAndGet);
    List<String> refused = new ArrayList<>();
    UpstreamRelay.open((loop, origin) -> loop.newFailedFuture(new IOException("refused")), caller.eventLoop(), ORIGIN,
        post(0), List.of(), "req-2", caller, TIMEOUT, new Recorder(refused), connectFailures::incrementAndGet);
    assertThat(timedOut).containsExactly("failed upstream-timeout");
    assertThat(refused).containsExactly("failed upstream-unreachable");
    assertThat(connectFailures).hasValue(2);
  }

  @Test
  void closedBeforeItsConnectionArrivedTheRelayGivesTheUnusedConnectionBack() {
    Promise<UpstreamLease> pending = caller.eventLoop().newPromise();
    UpstreamRelay relay = UpstreamRelay.open((loop, origin) -> pending, caller.eventLoop(), ORIGIN, post(2), List.of(), "req-1",
        caller, TIMEOUT, recorder, connectFailures::incrementAndGet);
    relay.sendBody(last("{}"));
    relay.close();
    pending.setSuccess(new UpstreamLease(upstream, givenBack::add));
    assertThat(givenBack).containsExactly(upstream);
    assertThat(upstreamGot()).isEmpty();
    assertThat(events).isEmpty();
  }

  /** Counts the read requests the relay makes of the upstream channel. */
  private static final class ReadCounter extends ChannelOutboundHandlerAdapter {
    final AtomicInteger count = new AtomicInteger();

    @Override
    public void read(ChannelHandlerContext ctx) {
      count.incrementAndGet();
      ctx.read();
    }
  }

  /** A caller whose socket takes writes only when the test says so. */
  private static final class HeldWrites extends ChannelOutboundHandlerAdapter {
    boolean holding;
    private ChannelHandlerContext ctx;
    private final ArrayDeque<Object[]> queue = new ArrayDeque<>();

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
      this.ctx = ctx;
      if (holding) {
        queue.add(new Object[] {msg, promise});
      } else {
        ctx.write(msg, promise);
      }
    }

    void release() {
      Object[] w = queue.poll();
      if (w != null) {
        ctx.writeAndFlush(w[0], (ChannelPromise) w[1]);
      }
    }

    void releaseAll() {
      while (!queue.isEmpty()) {
        release();
      }
    }
  }

  private record Recorder(List<String> into) implements UpstreamRelay.Events {
    @Override
    public void responseStarted(HttpResponse head) {
      into.add("started " + head.status().code());
    }

    @Override
    public void requestBodyWritten() {
      into.add("body written");
    }

    @Override
    public void responseCompleted() {
      into.add("completed");
    }

    @Override
    public void failed(Reason reason, String message) {
      into.add("failed " + reason.code());
    }
  }
}

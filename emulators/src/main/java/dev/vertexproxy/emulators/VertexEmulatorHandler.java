package dev.vertexproxy.emulators;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The emulator's one Netty handler, after the HTTP codec and aggregator: records the request, checks its bearer
 * against the {@link IssuedTokens}, asks {@link VertexEmulatorApi} for the answer and writes it, pacing streamed
 * answers chunk by chunk on the channel's event loop (a scheduled task per chunk, so nothing sleeps on the loop).
 *
 * <p>Sharable: it holds no per-connection state.
 */
@ChannelHandler.Sharable
final class VertexEmulatorHandler extends SimpleChannelInboundHandler<FullHttpRequest> {

  static final String JSON_TYPE = "application/json; charset=UTF-8";
  static final String SSE_TYPE = "text/event-stream";
  /** Google's own wording, so SDKs and humans see what real Vertex would say. */
  static final String UNAUTHENTICATED_MESSAGE = "Request had invalid authentication credentials. Expected OAuth 2 "
      + "access token, login cookie or other valid authentication credential. See "
      + "https://developers.google.com/identity/sign-in/web/devconsole-project.";
  /** Hop-by-hop header a relaying proxy must strip (it is named in {@code Connection}). */
  static final String HOP_HEADER = "X-Emulator-Hop";
  static final String PRINCIPAL_HEADER = "X-Emulator-Principal";

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final byte[] SSE_PREFIX = "data: ".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] SSE_SUFFIX = "\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

  private final IssuedTokens tokens;
  private final Clock clock;
  private final VertexEmulatorApi api;
  private final Supplier<VertexEmulator.Pacing> pacing;
  private final Consumer<VertexEmulator.SeenRequest> recorder;

  VertexEmulatorHandler(IssuedTokens tokens, Clock clock, VertexEmulatorApi api,
      Supplier<VertexEmulator.Pacing> pacing, Consumer<VertexEmulator.SeenRequest> recorder) {
    super(true);
    this.tokens = tokens;
    this.clock = clock;
    this.api = api;
    this.pacing = pacing;
    this.recorder = recorder;
  }

  @Override
  protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
    boolean keepAlive = HttpUtil.isKeepAlive(request);
    String principal = request.decoderResult().isSuccess() ? principalOf(request.headers()) : null;
    recorder.accept(new VertexEmulator.SeenRequest(request.method().name(), request.uri(),
        headersOf(request.headers()), principal, request.content().readableBytes()));

    if (!request.decoderResult().isSuccess()) {
      writeJson(ctx, VertexEmulatorReply.error(400, "INVALID_ARGUMENT", "Malformed HTTP request."), null, false);
      return;
    }
    if (principal == null) {
      writeJson(ctx, VertexEmulatorReply.error(401, "UNAUTHENTICATED", UNAUTHENTICATED_MESSAGE), null, keepAlive);
      return;
    }
    QueryStringDecoder target = new QueryStringDecoder(request.uri());
    int queryAt = request.uri().indexOf('?');
    String rawPath = queryAt < 0 ? request.uri() : request.uri().substring(0, queryAt);
    boolean sse = target.parameters().getOrDefault("alt", List.of()).contains("sse");
    VertexEmulator.Pacing currentPacing = pacing.get();
    VertexEmulatorReply reply = api.handle(request.method().name(), rawPath, sse,
        request.headers().get(HttpHeaderNames.CONTENT_TYPE), ByteBufUtil.getBytes(request.content()),
        currentPacing.events());

    if (reply instanceof VertexEmulatorReply.Json json) {
      writeJson(ctx, json, principal, keepAlive);
    } else if (reply instanceof VertexEmulatorReply.Raw raw) {
      write(ctx, HttpResponseStatus.OK, raw.contentType(), Unpooled.wrappedBuffer(raw.body()), principal, keepAlive);
    } else if (reply instanceof VertexEmulatorReply.Stream stream) {
      startStream(ctx, stream, currentPacing.interval(), principal, keepAlive);
    }
  }

  /** The principal behind a known, unexpired bearer; {@code null} for anything else (absent, unknown, expired). */
  private String principalOf(HttpHeaders headers) {
    String authorization = headers.get(HttpHeaderNames.AUTHORIZATION);
    if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return null;
    }
    String bearer = authorization.substring(7).trim();
    if (bearer.isEmpty()) {
      return null;
    }
    Optional<IssuedTokens.Issued> issued = tokens.lookup(bearer);
    if (issued.isEmpty() || !clock.instant().isBefore(issued.get().expiresAt())) {
      return null;
    }
    return issued.get().principal();
  }

  private static Map<String, List<String>> headersOf(HttpHeaders headers) {
    Map<String, List<String>> copy = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    for (Map.Entry<String, String> header : headers) {
      copy.computeIfAbsent(header.getKey(), name -> new ArrayList<>()).add(header.getValue());
    }
    copy.replaceAll((name, values) -> List.copyOf(values));
    return Collections.unmodifiableMap(copy);
  }

  // ---- Writing --------------------------------------------------------------------------------------------------

  private void writeJson(ChannelHandlerContext ctx, VertexEmulatorReply.Json json, String principal,
      boolean keepAlive) {
    ByteBuf body = Unpooled.wrappedBuffer(serialize(json.body()));
    write(ctx, HttpResponseStatus.valueOf(json.status()), JSON_TYPE, body, principal, keepAlive);
  }

  private void write(ChannelHandlerContext ctx, HttpResponseStatus status, String contentType, ByteBuf body,
      String principal, boolean keepAlive) {
    FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
        status, body);
    decorate(response, contentType, principal, keepAlive);
    HttpUtil.setContentLength(response, body.readableBytes());
    if (status.code() == 401) {
      response.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer realm=\"https://accounts.google.com/\"");
    }
    var written = ctx.writeAndFlush(response);
    if (!keepAlive) {
      written.addListener(ChannelFutureListener.CLOSE);
    }
  }

  private static void decorate(HttpResponse response, String contentType, String principal, boolean keepAlive) {
    HttpHeaders headers = response.headers();
    headers.set(HttpHeaderNames.CONTENT_TYPE, contentType);
    headers.set(HttpHeaderNames.CONNECTION, (keepAlive ? "keep-alive" : "close") + ", " + HOP_HEADER);
    headers.set(HOP_HEADER, "1");
    headers.set("Vary", "Origin, X-Origin, Referer");
    headers.set(HttpHeaderNames.SERVER, "scaffolding on HTTPServer2");
    if (principal != null) {
      headers.set(PRINCIPAL_HEADER, principal);
    }
  }

  /**
   * Sends the head at once, then one chunk now and one per interval after it, each flushed as it is produced. A
   * client that goes away stops the stream: the next scheduled chunk sees the inactive channel and gives up.
   */
  private void startStream(ChannelHandlerContext ctx, VertexEmulatorReply.Stream stream, Duration interval,
      String principal, boolean keepAlive) {
    HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1,
        HttpResponseStatus.OK);
    decorate(head, stream.sse() ? SSE_TYPE : JSON_TYPE, principal, keepAlive);
    HttpUtil.setTransferEncodingChunked(head, true);
    ctx.writeAndFlush(head);
    sendChunk(ctx, stream, 0, interval, keepAlive);
  }

  private void sendChunk(ChannelHandlerContext ctx, VertexEmulatorReply.Stream stream, int index, Duration interval,
      boolean keepAlive) {
    if (!ctx.channel().isActive()) {
      return;
    }
    boolean last = index == stream.chunks().size() - 1;
    ctx.writeAndFlush(new DefaultHttpContent(frame(stream, index, last)));
    if (last) {
      var done = ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
      if (!keepAlive) {
        done.addListener(ChannelFutureListener.CLOSE);
      }
      return;
    }
    ctx.executor().schedule(() -> sendChunk(ctx, stream, index + 1, interval, keepAlive),
        interval.toNanos(), TimeUnit.NANOSECONDS);
  }

  /**
   * SSE: {@code data: {chunk}\r\n\r\n}. JSON array (Vertex's default stream framing): {@code [{chunk}}, then
   * {@code ,\r\n{chunk}} per further chunk, and {@code ]} after the last.
   */
  private static ByteBuf frame(VertexEmulatorReply.Stream stream, int index, boolean last) {
    byte[] chunk = serialize(stream.chunks().get(index));
    if (stream.sse()) {
      return Unpooled.wrappedBuffer(SSE_PREFIX, chunk, SSE_SUFFIX);
    }
    byte[] before = (index == 0 ? "[" : ",\r\n").getBytes(StandardCharsets.US_ASCII);
    byte[] after = (last ? "]" : "").getBytes(StandardCharsets.US_ASCII);
    return Unpooled.wrappedBuffer(before, chunk, after);
  }

  private static byte[] serialize(JsonNode node) {
    try {
      return JSON.writeValueAsBytes(node);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a JSON tree always serializes", e);
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    // A reset connection or a codec failure: nothing useful to answer, and nothing secret to log.
    ctx.close();
  }
}

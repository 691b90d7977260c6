package dev.vertexproxy.bench.compare;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpResponseDecoder;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import javax.net.ssl.SSLException;

/**
 * What a client tool sends: {@code --url}, {@code --header 'K: V'} (repeatable), {@code --body-file} and
 * {@code --method} (POST when there is a body, GET otherwise), encoded once into the exact request bytes and written
 * as they are for every request, so the generator spends nothing per request on encoding. {@code Host} is added from
 * the URL and {@code Content-Length} from the body unless a header gives them. An {@code https} URL is spoken over
 * TLS trusting any certificate: the tools only ever talk to the loopback servers of the benchmark.
 */
final class HttpTarget {
  final String host;
  final int port;
  final String pathAndQuery;
  final SslContext ssl;
  private final ByteBuf request;

  private HttpTarget(String host, int port, String pathAndQuery, SslContext ssl, byte[] request) {
    this.host = host;
    this.port = port;
    this.pathAndQuery = pathAndQuery;
    this.ssl = ssl;
    // a wrapped array: nothing to release and nothing for the leak detector to track, however many runs a JVM makes
    this.request = Unpooled.unreleasableBuffer(Unpooled.wrappedBuffer(request).asReadOnly());
  }

  /** From the tool's {@code --url}, {@code --header}, {@code --body-file} and {@code --method}. */
  static HttpTarget from(Cli cli) {
    byte[] body = new byte[0];
    String bodyFile = cli.string("body-file", null);
    if (bodyFile != null) {
      try {
        body = Files.readAllBytes(Path.of(bodyFile));
      } catch (IOException e) {
        throw new UncheckedIOException("--body-file: " + bodyFile + " cannot be read", e);
      }
    }
    return of(cli.required("url"), cli.all("header"), body, cli.string("method", bodyFile == null ? "GET" : "POST"));
  }

  static HttpTarget of(String url, List<String> headers, byte[] body, String method) {
    URI uri;
    try {
      uri = new URI(url);
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("--url: " + url + " (expected: http(s)://host:port/path)", e);
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("http") && !scheme.equals("https") || uri.getHost() == null) {
      throw new IllegalArgumentException("--url: " + url + " (expected: http(s)://host:port/path)");
    }
    if (uri.getRawAuthority().endsWith(":")) {
      throw new IllegalArgumentException("--url: " + url + " (expected: a port after the colon)");
    }
    boolean tls = scheme.equals("https");
    int port = uri.getPort() > 0 ? uri.getPort() : tls ? 443 : 80;
    String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
    if (uri.getRawQuery() != null) {
      path += "?" + uri.getRawQuery();
    }
    StringBuilder head = new StringBuilder();
    head.append(method).append(' ').append(path).append(" HTTP/1.1\r\n");
    boolean hasHost = false;
    boolean hasLength = false;
    for (String h : headers) {
      int colon = h.indexOf(':');
      if (colon <= 0) {
        throw new IllegalArgumentException("--header: " + h + " (expected: 'Name: value')");
      }
      String name = h.substring(0, colon).trim();
      hasHost |= name.equalsIgnoreCase("host");
      hasLength |= name.equalsIgnoreCase("content-length") || name.equalsIgnoreCase("transfer-encoding");
      head.append(name).append(": ").append(h.substring(colon + 1).trim()).append("\r\n");
    }
    if (!hasHost) {
      head.append("Host: ").append(uri.getHost()).append(':').append(port).append("\r\n");
    }
    if (!hasLength && (body.length > 0 || !method.equals("GET"))) {
      head.append("Content-Length: ").append(body.length).append("\r\n");
    }
    head.append("\r\n");
    byte[] h = head.toString().getBytes(StandardCharsets.ISO_8859_1);
    byte[] all = new byte[h.length + body.length];
    System.arraycopy(h, 0, all, 0, h.length);
    System.arraycopy(body, 0, all, h.length, body.length);
    SslContext ssl = null;
    if (tls) {
      try {
        ssl = SslContextBuilder.forClient().trustManager(InsecureTrustManagerFactory.INSTANCE).build();
      } catch (SSLException e) {
        throw new IllegalStateException("TLS client context", e);
      }
    }
    return new HttpTarget(uri.getHost(), port, path, ssl, all);
  }

  /** The encoded request, ready to write (the shared bytes are never released). */
  ByteBuf request() {
    return request.duplicate();
  }

  /** TLS when the URL asks for it, then the response decoder. */
  void addCodec(Channel ch) {
    ChannelPipeline p = ch.pipeline();
    if (ssl != null) {
      p.addLast(ssl.newHandler(ch.alloc(), host, port));
    }
    p.addLast(new HttpResponseDecoder());
  }
}

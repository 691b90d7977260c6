package dev.vertexproxy.bench.compare;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** A plain socket speaking HTTP/1.1 byte by byte, so a test sees the exact framing a server wrote. */
final class RawHttp implements AutoCloseable {
  private final Socket socket;
  private final InputStream in;
  private final OutputStream out;

  RawHttp(int port) throws IOException {
    socket = new Socket("127.0.0.1", port);
    socket.setSoTimeout(10_000);
    socket.setTcpNoDelay(true);
    in = socket.getInputStream();
    out = socket.getOutputStream();
  }

  /** One parsed response: status line, headers (lower-case names), the body, and the body's chunks if chunked. */
  static final class Response {
    String statusLine;
    final Map<String, String> headers = new LinkedHashMap<>();
    byte[] body;
    final List<String> chunks = new ArrayList<>();

    String body() {
      return new String(body, StandardCharsets.UTF_8);
    }
  }

  void send(String request) throws IOException {
    out.write(request.getBytes(StandardCharsets.UTF_8));
    out.flush();
  }

  Response exchange(String request) throws IOException {
    send(request);
    return read();
  }

  Response read() throws IOException {
    Response r = new Response();
    r.statusLine = line();
    for (String h = line(); !h.isEmpty(); h = line()) {
      int colon = h.indexOf(':');
      r.headers.put(h.substring(0, colon).trim().toLowerCase(Locale.ROOT), h.substring(colon + 1).trim());
    }
    if ("chunked".equals(r.headers.get("transfer-encoding"))) {
      ByteArrayOutputStream body = new ByteArrayOutputStream();
      while (true) {
        int size = Integer.parseInt(line().trim(), 16);
        byte[] chunk = in.readNBytes(size);
        if (chunk.length < size) {
          throw new EOFException("chunk cut short");
        }
        String crlf = line();
        if (!crlf.isEmpty()) {
          throw new IOException("chunk not followed by CRLF: " + crlf);
        }
        if (size == 0) {
          break;
        }
        r.chunks.add(new String(chunk, StandardCharsets.UTF_8));
        body.write(chunk);
      }
      r.body = body.toByteArray();
    } else {
      int length = Integer.parseInt(r.headers.getOrDefault("content-length", "0"));
      r.body = in.readNBytes(length);
    }
    return r;
  }

  /** True when the server closed the connection (the next read sees the end of the stream). */
  boolean closedByServer() throws IOException {
    return in.read() < 0;
  }

  private String line() throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    int prev = -1;
    while (true) {
      int c = in.read();
      if (c < 0) {
        throw new EOFException("connection closed after " + b);
      }
      if (prev == '\r' && c == '\n') {
        byte[] bytes = b.toByteArray();
        return new String(bytes, 0, bytes.length - 1, StandardCharsets.ISO_8859_1);
      }
      b.write(c);
      prev = c;
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}

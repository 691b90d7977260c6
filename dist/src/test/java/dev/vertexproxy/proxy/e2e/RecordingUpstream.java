package dev.vertexproxy.proxy.e2e;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * A plain-HTTP stand-in for Vertex on loopback that records, byte for byte, every request it reads on every connection,
 * framed strictly by RFC 9112: exactly one {@code Content-Length} of digits, or {@code Transfer-Encoding: chunked} alone.
 * Anything else it records as {@link Received#framingError} and closes. Because it keeps parsing each connection as a
 * sequence of requests, a request smuggled inside another request's body shows up as a request of its own.
 *
 * <p>Each request is answered with what the {@link #responder} returns for it: raw bytes, where {@code <pause>} stands
 * for 300 ms of silence between two writes.
 */
final class RecordingUpstream implements AutoCloseable {
  /**
   * One request as it reached the upstream.
   *
   * @param connection   which upstream connection (1, 2, …) it came on
   * @param head         the request line and headers, exactly as received, without the final empty line
   * @param rawBody      the body bytes exactly as received, chunk framing included
   * @param body         the decoded body
   * @param framingError why the framing was not strict HTTP/1.1, or {@code null}
   */
  record Received(int connection, String head, String rawBody, String body, String framingError) {
    String requestLine() {
      return head.substring(0, head.indexOf("\r\n") < 0 ? head.length() : head.indexOf("\r\n"));
    }

    /** Header values by lower-case name, in order. */
    Map<String, List<String>> headers() {
      Map<String, List<String>> out = new LinkedHashMap<>();
      String[] lines = head.split("\r\n", -1);
      for (int i = 1; i < lines.length; i++) {
        int colon = lines[i].indexOf(':');
        String name = colon < 0 ? lines[i] : lines[i].substring(0, colon);
        String value = colon < 0 ? "" : lines[i].substring(colon + 1).trim();
        out.computeIfAbsent(name.toLowerCase(Locale.ROOT), k -> new ArrayList<>()).add(value);
      }
      return out;
    }

    String header(String name) {
      List<String> v = headers().get(name.toLowerCase(Locale.ROOT));
      return v == null ? null : String.join(",", v);
    }

    /** The head with the request id every upstream User-Agent carries shown as {@code <id>}: alike for alike calls. */
    String headWithoutRequestId() {
      return withoutRequestId(head);
    }
  }

  /** {@code s} with each {@code (request-id <24 hex>)} of an upstream User-Agent shown as {@code (request-id <id>)}. */
  static String withoutRequestId(String s) {
    return s.replaceAll("\\(request-id [0-9a-f]{24}\\)", "(request-id <id>)");
  }

  final ServerSocket server;
  final List<Received> requests = new CopyOnWriteArrayList<>();
  final AtomicInteger connections = new AtomicInteger();
  private final AtomicInteger count = new AtomicInteger();
  volatile Function<Integer, String> responder = RecordingUpstream::ok;
  private final List<Socket> open = new CopyOnWriteArrayList<>();

  RecordingUpstream() throws IOException {
    server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread acceptor = new Thread(() -> {
      try {
        while (true) {
          Socket s = server.accept();
          open.add(s);
          int id = connections.incrementAndGet();
          Thread t = new Thread(() -> serve(s, id), "recording-upstream-" + id);
          t.setDaemon(true);
          t.start();
        }
      } catch (IOException closed) {
        // server closed
      }
    }, "recording-upstream-accept");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  int port() {
    return server.getLocalPort();
  }

  /**
   * Forgets what was received and answers with {@link #ok} again, numbering requests from 1. Open connections stay
   * open (the proxy may hold them pooled), and {@link #connections} keeps counting.
   */
  void reset() {
    requests.clear();
    count.set(0);
    responder = RecordingUpstream::ok;
  }

  /** {@code 200} with a JSON body naming the request's number, framed by Content-Length. */
  static String ok(int n) {
    String body = "{\"answer\":\"for-request-" + n + "\"}";
    return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + body.length() + "\r\n\r\n" + body;
  }

  private void serve(Socket s, int connection) {
    try (s) {
      InputStream in = new BufferedInputStream(s.getInputStream());
      OutputStream out = s.getOutputStream();
      while (true) {
        String head = readHead(in);
        if (head == null) {
          return;
        }
        Received r = readBody(connection, head, in);
        requests.add(r);
        if (r.framingError() != null) {
          return;
        }
        String answer = responder.apply(count.incrementAndGet());
        String[] parts = answer.split("<pause>", -1);
        for (int i = 0; i < parts.length; i++) {
          if (i > 0) {
            Thread.sleep(300);
          }
          out.write(parts[i].getBytes(StandardCharsets.ISO_8859_1));
          out.flush();
        }
      }
    } catch (IOException | InterruptedException done) {
      // connection over
    }
  }

  /** The head up to (not including) CRLFCRLF, or {@code null} at a clean end of stream. */
  private static String readHead(InputStream in) throws IOException {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    int b;
    while ((b = in.read()) >= 0) {
      buf.write(b);
      byte[] a = buf.toByteArray();
      int n = a.length;
      if (n >= 4 && a[n - 4] == '\r' && a[n - 3] == '\n' && a[n - 2] == '\r' && a[n - 1] == '\n') {
        return new String(a, 0, n - 4, StandardCharsets.ISO_8859_1);
      }
      if (n > 64 * 1024) {
        throw new IOException("head too long");
      }
    }
    return buf.size() == 0 ? null : buf.toString(StandardCharsets.ISO_8859_1);
  }

  private static Received readBody(int connection, String head, InputStream in) throws IOException {
    Received probe = new Received(connection, head, "", "", null);
    Map<String, List<String>> h = probe.headers();
    List<String> te = h.get("transfer-encoding");
    List<String> cl = h.get("content-length");
    for (String line : head.split("\r\n", -1)) {
      if (line.startsWith(" ") || line.startsWith("\t")) {
        return new Received(connection, head, "", "", "obs-fold line in the head");
      }
    }
    String unbroken = head.replace("\r\n", "");
    if (unbroken.indexOf('\n') >= 0 || unbroken.indexOf('\r') >= 0) {
      return new Received(connection, head, "", "", "bare CR or LF in the head");
    }
    if (te != null && cl != null) {
      return new Received(connection, head, "", "", "both Transfer-Encoding and Content-Length");
    }
    if (te != null) {
      if (te.size() != 1 || !te.get(0).equals("chunked")) {
        return new Received(connection, head, "", "", "Transfer-Encoding other than a single 'chunked': " + te);
      }
      return readChunked(connection, head, in);
    }
    if (cl != null) {
      if (cl.size() != 1 || !cl.get(0).matches("[0-9]{1,18}")) {
        return new Received(connection, head, "", "", "Content-Length not one decimal: " + cl);
      }
      int n = Integer.parseInt(cl.get(0));
      byte[] body = in.readNBytes(n);
      String s = new String(body, StandardCharsets.ISO_8859_1);
      return new Received(connection, head, s, s, body.length == n ? null : "body ended early");
    }
    return new Received(connection, head, "", "", null);
  }

  private static Received readChunked(int connection, String head, InputStream in) throws IOException {
    StringBuilder raw = new StringBuilder();
    StringBuilder body = new StringBuilder();
    while (true) {
      String sizeLine = readLine(in);
      if (sizeLine == null) {
        return new Received(connection, head, raw.toString(), body.toString(), "chunked body ended early");
      }
      raw.append(sizeLine).append("\r\n");
      if (!sizeLine.matches("[0-9a-fA-F]{1,8}")) {
        return new Received(connection, head, raw.toString(), body.toString(), "chunk size line '" + sizeLine + "'");
      }
      int size = Integer.parseInt(sizeLine, 16);
      if (size == 0) {
        String trailer = readLine(in);
        if (trailer != null && !trailer.isEmpty()) {
          raw.append(trailer).append("\r\n");
          return new Received(connection, head, raw.toString(), body.toString(), "trailer field '" + trailer + "'");
        }
        raw.append("\r\n");
        return new Received(connection, head, raw.toString(), body.toString(), trailer == null ? "no final CRLF" : null);
      }
      String data = new String(in.readNBytes(size), StandardCharsets.ISO_8859_1);
      raw.append(data);
      body.append(data);
      String crlf = readLine(in);
      if (!"".equals(crlf)) {
        return new Received(connection, head, raw.toString(), body.toString(), "chunk data not followed by CRLF");
      }
      raw.append("\r\n");
    }
  }

  /** A CRLF-terminated line without its CRLF; {@code null} at end of stream. A bare LF is kept in the line. */
  private static String readLine(InputStream in) throws IOException {
    StringBuilder sb = new StringBuilder();
    int b;
    while ((b = in.read()) >= 0) {
      if (b == '\n' && sb.length() > 0 && sb.charAt(sb.length() - 1) == '\r') {
        sb.setLength(sb.length() - 1);
        return sb.toString();
      }
      sb.append((char) b);
    }
    return null;
  }

  @Override
  public void close() throws IOException {
    server.close();
    for (Socket s : open) {
      s.close();
    }
  }
}

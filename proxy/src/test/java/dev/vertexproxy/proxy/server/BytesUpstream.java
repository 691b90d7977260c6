package dev.vertexproxy.proxy.server;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntFunction;

/**
 * A plain-HTTP stand-in for Vertex on loopback that counts every byte it reads and records each request (head as
 * received, decoded body). Each request is answered with {@link #responder}'s raw bytes for its number; a
 * {@code <wait>} in them stops the answer there until the test {@link #proceed proceeds}; each {@code <step>} stops it
 * until the test takes one more {@link #step} (a paced stream, one piece per step).
 */
final class BytesUpstream implements AutoCloseable {
  /** One request as it arrived: its head (without the empty line) and its body, chunk framing removed. */
  record Received(String head, byte[] body) {
    String header(String name) {
      for (String line : head.split("\r\n")) {
        int colon = line.indexOf(':');
        if (colon > 0 && line.substring(0, colon).trim().toLowerCase(Locale.ROOT).equals(name)) {
          return line.substring(colon + 1).trim();
        }
      }
      return null;
    }
  }

  final List<Received> requests = new CopyOnWriteArrayList<>();
  final AtomicLong bytesRead = new AtomicLong();
  final AtomicInteger connections = new AtomicInteger();
  volatile IntFunction<String> responder = BytesUpstream::ok;
  private final ServerSocket server;
  private final AtomicInteger count = new AtomicInteger();
  private final List<Socket> open = new CopyOnWriteArrayList<>();
  private final CountDownLatch proceed = new CountDownLatch(1);
  private final CountDownLatch waiting = new CountDownLatch(1);
  private final Semaphore steps = new Semaphore(0);

  BytesUpstream() throws IOException {
    server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread acceptor = new Thread(() -> {
      try {
        while (true) {
          Socket s = server.accept();
          s.setTcpNoDelay(true); // as Vertex: each write of a paced answer is its own segment
          open.add(s);
          connections.incrementAndGet();
          Thread t = new Thread(() -> serve(s), "bytes-upstream");
          t.setDaemon(true);
          t.start();
        }
      } catch (IOException closed) {
        // server closed
      }
    }, "bytes-upstream-accept");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  /** {@code 200} with a JSON body naming the request's number, framed by Content-Length. */
  static String ok(int n) {
    String body = "{\"answer\":\"for-request-" + n + "\"}";
    return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + body.length() + "\r\n\r\n" + body;
  }

  int port() {
    return server.getLocalPort();
  }

  /** Waits (bounded) until an answer stopped at its {@code <wait>}. */
  boolean awaitWaiting() throws InterruptedException {
    return waiting.await(10, TimeUnit.SECONDS);
  }

  /** Lets the answer being sent go on past its next {@code <step>}. */
  void step() {
    steps.release();
  }

  /** Lets answers go on past their {@code <wait>}. */
  void proceed() {
    proceed.countDown();
  }

  private void serve(Socket s) {
    try (s) {
      InputStream in = new BufferedInputStream(new CountingInput(s.getInputStream()));
      OutputStream out = s.getOutputStream();
      String head;
      while ((head = readHead(in)) != null) {
        Received r = new Received(head, readBody(head, in));
        requests.add(r);
        String[] parts = responder.apply(count.incrementAndGet()).split("<wait>", -1);
        for (int i = 0; i < parts.length; i++) {
          if (i > 0) {
            waiting.countDown();
            if (!proceed.await(10, TimeUnit.SECONDS)) {
              return;
            }
          }
          String[] paced = parts[i].split("<step>", -1);
          for (int j = 0; j < paced.length; j++) {
            if (j > 0 && !steps.tryAcquire(10, TimeUnit.SECONDS)) {
              return;
            }
            out.write(paced[j].getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
          }
        }
      }
    } catch (IOException | InterruptedException done) {
      // connection over
    }
  }

  private static String readHead(InputStream in) throws IOException {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    int b;
    while ((b = in.read()) >= 0) {
      buf.write(b);
      String s = buf.toString(StandardCharsets.ISO_8859_1);
      if (s.endsWith("\r\n\r\n")) {
        return s.substring(0, s.length() - 4);
      }
    }
    return null;
  }

  private static byte[] readBody(String head, InputStream in) throws IOException {
    Received probe = new Received(head, new byte[0]);
    if ("chunked".equals(probe.header("transfer-encoding"))) {
      ByteArrayOutputStream body = new ByteArrayOutputStream();
      int size;
      while ((size = Integer.parseInt(line(in), 16)) > 0) {
        body.writeBytes(in.readNBytes(size));
        line(in);
      }
      line(in);
      return body.toByteArray();
    }
    String length = probe.header("content-length");
    return length == null ? new byte[0] : in.readNBytes(Integer.parseInt(length));
  }

  private static String line(InputStream in) throws IOException {
    StringBuilder sb = new StringBuilder();
    int b;
    while ((b = in.read()) >= 0 && b != '\n') {
      if (b != '\r') {
        sb.append((char) b);
      }
    }
    return sb.toString();
  }

  /** Counts every byte read from the socket, before any parsing. */
  private final class CountingInput extends InputStream {
    private final InputStream in;

    CountingInput(InputStream in) {
      this.in = in;
    }

    @Override
    public int read() throws IOException {
      int b = in.read();
      if (b >= 0) {
        bytesRead.incrementAndGet();
      }
      return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      int n = in.read(b, off, len);
      if (n > 0) {
        bytesRead.addAndGet(n);
      }
      return n;
    }
  }

  @Override
  public void close() throws IOException {
    proceed.countDown();
    server.close();
    for (Socket s : open) {
      s.close();
    }
  }
}

package dev.vertexproxy.proxy.server;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/** A caller on a raw socket: exact bytes out, exact bytes in, with bounded waits. */
final class RawSocket implements AutoCloseable {
  private final Socket socket;
  private final InputStream in;

  RawSocket(int port) throws IOException {
    socket = new Socket(InetAddress.getLoopbackAddress(), port);
    socket.setTcpNoDelay(true); // each send its own segment: tests that split a request mean it
    socket.setSoTimeout(10_000);
    in = socket.getInputStream();
  }

  RawSocket sendBytes(byte[] raw) throws IOException {
    socket.getOutputStream().write(raw);
    socket.getOutputStream().flush();
    return this;
  }

  RawSocket send(String raw) throws IOException {
    socket.getOutputStream().write(raw.getBytes(StandardCharsets.ISO_8859_1));
    socket.getOutputStream().flush();
    return this;
  }

  /** A response head up to and including its empty line. */
  String head() throws IOException {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    int b;
    while ((b = in.read()) >= 0) {
      buf.write(b);
      if (buf.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
        break;
      }
    }
    return buf.toString(StandardCharsets.ISO_8859_1);
  }

  /** Exactly {@code n} bytes (fewer only if the connection ended). */
  String bytes(int n) throws IOException {
    return new String(in.readNBytes(n), StandardCharsets.ISO_8859_1);
  }

  /** True when nothing arrives for {@code d} and the connection stays open. */
  boolean quietFor(Duration d) throws IOException {
    socket.setSoTimeout((int) d.toMillis());
    try {
      return in.read() == -2; // any byte or the end means it was not quiet
    } catch (SocketTimeoutException quiet) {
      return true;
    } finally {
      socket.setSoTimeout(10_000);
    }
  }

  /** Everything until the proxy closes the connection (bounded by the socket timeout). */
  String untilClosed() throws IOException {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    try {
      in.transferTo(buf);
    } catch (SocketException reset) {
      // closed by the peer
    }
    return buf.toString(StandardCharsets.ISO_8859_1);
  }

  /** A whole Content-Length response: head and body. */
  String response() throws IOException {
    String head = head();
    int at = head.toLowerCase().indexOf("content-length: ");
    int n = Integer.parseInt(head.substring(at + 16, head.indexOf("\r\n", at)).trim());
    return head + bytes(n);
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}

package dev.vertexproxy.proxy.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A caller on a raw socket: writes exactly the bytes a test gives it and parses what comes back as a sequence of HTTP/1.1
 * responses, noting whether each was framed (Content-Length or chunked) or could only end with the connection.
 */
final class RawCaller implements AutoCloseable {
  /**
   * One response as the caller read it.
   *
   * @param framed false when the response had neither Content-Length nor chunked framing and so ran to the close
   */
  record Response(int status, Map<String, List<String>> headers, String body, boolean framed) {
    String header(String name) {
      List<String> v = headers.get(name.toLowerCase(Locale.ROOT));
      return v == null ? null : String.join(",", v);
    }

    String requestId() {
      return header("x-vertex-proxy-request-id");
    }

    /** The reason of a refusal in Google's error shape, or {@code null}. */
    String reason() {
      try {
        JsonNode n = DevStack.JSON.readTree(body).path("error").path("details").path(0).path("reason");
        return n.isTextual() ? n.asText() : null;
      } catch (IOException notJson) {
        return null;
      }
    }

    String googleStatus() {
      try {
        return DevStack.JSON.readTree(body).path("error").path("status").asText(null);
      } catch (IOException notJson) {
        return null;
      }
    }
  }

  private final Socket socket;
  private final InputStream in;

  RawCaller(String proxyUrl) throws IOException {
    URI u = URI.create(proxyUrl);
    socket = new Socket(u.getHost(), u.getPort());
    in = new BufferedInputStream(socket.getInputStream());
  }

  RawCaller send(String raw) throws IOException {
    socket.getOutputStream().write(raw.getBytes(StandardCharsets.ISO_8859_1));
    socket.getOutputStream().flush();
    return this;
  }

  /** The next response, or {@code null} when the connection ended or stayed silent for {@code quiet} first. */
  Response read(Duration quiet) throws IOException {
    socket.setSoTimeout((int) quiet.toMillis());
    try {
      String statusLine = line();
      if (statusLine == null) {
        return null;
      }
      int status = Integer.parseInt(statusLine.split(" ")[1]);
      Map<String, List<String>> headers = new LinkedHashMap<>();
      String l;
      while ((l = line()) != null && !l.isEmpty()) {
        int colon = l.indexOf(':');
        headers.computeIfAbsent(l.substring(0, colon).trim().toLowerCase(Locale.ROOT), k -> new ArrayList<>())
            .add(l.substring(colon + 1).trim());
      }
      List<String> te = headers.get("transfer-encoding");
      List<String> cl = headers.get("content-length");
      if (status / 100 == 1) {
        return read(quiet);
      }
      if (status == 204 || status == 304) {
        return new Response(status, headers, "", true);
      }
      if (te != null && te.equals(List.of("chunked"))) {
        StringBuilder body = new StringBuilder();
        int size;
        while ((size = Integer.parseInt(line().trim(), 16)) > 0) {
          body.append(new String(in.readNBytes(size), StandardCharsets.ISO_8859_1));
          line();
        }
        while ((l = line()) != null && !l.isEmpty()) {
          // trailers
        }
        return new Response(status, headers, body.toString(), true);
      }
      if (te == null && cl != null && cl.size() == 1) {
        int n = Integer.parseInt(cl.get(0));
        return new Response(status, headers, new String(in.readNBytes(n), StandardCharsets.ISO_8859_1), true);
      }
      ByteArrayOutputStream rest = new ByteArrayOutputStream();
      try {
        in.transferTo(rest);
      } catch (SocketTimeoutException stillOpen) {
        // an unframed response on a connection that stays open: what arrived is all we can know
      }
      return new Response(status, headers, rest.toString(StandardCharsets.ISO_8859_1), false);
    } catch (SocketTimeoutException | SocketException silentOrGone) {
      return null;
    }
  }

  /** Whether the proxy closes the connection within {@code within} (anything it sends meanwhile is dropped). */
  boolean closedWithin(Duration within) throws IOException {
    long deadline = System.nanoTime() + within.toNanos();
    while (System.nanoTime() < deadline) {
      socket.setSoTimeout((int) Math.max(1, Duration.ofNanos(deadline - System.nanoTime()).toMillis()));
      try {
        if (in.read() < 0) {
          return true;
        }
      } catch (SocketTimeoutException open) {
        return false;
      } catch (SocketException reset) {
        return true;
      }
    }
    return false;
  }

  private String line() throws IOException {
    StringBuilder sb = new StringBuilder();
    int b;
    while ((b = in.read()) >= 0) {
      if (b == '\n') {
        return sb.length() > 0 && sb.charAt(sb.length() - 1) == '\r' ? sb.substring(0, sb.length() - 1) : sb.toString();
      }
      sb.append((char) b);
    }
    return sb.length() == 0 ? null : sb.toString();
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}

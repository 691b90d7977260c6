package dev.vertexproxy.proxy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@code vertex-proxy healthcheck} against real HTTP servers on loopback, through the real command line. */
class HealthcheckCommandTest {
  private HttpServer server;
  private final List<String> requests = new CopyOnWriteArrayList<>();

  record Run(int exit, String out, String err) {
  }

  @BeforeEach
  void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/", exchange -> {
      requests.add(exchange.getRequestMethod() + " " + exchange.getRequestURI());
      String path = exchange.getRequestURI().getPath();
      int status;
      String body;
      switch (path) {
        case "/healthz" -> {
          status = 200;
          body = "ok\n";
        }
        case "/readyz" -> {
          status = 503;
          body = "not ready\n";
        }
        case "/moved" -> {
          exchange.getResponseHeaders().add("Location", "/healthz");
          status = 302;
          body = "";
        }
        case "/hostile" -> {
          status = 200;
          body = "\u001b[2J\u001b]0;owned\u0007" + "x".repeat(10_000);
        }
        default -> {
          status = 404;
          body = "no\n";
        }
      }
      byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
      try (OutputStream o = exchange.getResponseBody()) {
        o.write(bytes);
      }
    });
    server.start();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  private String url(String path) {
    return "http://127.0.0.1:" + server.getAddress().getPort() + path;
  }

  private static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int exit = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
    return new Run(exit, out.toString(), err.toString());
  }

  @Test
  void a2xxAnswerIsHealthy() {
    Run r = run("healthcheck", url("/healthz"));
    assertThat(r.exit()).as(r.toString()).isZero();
    assertThat(r.out()).isEqualTo("healthy: 200 ok\n");
    assertThat(requests).containsExactly("GET /healthz");
  }

  @Test
  void a503IsUnhealthyAndNamesTheAnswer() {
    Run r = run("healthcheck", url("/readyz"));
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.out()).isEqualTo("unhealthy: 503 not ready\n");
  }

  @Test
  void aRedirectIsNotFollowedAndIsUnhealthy() {
    Run r = run("healthcheck", url("/moved"));
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.out()).startsWith("unhealthy: 302");
    assertThat(requests).containsExactly("GET /moved");
  }

  @Test
  void nothingListeningIsUnhealthy() throws IOException {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    Run r = run("healthcheck", "http://127.0.0.1:" + port + "/healthz");
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err()).startsWith("healthcheck: unhealthy: http://127.0.0.1:" + port + "/healthz: ");
    assertThat(r.err()).doesNotContain("\tat ");
  }

  @Test
  void aServerThatAcceptsButNeverAnswersIsUnhealthyOnceTheReadTimeoutPasses() throws IOException {
    // the kernel completes the handshake from the backlog; nobody ever reads or writes
    try (ServerSocket silent = new ServerSocket(0, 4, InetAddress.getLoopbackAddress())) {
      Run r = run("healthcheck", "--timeout", "200ms", "http://127.0.0.1:" + silent.getLocalPort() + "/healthz");
      assertThat(r.exit()).isEqualTo(1);
      assertThat(r.err()).contains("unhealthy").containsIgnoringCase("timed out");
    }
  }

  @Test
  void whatTheServerAnswersIsEchoedBoundedAndWithoutControlCharacters() {
    Run r = run("healthcheck", url("/hostile"));
    assertThat(r.exit()).isZero();
    assertThat(r.out()).doesNotContain("\u001b").doesNotContain("\u0007");
    assertThat(r.out().strip()).hasSizeLessThanOrEqualTo("healthy: 200 ".length() + HealthcheckCommand.MAX_ECHO);
  }

  @Test
  void onlyPlainHttpUrlsAreFetched() {
    for (String bad : List.of("file:///etc/passwd", "ftp://127.0.0.1/x", "jar:file:/x.jar!/a",
        "http://user:secret@127.0.0.1:" + server.getAddress().getPort() + "/healthz", "not a url", "/healthz")) {
      Run r = run("healthcheck", bad);
      assertThat(r.exit()).as(bad).isEqualTo(1);
      assertThat(r.err()).as(bad).contains("expected: an http URL").doesNotContain("secret@");
    }
    assertThat(requests).isEmpty();
  }

  @Test
  void aBadTimeoutIsRefusedWithoutARequestAndNeverExits2() {
    for (String bad : List.of("0s", "5m", "-1s", "99999999s", "fast")) {
      Run r = run("healthcheck", "--timeout", bad, url("/healthz"));
      assertThat(r.exit()).as(bad).isEqualTo(1);
      assertThat(r.err()).as(bad).contains("--timeout");
    }
    assertThat(requests).isEmpty();
  }
}

package dev.vertexproxy.proxy.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vertexproxy.proxy.audit.AuditVerifier;
import dev.vertexproxy.proxy.cli.Main;
import dev.vertexproxy.emulators.DevCertificates;
import dev.vertexproxy.dev.DevMode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Listener, limits, upstream failures, streaming, drain and audit tamper-evidence, each on its own dev stack. */
class ProxyBehaviourTest {
  @TempDir
  Path tmp;

  private DevStack start(String extraConfig) throws Exception {
    return DevStack.start(tmp, extraConfig);
  }

  private static String reason(HttpResponse<String> r) throws Exception {
    return DevStack.JSON.readTree(r.body()).at("/error/details/0/reason").asText();
  }

  @Test
  void servesTlsFromPemFiles() throws Exception {
    DevCertificates cert = DevCertificates.selfSigned("proxy", Clock.systemUTC(), new String[] {"localhost"},
        InetAddress.getByName("127.0.0.1"));
    cert.writeCertificatePem(tmp.resolve("tls.crt"));
    cert.writeKeyPem(tmp.resolve("tls.key"));
    DevStack stack = start("listen: { tls: { cert: " + tmp.resolve("tls.crt") + ", key: " + tmp.resolve("tls.key") + " } }\n");
    try {
      assertThat(stack.proxyUrl()).startsWith("https://");
      KeyStore trust = KeyStore.getInstance("PKCS12");
      trust.load(null, null);
      trust.setCertificateEntry("proxy", cert.certificate());
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trust);
      SSLContext ssl = SSLContext.getInstance("TLS");
      ssl.init(null, tmf.getTrustManagers(), null);
      HttpClient https = HttpClient.newBuilder().sslContext(ssl).version(HttpClient.Version.HTTP_1_1).build();
      HttpResponse<String> r = https.send(HttpRequest.newBuilder(URI.create(stack.proxyUrl() + stack.examplePath()))
          .header("Authorization", "Bearer " + stack.mint(Map.of()))
          .POST(HttpRequest.BodyPublishers.ofString(DevStack.BODY)).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(200);
    } finally {
      stack.dev.close();
    }
  }

  @Test
  void oversizedRequestsAreRefusedBeforeAnythingElse() throws Exception {
    DevStack stack = start("limits: { max_body_bytes: 1KiB, max_header_bytes: 4KiB, max_initial_line_bytes: 1KiB }\n");
    try {
      String auth = "Bearer " + stack.mint(Map.of());
      HttpResponse<String> body = stack.post(stack.examplePath(), auth, "x".repeat(2048));
      assertThat(body.statusCode()).isEqualTo(413);
      assertThat(reason(body)).isEqualTo("body-too-large");
      HttpResponse<String> headers = stack.post(stack.examplePath(), auth, DevStack.BODY, "X-Big", "y".repeat(8192));
      assertThat(headers.statusCode()).isEqualTo(431);
      HttpResponse<String> uri = stack.post(stack.examplePath() + "?pageToken=" + "z".repeat(2048), auth, DevStack.BODY);
      assertThat(uri.statusCode()).isEqualTo(414);
      assertThat(DevStack.JSON.readTree(uri.body()).at("/error/code").asInt()).isEqualTo(414);
      assertThat(stack.dev.vertex().seen()).isEmpty();
    } finally {
      stack.dev.close();
    }
  }

  @Test
  void anUnreachableVertexIs502AndAnUntrustedOrMisnamedOneToo() throws Exception {
    DevStack stack = start("upstream: { url_template: 'https://localhost:1' }\n");
    try {
      HttpResponse<String> r = stack.post(stack.examplePath(), "Bearer " + stack.mint(Map.of()), DevStack.BODY);
      assertThat(r.statusCode()).isEqualTo(502);
      assertThat(DevStack.JSON.readTree(r.body()).at("/error/status").asText()).isEqualTo("UNAVAILABLE");
      assertThat(reason(r)).isEqualTo("upstream-unreachable");
    } finally {
      stack.dev.close();
    }
    Path state2 = tmp.resolve("second");
    try (DevMode probe = DevMode.start(DevMode.Options.forTests(state2))) {
      // the Vertex emulator's certificate names "localhost" only: reaching it as 127.0.0.1 must fail verification
      int vertexPort = probe.vertex().baseUri().getPort();
      Path extra = tmp.resolve("mismatch.yaml");
      Files.writeString(extra, "upstream: { url_template: 'https://127.0.0.1:" + vertexPort + "', ca_file: '"
          + state2.resolve("vertex-emulator-ca.pem") + "' }\n");
      try (DevMode mismatch = DevMode.start(new DevMode.Options(tmp.resolve("third"), "127.0.0.1", 0, 0, null, extra))) {
        DevStack s = new DevStack(mismatch);
        HttpResponse<String> r = s.post(s.examplePath(), "Bearer " + s.mint(Map.of()), DevStack.BODY);
        assertThat(r.statusCode()).isEqualTo(502);
        assertThat(probe.vertex().seen()).isEmpty();
        // and a server whose certificate is not trusted at all (the Google emulator's)
        Files.writeString(extra, "upstream: { url_template: 'https://localhost:" + probe.google().baseUri().getPort() + "' }\n");
      }
      try (DevMode untrusted = DevMode.start(new DevMode.Options(tmp.resolve("fourth"), "127.0.0.1", 0, 0, null, extra))) {
        DevStack s = new DevStack(untrusted);
        assertThat(s.post(s.examplePath(), "Bearer " + s.mint(Map.of()), DevStack.BODY).statusCode()).isEqualTo(502);
      }
    }
  }

  @Test
  void aSilentVertexCutsTheStreamAndIsAuditedAsATimeout() throws Exception {
    DevStack stack = start("upstream: { response_timeout: 300ms }\n");
    try {
      stack.dev.vertex().streamPacing(Duration.ofSeconds(2), 3);
      String path = stack.examplePath().replace(":generateContent", ":streamGenerateContent?alt=sse");
      HttpRequest req = HttpRequest.newBuilder(URI.create(stack.proxyUrl() + path))
          .header("Authorization", "Bearer " + stack.mint(Map.of()))
          .POST(HttpRequest.BodyPublishers.ofString(DevStack.BODY)).build();
      String id;
      List<String> lines = new ArrayList<>();
      HttpResponse<Stream<String>> r = stack.http.send(req, HttpResponse.BodyHandlers.ofLines());
      id = r.headers().firstValue("x-vertex-proxy-request-id").orElseThrow();
      try {
        r.body().forEach(lines::add);
      } catch (RuntimeException expected) {
        // the proxy cut the connection mid-stream: the only honest signal once a 200 has started
      }
      assertThat(lines.stream().filter(l -> l.startsWith("data:")).count()).isLessThan(3);
      JsonNode record = stack.awaitAudit(List.of(id)).get(0);
      assertThat(record.get("reason").asText()).isEqualTo("upstream-timeout");
    } finally {
      stack.dev.close();
    }
  }

  @Test
  void largeBodiesStreamBothWaysAndAreCounted() throws Exception {
    DevStack stack = start(null);
    try {
      byte[] payload = new byte[8 << 20];
      new Random(7).nextBytes(payload);
      HttpRequest req = HttpRequest.newBuilder(
              URI.create(stack.proxyUrl() + "/v1/projects/dev-project/locations/us-central1/endpoints/123:rawPredict"))
          .header("Authorization", "Bearer " + stack.mint(Map.of()))
          .header("Content-Type", "application/octet-stream")
          .expectContinue(true)
          .POST(HttpRequest.BodyPublishers.ofByteArray(payload)).build();
      HttpResponse<byte[]> r = stack.http.send(req, HttpResponse.BodyHandlers.ofByteArray());
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(Arrays.equals(r.body(), payload)).isTrue();
      JsonNode record = stack.awaitAudit(List.of(r.headers().firstValue("x-vertex-proxy-request-id").orElseThrow())).get(0);
      assertThat(record.get("bytes_in").asLong()).isEqualTo(payload.length);
      assertThat(record.get("bytes_out").asLong()).isEqualTo(payload.length);
      assertThat(record.get("google_principal").asText()).isEqualTo("vertex-trainer@dev-project.iam.gserviceaccount.com");
    } finally {
      stack.dev.close();
    }
  }

  @Test
  void proxyAuthorizationWinsOverAuthorization() throws Exception {
    DevStack stack = start(null);
    try {
      // java.net.http drops Proxy-Authorization when no proxy is configured, so speak HTTP/1.1 by hand
      String good = "Bearer " + stack.mint(Map.of());
      assertThat(raw(stack, "Authorization: Bearer garbage\r\nProxy-Authorization: " + good)).startsWith("HTTP/1.1 200 OK");
      assertThat(raw(stack, "Authorization: " + good + "\r\nProxy-Authorization: Bearer garbage")).startsWith("HTTP/1.1 401");
      assertThat(stack.post(stack.examplePath(), good, DevStack.BODY, "X-HTTP-Method-Override", "DELETE").statusCode())
          .isEqualTo(400);
    } finally {
      stack.dev.close();
    }
  }

  private static String raw(DevStack stack, String authHeaders) throws Exception {
    URI u = URI.create(stack.proxyUrl());
    String req = "POST " + stack.examplePath() + " HTTP/1.1\r\nHost: x\r\n" + authHeaders
        + "\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " + DevStack.BODY.length() + "\r\n\r\n"
        + DevStack.BODY;
    try (Socket s = new Socket(u.getHost(), u.getPort())) {
      s.setSoTimeout(10_000);
      s.getOutputStream().write(req.getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().flush();
      return new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  @Test
  void keepAliveServesBackToBackRequestsInOrderOnOneConnection() throws Exception {
    DevStack stack = start(null);
    try {
      String token = stack.mint(Map.of());
      URI u = URI.create(stack.proxyUrl());
      String one = "POST " + stack.examplePath() + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token
          + "\r\nContent-Type: application/json\r\nContent-Length: " + DevStack.BODY.length() + "\r\n\r\n" + DevStack.BODY;
      String two = "GET /v1/nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
      try (Socket s = new Socket(u.getHost(), u.getPort())) {
        s.setSoTimeout(10_000);
        OutputStream out = s.getOutputStream();
        out.write((one + two).getBytes(StandardCharsets.US_ASCII)); // pipelined in one write
        out.flush();
        InputStream in = s.getInputStream();
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        in.transferTo(all);
        String text = all.toString(StandardCharsets.UTF_8);
        int first = text.indexOf("HTTP/1.1 200 OK");
        int second = text.indexOf("HTTP/1.1 404 Not Found");
        assertThat(first).isGreaterThanOrEqualTo(0);
        assertThat(second).isGreaterThan(first);
      }
    } finally {
      stack.dev.close();
    }
  }

  @Test
  void shutdownDrainsAStreamInFlight() throws Exception {
    DevStack stack = start(null);
    try {
      stack.dev.vertex().streamPacing(Duration.ofMillis(300), 4);
      String path = stack.examplePath().replace(":generateContent", ":streamGenerateContent?alt=sse");
      HttpRequest req = HttpRequest.newBuilder(URI.create(stack.proxyUrl() + path))
          .header("Authorization", "Bearer " + stack.mint(Map.of()))
          .POST(HttpRequest.BodyPublishers.ofString(DevStack.BODY)).build();
      HttpResponse<Stream<String>> r = stack.http.send(req, HttpResponse.BodyHandlers.ofLines());
      assertThat(r.statusCode()).isEqualTo(200);
      CompletableFuture<Void> closing = CompletableFuture.runAsync(() -> stack.dev.proxy().close());
      long events = r.body().filter(l -> l.startsWith("data:")).count();
      assertThat(events).isEqualTo(4);
      closing.get(10, TimeUnit.SECONDS);
      URI u = URI.create(stack.proxyUrl());
      assertThat(canConnect(u)).isFalse();
    } finally {
      stack.dev.close();
    }
  }

  private static boolean canConnect(URI u) {
    try (Socket s = new Socket(u.getHost(), u.getPort())) {
      return s.isConnected();
    } catch (IOException e) {
      return false;
    }
  }

  @Test
  void thePolicyReloadsOnlyWhenTheNewOneValidates() throws Exception {
    DevStack stack = start(null);
    try {
      Path policyFile = Path.of((String) stack.dev.info().get("policy_file"));
      String original = Files.readString(policyFile);
      String auth = "Bearer " + stack.mint(Map.of());
      URI reload = URI.create(stack.dev.info().get("admin_url") + "/policy/reload");
      HttpRequest post = HttpRequest.newBuilder(reload).POST(HttpRequest.BodyPublishers.noBody()).build();
      assertThat(stack.post(stack.examplePath(), auth, DevStack.BODY).statusCode()).isEqualTo(200);

      // a policy that no longer grants generateContent
      Files.writeString(policyFile, original.replace("      - publishers.models.generateContent\n", ""));
      HttpResponse<String> ok = stack.http.send(post, HttpResponse.BodyHandlers.ofString());
      assertThat(ok.statusCode()).isEqualTo(200);
      assertThat(ok.body()).startsWith("reloaded: sha256:");
      HttpResponse<String> denied = stack.post(stack.examplePath(), auth, DevStack.BODY);
      assertThat(denied.statusCode()).isEqualTo(403);
      assertThat(reason(denied)).isEqualTo("method-not-granted");

      // a broken policy is refused with its problems; the last good one stays in force
      Files.writeString(policyFile, original.replace("publishers.models.countTokens", "publishers.models.countTokenz"));
      HttpResponse<String> refused = stack.http.send(post, HttpResponse.BodyHandlers.ofString());
      assertThat(refused.statusCode()).isEqualTo(400);
      assertThat(refused.body()).contains("countTokenz").contains("the running policy stays");
      assertThat(stack.post(stack.examplePath(), auth, DevStack.BODY).statusCode()).isEqualTo(403);

      stack.dev.close();
      List<String> versions = stack.auditRecords().stream().filter(r -> r.has("policy_version"))
          .map(r -> r.get("policy_version").asText()).distinct().toList();
      assertThat(versions).hasSize(2);
    } finally {
      stack.dev.close();
    }
  }

  @Test
  void auditVerifyNamesTheRecordThatWasChangedOrRemoved() throws Exception {
    DevStack stack = start(null);
    String jwt = stack.mint(Map.of());
    for (int i = 0; i < 3; i++) {
      stack.post(stack.examplePath(), "Bearer " + jwt, DevStack.BODY);
      stack.post(stack.examplePath(), null, DevStack.BODY);
    }
    stack.dev.close(); // flushes the trail
    Path dir = stack.auditDir();
    assertThat(Main.run("audit", "verify", dir.toString())).isZero();
    Path file;
    try (Stream<Path> files = Files.list(dir)) {
      file = files.filter(p -> p.toString().endsWith(".jsonl")).sorted().findFirst().orElseThrow();
    }
    List<String> lines = Files.readAllLines(file);
    assertThat(lines).hasSizeGreaterThanOrEqualTo(6);

    Path changed = Files.createDirectories(tmp.resolve("changed"));
    List<String> edited = new ArrayList<>(lines);
    String third = edited.get(2);
    int at = third.indexOf("\"status\":") + "\"status\":".length();
    edited.set(2, third.substring(0, at) + (third.charAt(at) == '2' ? '3' : '2') + third.substring(at + 1)); // one byte
    Files.write(changed.resolve(file.getFileName()), edited);
    var result = AuditVerifier.verify(changed);
    assertThat(result.ok()).isFalse();
    assertThat(result.firstProblem()).contains(":3").contains("seq 3");
    assertThat(Main.run("audit", "verify", changed.toString())).isEqualTo(1);

    Path removed = Files.createDirectories(tmp.resolve("removed"));
    List<String> shorter = new ArrayList<>(lines);
    shorter.remove(3);
    Files.write(removed.resolve(file.getFileName()), shorter);
    var gap = AuditVerifier.verify(removed);
    assertThat(gap.ok()).isFalse();
    assertThat(gap.firstProblem()).contains("record 4 was removed");
    assertThat(Main.run("audit", "verify", removed.toString())).isEqualTo(1);
  }
}

package dev.vertexproxy.proxy.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vertexproxy.dev.DevMode;
import dev.vertexproxy.proxy.audit.AuditVerifier;
import dev.vertexproxy.proxy.testing.PresentedCertificate;
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
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import javax.net.ssl.SSLException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code listen.tls.address}: one proxy, a plain HTTP port and a TLS port, both the same admission, policy and audit
 * trail. Dev mode runs it this way (curl on the plain port; SDKs, whose google-auth insists on an https
 * {@code token_url}, on the other), with a CA of its own in the state directory that a client trusts as is.
 */
class TwoListenersEndToEndTest {
  @TempDir
  static Path state;
  static DevStack stack;

  @BeforeAll
  static void start() throws Exception {
    stack = new DevStack(DevMode.start(DevMode.Options.forTests(state)));
    stack.awaitReady();
  }

  @AfterAll
  static void stop() {
    if (stack != null) {
      stack.dev.close();
    }
  }

  private static String tlsUrl() {
    return (String) stack.dev.info().get("proxy_tls_url");
  }

  private static Path caFile() {
    return Path.of((String) stack.dev.info().get("ca_file"));
  }

  @Test
  void onePlainAndOneTlsRequestOnTheSameProxyLandInOneAuditChain() throws Exception {
    String jobId = UUID.randomUUID().toString();
    String jwt = stack.mint(Map.of("job_id", jobId));
    HttpResponse<String> plain = stack.post(stack.examplePath(), "Bearer " + jwt, DevStack.BODY);
    assertThat(plain.statusCode()).as(plain.body()).isEqualTo(200);

    HttpClient https = HttpClient.newBuilder().sslContext(DevTrust.context(caFile()))
        .version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
    HttpResponse<String> tls = https.send(HttpRequest.newBuilder(URI.create(tlsUrl() + stack.examplePath()))
        .timeout(Duration.ofSeconds(20)).header("Authorization", "Bearer " + jwt)
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(DevStack.BODY)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(tls.statusCode()).as(tls.body()).isEqualTo(200);
    assertThat(tls.sslSession()).isPresent();

    List<JsonNode> records = awaitRecordsOfJob(jobId, 2);
    assertThat(records).hasSize(2).allSatisfy(r -> {
      assertThat(r.path("decision").asText()).isEqualTo("allow");
      assertThat(r.path("status").asInt()).isEqualTo(200);
    });
    assertThat(records.get(0).path("chain_id").asText()).isEqualTo(records.get(1).path("chain_id").asText());
    assertThat(AuditVerifier.verify(stack.auditDir()).ok()).isTrue();
  }

  @Test
  void eachPortSpeaksOnlyItsOwnProtocol() throws Exception {
    int plainPort = URI.create(stack.proxyUrl()).getPort();
    int tlsPort = URI.create(tlsUrl()).getPort();
    assertThat(stack.proxyUrl()).startsWith("http://");
    assertThat(tlsPort).isNotEqualTo(plainPort);
    // plain HTTP sent to the TLS port gets no HTTP answer
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), tlsPort)) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      out.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = s.getInputStream();
      String answer = new String(in.readNBytes(12), StandardCharsets.ISO_8859_1);
      assertThat(answer).doesNotStartWith("HTTP/1.1");
    }
    // and a TLS handshake with the plain port fails
    assertThatThrownBy(() -> PresentedCertificate.of(plainPort)).isInstanceOf(SSLException.class);
  }

  @Test
  void devJsonNamesTheTlsListenerItsTokenExchangeAndTheCaThatVouchesForIt() throws Exception {
    Map<String, Object> info = stack.dev.info();
    assertThat(tlsUrl()).startsWith("https://127.0.0.1:");
    assertThat(info.get("token_exchange_url")).isEqualTo(tlsUrl() + "/_proxy/sts/v1/token");
    assertThat(caFile()).isEqualTo(state.toAbsolutePath().resolve("ca.pem")).isRegularFile();
    JsonNode written = DevStack.JSON.readTree(Files.readString(state.resolve("dev.json")));
    assertThat(written.path("ca_file").asText()).isEqualTo(caFile().toString());
    assertThat(written.path("token_exchange_url").asText()).isEqualTo(info.get("token_exchange_url"));

    X509Certificate ca = DevTrust.ca(caFile());
    assertThat(ca.getBasicConstraints()).as("a CA certificate").isGreaterThanOrEqualTo(0);
    X509Certificate leaf = PresentedCertificate.of(URI.create(tlsUrl()).getPort());
    assertThat(leaf.getBasicConstraints()).as("a leaf").isEqualTo(-1);
    leaf.verify(ca.getPublicKey()); // issued by the dev CA
    assertThat(leaf.getSubjectAlternativeNames().stream().map(n -> String.valueOf(n.get(1))).toList())
        .contains("localhost", "127.0.0.1");
    assertThat(Files.readString(caFile())).doesNotContain("PRIVATE KEY");
  }

  private static List<JsonNode> awaitRecordsOfJob(String jobId, int expected) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (true) {
      List<JsonNode> records = stack.auditRecords().stream()
          .filter(r -> jobId.equals(r.at("/caller/claims/job_id").asText())).toList();
      if (records.size() >= expected || System.nanoTime() > deadline) {
        return records;
      }
      Thread.sleep(20);
    }
  }
}

package dev.vertexproxy.proxy.login;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import dev.vertexproxy.testing.MutableClock;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The discovery documents of login issuers: fetched on the blocking executor, kept for an hour, failures not kept. */
class ProviderMetadataSourceTest {
  private final AtomicInteger fetches = new AtomicInteger();
  private volatile int status = 200;
  private HttpServer idp;
  private URI issuer;
  private ExecutorService blocking;
  private HttpClient http;

  @BeforeEach
  void start() throws IOException {
    idp = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    issuer = URI.create("http://127.0.0.1:" + idp.getAddress().getPort() + "/realms/acme");
    idp.createContext("/realms/acme/.well-known/openid-configuration", ex -> {
      fetches.incrementAndGet();
      byte[] body = ("{\"issuer\":\"" + issuer + "\",\"authorization_endpoint\":\"" + issuer + "/auth\","
          + "\"token_endpoint\":\"" + issuer + "/token\"}").getBytes(StandardCharsets.UTF_8);
      ex.sendResponseHeaders(status, body.length);
      ex.getResponseBody().write(body);
      ex.close();
    });
    idp.start();
    blocking = Executors.newFixedThreadPool(2);
    http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  }

  @AfterEach
  void stop() throws InterruptedException {
    idp.stop(0);
    blocking.shutdownNow();
    blocking.awaitTermination(5, TimeUnit.SECONDS);
  }

  @Test
  void aDocumentIsFetchedOnceAndKeptForTheTtl() throws Exception {
    MutableClock clock = new MutableClock(Instant.parse("2026-03-01T10:00:00Z"));
    ProviderMetadata.Source source = new ProviderMetadata.Source(http, blocking, clock);
    ProviderMetadata m = source.get(issuer).get(10, TimeUnit.SECONDS);
    assertThat(m.tokenEndpoint()).hasToString(issuer + "/token");
    assertThat(source.get(issuer).get(10, TimeUnit.SECONDS)).isEqualTo(m);
    assertThat(fetches).hasValue(1);
    clock.advance(ProviderMetadata.Source.TTL);
    source.get(issuer).get(10, TimeUnit.SECONDS);
    assertThat(fetches).hasValue(2);
  }

  @Test
  void aFailedFetchIsNotKept() throws Exception {
    MutableClock clock = new MutableClock(Instant.parse("2026-03-01T10:00:00Z"));
    ProviderMetadata.Source source = new ProviderMetadata.Source(http, blocking, clock);
    status = 500;
    assertThatThrownBy(() -> source.get(issuer).get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(IOException.class);
    status = 200;
    assertThat(source.get(issuer).get(10, TimeUnit.SECONDS).issuer()).isEqualTo(issuer);
    assertThat(fetches).as("the failure was not kept for the TTL").hasValue(2);
  }
}

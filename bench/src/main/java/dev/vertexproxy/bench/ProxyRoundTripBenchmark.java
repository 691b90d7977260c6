package dev.vertexproxy.bench;

import dev.vertexproxy.dev.DevMode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A whole allowed generateContent exchange through the proxy on loopback — route, cached token verification, policy,
 * cached Google token, pooled TLS connection to the Vertex emulator, audit record — as seen by a keep-alive client.
 * The emulator's own work is included, so this is an upper bound on the proxy's cost per exchange.
 */
@BenchmarkMode({Mode.Throughput, Mode.SampleTime})
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@Threads(4)
@State(Scope.Benchmark)
public class ProxyRoundTripBenchmark {
  private static final String BODY = "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"Hello, Vertex\"}]}]}";
  private DevMode dev;
  private HttpClient http;
  private HttpRequest request;
  private Path state;

  @Setup(Level.Trial)
  public void start() throws Exception {
    state = Files.createTempDirectory("vertex-proxy-bench");
    dev = DevMode.start(DevMode.Options.forTests(state));
    String token = dev.issuer().mint(Map.of("exp", System.currentTimeMillis() / 1000 + 3600));
    http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    request = HttpRequest.newBuilder(URI.create(dev.proxyUrl() + dev.info().get("example_path")))
        .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(BODY)).build();
  }

  @TearDown(Level.Trial)
  public void stop() {
    dev.close();
  }

  @Benchmark
  public int generateContent() throws Exception {
    HttpResponse<byte[]> r = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
    if (r.statusCode() != 200) {
      throw new IllegalStateException("status " + r.statusCode());
    }
    return r.body().length;
  }
}

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
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@link ProxyRoundTripBenchmark}'s allowed generateContent exchange, once per {@code audit.durability}, with 8
 * keep-alive clients: what the durability mode costs a caller end to end. Whether a response waits for its record is
 * the request path's business; this measures whatever it does.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(1)
@Threads(8)
@State(Scope.Benchmark)
public class ProxyDurabilityBenchmark {
  private static final String BODY = "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"Hello, Vertex\"}]}]}";

  @Param({"none", "group_commit", "sync"})
  public String durability;

  private DevMode dev;
  private HttpClient http;
  private HttpRequest request;

  @Setup(Level.Trial)
  public void start() throws Exception {
    Path parent = Path.of(System.getProperty("bench.audit.dir", System.getProperty("java.io.tmpdir")));
    Path state = Files.createTempDirectory(parent, "vertex-proxy-bench-");
    Path extra = state.resolve("extra.yaml");
    Files.writeString(extra, "audit: { durability: " + durability + " }\n");
    dev = DevMode.start(new DevMode.Options(state.resolve("state"), "127.0.0.1", 0, 0, null, extra));
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

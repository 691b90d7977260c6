package dev.vertexproxy.bench;

import dev.vertexproxy.dev.DevMode;
import dev.vertexproxy.emulators.DevIssuer;
import dev.vertexproxy.policy.Caller;
import dev.vertexproxy.proxy.config.IdentityConfig;
import dev.vertexproxy.proxy.config.IssuerConfig;
import dev.vertexproxy.proxy.identity.IdentityException;
import dev.vertexproxy.proxy.identity.TokenVerifier;
import dev.vertexproxy.proxy.identity.VerifiedToken;
import dev.vertexproxy.proxy.identity.VerifierProbe;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * Bearer token verification as the identity step runs it for every request: the proxy's real {@link TokenVerifier},
 * called as the identity step calls it ({@link TokenVerifier#verifyToken}), configured as dev mode configures it (the
 * {@link DevIssuer} as issuer {@value DevMode#ISSUER_NAME}, audience {@value DevMode#AUDIENCE}, RS256, discovery and
 * JWKS fetched once over loopback HTTP before measuring), and GitLab-CI-like RS256 ID tokens minted by that issuer.
 *
 * <ul>
 *   <li>{@code cacheHit}: the same token again, as a CI job's repeated calls send it: SHA-256 of the text and a cache
 *       look-up (target: under 1 µs);</li>
 *   <li>{@code cacheMiss}: a token never seen, through the whole path: size and character check, parse, issuer and
 *       algorithm checks, RS256 signature, iss/aud/exp/nbf/iat/lifetime, claim extraction into a {@link Caller}. The
 *       tokens come from a pool minted before measuring (signing is not measured), on a verifier configured with
 *       {@code verified_token_cache_size: 0};</li>
 *   <li>{@code refusedBadSignature}: a token whose signature belongs to another token of the same key, refused with
 *       {@code signature-invalid} (refusals are never cached, so each runs the signature check).</li>
 * </ul>
 *
 * <p>With the issuer's keys cached, {@link TokenVerifier#verifyToken} completes on the calling thread; each call still ends
 * with {@code join()}, so a call that had to wait for a key fetch would be measured whole, not as its future. After
 * every iteration the verifiers' own counters are checked: a hit that went through verification, or a miss that was
 * answered from a cache, fails the run instead of reporting the wrong path's time.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Benchmark)
public class TokenVerifierBenchmark {
  /** Distinct tokens cycled through by {@code cacheMiss}; minting them takes about a millisecond each. */
  private static final int POOL = 512;
  private static final long LIFETIME_SECONDS = 3600;

  private final CpuPerOp cpu = new CpuPerOp();
  private DevIssuer issuer;
  private ExecutorService blocking;
  private TokenVerifier cached;
  private TokenVerifier uncached;
  private String repeated;
  private String[] fresh;
  private String forged;
  private int next;
  private long missCalls;
  private long forgedCalls;
  private long uncachedBefore;

  @Setup(Level.Trial)
  public void start() throws Exception {
    issuer = DevIssuer.start(new InetSocketAddress("127.0.0.1", 0), DevMode.AUDIENCE);
    blocking = Executors.newFixedThreadPool(2, r -> {
      Thread t = new Thread(r, "bench-blocking");
      t.setDaemon(true);
      return t;
    });
    IdentityConfig dev = IdentityConfig.of(List.of(new IssuerConfig(DevMode.ISSUER_NAME, issuer.issuer(),
        List.of(DevMode.AUDIENCE), List.of("RS256"), null, false, IssuerConfig.DEFAULT_MAX_TOKEN_LIFETIME)));
    IdentityConfig noCache = new IdentityConfig(dev.issuers(), dev.clockSkew(), dev.maxTokenBytes(),
        dev.jwksRefreshMinInterval(), dev.jwksCacheTtl(), 0);
    cached = TokenVerifier.create(dev, Clock.systemUTC(), blocking);
    uncached = TokenVerifier.create(noCache, Clock.systemUTC(), blocking);
    cached.warmUp().get(30, TimeUnit.SECONDS);
    uncached.warmUp().get(30, TimeUnit.SECONDS);

    repeated = mint();
    fresh = new String[POOL];
    for (int i = 0; i < POOL; i++) {
      fresh[i] = mint();
    }
    String[] a = mint().split("\\.");
    String[] b = mint().split("\\.");
    forged = a[0] + "." + a[1] + "." + b[2];

    expectCaller(cached.verifyToken(repeated).join());
    expectCaller(cached.verifyToken(repeated).join());
    expectCaller(uncached.verifyToken(fresh[0]).join());
    expectCaller(uncached.verifyToken(fresh[0]).join());
    Throwable refusal = refusedBadSignature();
    if (!(refusal instanceof IdentityException e) || e.kind() != IdentityException.Reason.SIGNATURE_INVALID) {
      throw new IllegalStateException("the forged token was not refused for its signature: " + refusal);
    }
    if (VerifierProbe.fullVerifications(cached) != 1 || VerifierProbe.fullVerifications(uncached) != 3) {
      throw new IllegalStateException("setup: the cached verifier did not cache, or the uncached one did");
    }
    uncachedBefore = VerifierProbe.fullVerifications(uncached);
    forgedCalls = 0;
  }

  @Setup(Level.Iteration)
  public void startCpu() {
    cpu.start();
  }

  /** Fails the run when a measured call took another path than its name says. */
  @TearDown(Level.Iteration)
  public void checkPaths() {
    cpu.report();
    long cachedFull = VerifierProbe.fullVerifications(cached);
    if (cachedFull != 1) {
      throw new IllegalStateException("cacheHit verified the repeated token " + cachedFull + " times (expected: once, in setup)");
    }
    long uncachedFull = VerifierProbe.fullVerifications(uncached) - uncachedBefore;
    if (uncachedFull != missCalls + forgedCalls) {
      throw new IllegalStateException("cacheMiss/refusedBadSignature: " + (missCalls + forgedCalls) + " calls but "
          + uncachedFull + " full verifications");
    }
  }

  @TearDown(Level.Trial)
  public void stop() {
    cached.close();
    uncached.close();
    issuer.close();
    blocking.shutdownNow();
  }

  @Benchmark
  public VerifiedToken cacheHit() {
    cpu.op();
    return cached.verifyToken(repeated).join();
  }

  @Benchmark
  public VerifiedToken cacheMiss() {
    cpu.op();
    String token = fresh[next];
    next = next + 1 == POOL ? 0 : next + 1;
    missCalls++;
    return uncached.verifyToken(token).join();
  }

  @Benchmark
  public Throwable refusedBadSignature() {
    cpu.op();
    forgedCalls++;
    return uncached.verifyToken(forged).handle((c, e) -> e).join();
  }

  private String mint() {
    return issuer.mint(Map.of("exp", System.currentTimeMillis() / 1000 + LIFETIME_SECONDS));
  }

  private static void expectCaller(VerifiedToken token) {
    Caller caller = token.caller();
    if (!DevMode.ISSUER_NAME.equals(caller.issuer()) || !caller.subject().startsWith("project_path:acme/ml/forecasting")) {
      throw new IllegalStateException("unexpected caller " + caller.issuer() + " / " + caller.subject());
    }
  }
}

package dev.vertexproxy.proxy.server;

import dev.vertexproxy.policy.Caller;
import dev.vertexproxy.policy.Policy;
import dev.vertexproxy.policy.PolicyException;
import dev.vertexproxy.policy.catalog.MethodCatalog;
import dev.vertexproxy.policy.route.Router;
import dev.vertexproxy.proxy.admission.AdmissionChain;
import dev.vertexproxy.proxy.admission.AdmissionStep;
import dev.vertexproxy.proxy.admission.GuardStep;
import dev.vertexproxy.proxy.admission.PolicyStep;
import dev.vertexproxy.proxy.admission.RouteStep;
import dev.vertexproxy.proxy.admission.Verdict;
import dev.vertexproxy.proxy.config.AuditConfig;
import dev.vertexproxy.proxy.credentials.GoogleTokenProvider.GoogleToken;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/** What the tests that drive an {@link ExchangeDriver} on an {@link EmbeddedChannel} share. */
final class EmbeddedExchanges {
  /**
   * The request path of {@code durability: none}, which these tests' audit logs use: an answer does not wait for its
   * record, whose future completes on the audit writer's thread — an {@link EmbeddedChannel}'s loop is the test thread.
   */
  static final AuditPlan NONE =
      AuditPlan.of(new AuditConfig(null, AuditConfig.Durability.NONE, AuditConfig.OnFailure.REJECT));

  /** The caller the stub identity step admits. */
  static final Caller CALLER = new Caller("gitlab", "project_path:acme/ml", Map.of("project_path", "acme/ml"));

  private EmbeddedExchanges() {
  }

  /** One allow rule: any gitlab caller may call {@code method} as sa@p. */
  static Policy allowing(String method) throws PolicyException {
    return Policy.parse("""
        version: 1
        rules:
          - name: gemini
            effect: allow
            identity: { issuer: gitlab }
            methods: [%s]
            service_account: sa@p.iam.gserviceaccount.com
        """.formatted(method), "policy.yaml", MethodCatalog.bundled(), Set.of("gitlab"));
  }

  /**
   * The real guard, route and policy steps with the remote ones stubbed: identity admits {@link #CALLER}, credentials
   * hand over the Google token {@code ya29.test}.
   */
  static AdmissionChain stubbedChain(long maxBodyBytes, Policy policy) {
    return new AdmissionChain(List.of(
        new GuardStep(maxBodyBytes, () -> false),
        new RouteStep(new Router(MethodCatalog.bundled())),
        AdmissionStep.of("identity", a -> {
          a.caller(CALLER, "caller-jwt");
          return CompletableFuture.completedFuture(Verdict.proceed());
        }),
        new PolicyStep(() -> policy),
        AdmissionStep.of("credentials", a -> {
          a.googleToken(new GoogleToken("ya29.test", Instant.now().plusSeconds(3600), a.decision().serviceAccount()));
          return CompletableFuture.completedFuture(Verdict.proceed());
        })));
  }

  /** Writes raw request bytes into the channel and runs what they scheduled. */
  static void send(EmbeddedChannel ch, String raw) {
    ch.writeInbound(Unpooled.copiedBuffer(raw, StandardCharsets.US_ASCII));
    ch.runPendingTasks();
  }

  /** Everything the channel has written so far, as text; the buffers are released. */
  static String responses(EmbeddedChannel ch) {
    StringBuilder sb = new StringBuilder();
    Object o;
    while ((o = ch.readOutbound()) != null) {
      ByteBuf b = (ByteBuf) o;
      sb.append(b.toString(StandardCharsets.UTF_8));
      b.release();
    }
    return sb.toString();
  }
}

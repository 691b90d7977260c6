package dev.vertexproxy.proxy.admission;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vertexproxy.proxy.reason.Reason;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.junit.jupiter.api.Test;

/** The chain alone, with recording steps and a hand-run executor standing in for the event loop. */
class AdmissionChainTest {
  private final List<String> ran = new ArrayList<>();
  private final List<Verdict> verdicts = new ArrayList<>();
  /** Tasks handed to "the event loop"; run by the test. */
  private final ArrayDeque<Runnable> loop = new ArrayDeque<>();
  private final Executor executor = loop::add;

  private static Admission admission() {
    return new Admission(new RequestHead("POST", "/v1/x", new DefaultHttpHeaders(), null, false, 0, false));
  }

  private AdmissionStep proceeding(String name) {
    return AdmissionStep.of(name, a -> {
      ran.add(name);
      return CompletableFuture.completedFuture(Verdict.proceed());
    });
  }

  private void runLoop() {
    Runnable r;
    while ((r = loop.poll()) != null) {
      r.run();
    }
  }

  @Test
  void synchronousStepsRunInOrderOnTheCallingThreadAndTheChainProceeds() {
    AdmissionChain chain = new AdmissionChain(List.of(proceeding("guard"), proceeding("route"), proceeding("policy")));
    chain.admit(admission(), executor, verdicts::add);
    assertThat(ran).containsExactly("guard", "route", "policy");
    assertThat(verdicts).singleElement().satisfies(v -> assertThat(v.proceeds()).isTrue());
    assertThat(loop).as("no hop for synchronous steps").isEmpty();
    assertThat(chain.names()).containsExactly("guard", "route", "policy");
  }

  @Test
  void theFirstRefusalEndsTheChainAndLaterStepsNeverRun() {
    AdmissionStep refusing = AdmissionStep.of("identity", a -> {
      ran.add("identity");
      return CompletableFuture.completedFuture(Verdict.refuse(Reason.TOKEN_MISSING, "no token"));
    });
    new AdmissionChain(List.of(proceeding("route"), refusing, proceeding("policy"))).admit(admission(), executor, verdicts::add);
    assertThat(ran).containsExactly("route", "identity");
    assertThat(verdicts).singleElement().satisfies(v -> {
      assertThat(v.reason()).isEqualTo(Reason.TOKEN_MISSING);
      assertThat(v.message()).isEqualTo("no token");
    });
  }

  @Test
  void afterAnAsynchronousStepTheChainHopsBackToTheExecutorBeforeTheNextStep() {
    CompletableFuture<Verdict> pending = new CompletableFuture<>();
    AdmissionStep async = AdmissionStep.of("identity", a -> {
      ran.add("identity");
      return pending;
    });
    new AdmissionChain(List.of(proceeding("route"), async, proceeding("policy"))).admit(admission(), executor, verdicts::add);
    assertThat(ran).containsExactly("route", "identity");
    assertThat(verdicts).isEmpty();
    pending.complete(Verdict.proceed()); // on "another thread"
    assertThat(ran).as("nothing runs off the loop").containsExactly("route", "identity");
    runLoop();
    assertThat(ran).containsExactly("route", "identity", "policy");
    assertThat(verdicts).singleElement().satisfies(v -> assertThat(v.proceeds()).isTrue());
  }

  @Test
  void aStepThatThrowsOrFailsRefusesAsAnInternalErrorAndNeverLetsTheRequestThrough() {
    AdmissionStep throwing = AdmissionStep.of("policy", a -> {
      throw new IllegalStateException("bug");
    });
    new AdmissionChain(List.of(throwing, proceeding("credentials"))).admit(admission(), executor, verdicts::add);
    CompletableFuture<Verdict> failing = new CompletableFuture<>();
    new AdmissionChain(List.of(AdmissionStep.of("identity", a -> failing), proceeding("credentials")))
        .admit(admission(), executor, verdicts::add);
    failing.completeExceptionally(new RuntimeException("boom"));
    runLoop();
    new AdmissionChain(List.of(AdmissionStep.of("route", a -> CompletableFuture.failedFuture(new RuntimeException("x"))),
        proceeding("credentials"))).admit(admission(), executor, verdicts::add);
    new AdmissionChain(List.of(AdmissionStep.of("route", a -> CompletableFuture.completedFuture(null)),
        proceeding("credentials"))).admit(admission(), executor, verdicts::add);
    assertThat(ran).doesNotContain("credentials");
    assertThat(verdicts).hasSize(4).allSatisfy(v -> assertThat(v.reason()).isEqualTo(Reason.INTERNAL_ERROR));
  }
}

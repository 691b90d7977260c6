package dev.vertexproxy.proxy.admission;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;

/**
 * One decision on the way from a request head to Vertex, named after what it decides. A step reads what the steps
 * before it learned from the {@link Admission}, may add to it, and answers {@link Verdict#proceed()} or a refusal.
 *
 * <p>Contract: a step never blocks its thread. A synchronous step returns a completed stage; an asynchronous one
 * completes it on any thread, and the {@link AdmissionChain} hops back to the exchange's event loop before the next step.
 * A step that cannot decide refuses (with an "unavailable" reason): there is no fall-through to the next one.
 */
public interface AdmissionStep {
  /** A short name for logs and tests, e.g. {@code identity}. */
  String name();

  CompletionStage<Verdict> decide(Admission admission);

  /**
   * The answer of a step that decided synchronously; proceeding shares one completed stage, so a request that passes
   * the synchronous steps allocates none.
   */
  static CompletableFuture<Verdict> decided(Verdict verdict) {
    return verdict.proceeds() ? Verdict.PROCEEDING : CompletableFuture.completedFuture(verdict);
  }

  /** A step from a name and a function: for small steps and tests. */
  static AdmissionStep of(String name, Function<Admission, CompletionStage<Verdict>> decide) {
    return new AdmissionStep() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public CompletionStage<Verdict> decide(Admission admission) {
        return decide.apply(admission);
      }
    };
  }
}

package dev.vertexproxy.proxy.admission;

import dev.vertexproxy.proxy.logging.RequestLog;
import dev.vertexproxy.proxy.reason.Reason;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admission steps in request-flow order, run one after the other for each request: the first refusal ends the
 * chain. Synchronous steps run back to back on the caller's thread; after an asynchronous one the chain hops back onto
 * the exchange's executor (its event loop) before the next step, so steps never need to be thread-safe about the
 * {@link Admission}. A step that throws, or whose stage fails, refuses the request as {@link Reason#INTERNAL_ERROR}:
 * a broken security step never lets a request through.
 *
 * <p>Immutable and thread-safe; one chain serves every connection.
 */
public final class AdmissionChain {
  private static final Logger log = LoggerFactory.getLogger(AdmissionChain.class);

  private final List<AdmissionStep> steps;

  public AdmissionChain(List<AdmissionStep> steps) {
    if (steps.isEmpty()) {
      throw new IllegalArgumentException("an admission chain needs at least one step");
    }
    this.steps = List.copyOf(steps);
  }

  /** The steps' names in the order they run. */
  public List<String> names() {
    return steps.stream().map(AdmissionStep::name).toList();
  }

  /**
   * Runs every step for {@code admission}; {@code then} gets the verdict exactly once — on the calling thread when
   * every step answered synchronously, else on {@code loop}.
   */
  public void admit(Admission admission, Executor loop, Consumer<Verdict> then) {
    run(admission, 0, loop, then);
  }

  private void run(Admission admission, int from, Executor loop, Consumer<Verdict> then) {
    for (int i = from; i < steps.size(); i++) {
      AdmissionStep step = steps.get(i);
      CompletableFuture<Verdict> stage;
      try {
        stage = step.decide(admission).toCompletableFuture();
      } catch (RuntimeException e) {
        then.accept(broken(step, e));
        return;
      }
      if (!stage.isDone()) {
        int next = i + 1;
        RequestLog.Context logContext = RequestLog.current();
        stage.whenCompleteAsync((v, err) -> {
          logContext.run(() -> {
            Verdict verdict = err != null || v == null ? broken(step, err) : v;
            if (verdict.proceeds()) {
              run(admission, next, loop, then);
            } else {
              then.accept(verdict);
            }
          });
        }, loop);
        return;
      }
      Verdict verdict;
      try {
        verdict = stage.get();
      } catch (InterruptedException | ExecutionException | CompletionException e) {
        if (e instanceof InterruptedException) {
          Thread.currentThread().interrupt();
        }
        then.accept(broken(step, e));
        return;
      }
      if (verdict == null || !verdict.proceeds()) {
        then.accept(verdict == null ? broken(step, null) : verdict);
        return;
      }
    }
    then.accept(Verdict.proceed());
  }

  private static Verdict broken(AdmissionStep step, Throwable cause) {
    log.error("admission step {} failed instead of deciding; the request is refused", step.name(), cause);
    return Verdict.refuse(Reason.INTERNAL_ERROR, "The proxy could not decide on this request.");
  }
}

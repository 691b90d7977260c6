package dev.vertexproxy.proxy.identity;

import com.nimbusds.jose.jwk.JWKSet;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** A key source that counts its calls and answers each with a future the test completes by hand. Thread-safe. */
final class CountingKeySource implements KeySetSource {
  private final List<Refetch> calls = new ArrayList<>();
  private final Deque<CompletableFuture<FetchedKeys>> pending = new ArrayDeque<>();

  @Override
  public synchronized CompletableFuture<FetchedKeys> keys(Refetch why) {
    calls.add(why);
    CompletableFuture<FetchedKeys> answer = new CompletableFuture<>();
    pending.add(answer);
    return answer;
  }

  synchronized int calls() {
    return calls.size();
  }

  synchronized List<Refetch> reasons() {
    return List.copyOf(calls);
  }

  /** Answers the oldest open call with {@code keys} fetched at {@code at}. */
  FetchedKeys succeed(JWKSet keys, Instant at) {
    FetchedKeys fetched = new FetchedKeys(keys, at);
    oldest().complete(fetched);
    return fetched;
  }

  void fail(IdentityException failure) {
    oldest().completeExceptionally(failure);
  }

  private synchronized CompletableFuture<FetchedKeys> oldest() {
    CompletableFuture<FetchedKeys> call = pending.poll();
    if (call == null) {
      throw new AssertionError("no call is waiting for an answer");
    }
    return call;
  }
}

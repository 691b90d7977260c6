package dev.vertexproxy.proxy.credentials;

import dev.vertexproxy.proxy.credentials.GoogleTokenProvider.GoogleToken;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A fetching source that counts its calls and answers each with a future the test completes by hand
 * ({@link #succeed}, {@link #fail}), so a layer above it can be tested alone, without Google and without sleeping.
 * Thread-safe.
 */
final class CountingTokenSource implements GoogleTokenSource.Fetching {
  private final boolean needsCaller;
  private final List<TokenRequest> requests = new ArrayList<>();
  private final Deque<CompletableFuture<GoogleToken>> pending = new ArrayDeque<>();
  private int issued;

  CountingTokenSource() {
    this(false);
  }

  CountingTokenSource(boolean needsCaller) {
    this.needsCaller = needsCaller;
  }

  @Override
  public synchronized CompletableFuture<GoogleToken> tokenFor(TokenRequest request) {
    requests.add(request);
    CompletableFuture<GoogleToken> answer = new CompletableFuture<>();
    pending.add(answer);
    return answer;
  }

  @Override
  public boolean needsCaller() {
    return needsCaller;
  }

  synchronized int calls() {
    return requests.size();
  }

  synchronized List<TokenRequest> requests() {
    return List.copyOf(requests);
  }

  synchronized int pending() {
    return pending.size();
  }

  /** Answers the oldest open call with a new token of its service account expiring at {@code expiresAt}. */
  GoogleToken succeed(Instant expiresAt) {
    CompletableFuture<GoogleToken> call;
    GoogleToken token;
    synchronized (this) {
      call = oldest();
      token = new GoogleToken("token-" + (++issued), expiresAt, requests.get(requests.size() - pending.size() - 1)
          .serviceAccount());
    }
    call.complete(token);
    return token;
  }

  /** Fails the oldest open call. */
  void fail(Throwable failure) {
    CompletableFuture<GoogleToken> call;
    synchronized (this) {
      call = oldest();
    }
    call.completeExceptionally(failure);
  }

  private CompletableFuture<GoogleToken> oldest() {
    CompletableFuture<GoogleToken> call = pending.poll();
    if (call == null) {
      throw new AssertionError("no call is waiting for an answer");
    }
    return call;
  }
}

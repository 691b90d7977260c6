package dev.vertexproxy.emulators;

import dev.vertexproxy.emulators.GoogleEmulator.Endpoint;
import java.time.Duration;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The Google emulator's fault switches, asked once per request (after it is counted, before it is answered):
 * a one-off delay, a hold that parks requests until released, an outage that fails every request until recovered, and
 * a number of scripted failures. Holds wait on a condition, never on a timer, so tests drive them without sleeping.
 *
 * <p>Precedence: a held request waits first; once through, an outage ({@code failAll}) answers before, and without
 * consuming, the scripted {@code failNext} failures. Thread-safe: one lock guards all state but the delay.
 */
final class GoogleEmulatorFaults {
  /** What a request does once the switches have had their say. */
  enum Passage { PROCEED, CLOSED }

  private final Object lock = new Object();
  private final AtomicReference<Duration> nextDelay = new AtomicReference<>();
  private final Map<Endpoint, Integer> outages = new EnumMap<>(Endpoint.class);
  private final Set<Endpoint> holding = EnumSet.noneOf(Endpoint.class);
  private int failuresLeft;
  private int failureStatus;
  private long releases;
  private int held;
  private boolean closed;

  void failNext(int count, int httpStatus) {
    synchronized (lock) {
      failuresLeft = count;
      failureStatus = httpStatus;
    }
  }

  void failAll(Endpoint endpoint, int httpStatus) {
    synchronized (lock) {
      for (Endpoint each : concrete(endpoint)) {
        outages.put(each, httpStatus);
      }
    }
  }

  void recover() {
    synchronized (lock) {
      outages.clear();
    }
  }

  void delayNext(Duration delay) {
    nextDelay.set(delay);
  }

  void hold(Endpoint endpoint) {
    synchronized (lock) {
      holding.addAll(concrete(endpoint));
    }
  }

  void release() {
    synchronized (lock) {
      holding.clear();
      releases++;
      lock.notifyAll();
    }
  }

  int held() {
    synchronized (lock) {
      return held;
    }
  }

  /** Releases every held request for good: they answer as {@link Passage#CLOSED}, and no request is held again. */
  void close() {
    synchronized (lock) {
      closed = true;
      holding.clear();
      lock.notifyAll();
    }
  }

  /**
   * Sleeps for a pending {@link #delayNext} (kept as it was, a real-time delay), then waits while {@code endpoint} is
   * held. A request held when {@link #release()} is called goes on even if the endpoint is held again before it wakes.
   */
  Passage pass(Endpoint endpoint) {
    Duration delay = nextDelay.getAndSet(null);
    try {
      if (delay != null) {
        Thread.sleep(delay.toMillis());
      }
      synchronized (lock) {
        long releasesWhenHeld = releases;
        if (holding.contains(endpoint)) {
          held++;
          try {
            while (!closed && releases == releasesWhenHeld && holding.contains(endpoint)) {
              lock.wait();
            }
          } finally {
            held--;
          }
        }
        return closed ? Passage.CLOSED : Passage.PROCEED;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Passage.CLOSED;
    }
  }

  /** The status this request must fail with, or 0 to answer it normally. */
  int injectedFailure(Endpoint endpoint) {
    synchronized (lock) {
      Integer outage = outages.get(endpoint);
      if (outage != null) {
        return outage;
      }
      if (failuresLeft == 0) {
        return 0;
      }
      failuresLeft--;
      return failureStatus;
    }
  }

  private static Set<Endpoint> concrete(Endpoint endpoint) {
    return endpoint == Endpoint.ANY ? EnumSet.of(Endpoint.STS, Endpoint.IAM) : EnumSet.of(endpoint);
  }
}

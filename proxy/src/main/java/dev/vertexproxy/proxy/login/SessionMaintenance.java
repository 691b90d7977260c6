package dev.vertexproxy.proxy.login;

import io.netty.util.concurrent.EventExecutorGroup;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps this replica's view of the shared sessions state current: the revocation list is re-read every second when
 * its file changed (so a revocation on another replica takes effect here within about a second), and the signing keys
 * every minute (a rotation written by another replica is picked up; this one rotates when due). The timers run on an
 * event loop only to hand the file I/O to the blocking executor; one run at a time of each.
 */
public final class SessionMaintenance implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SessionMaintenance.class);

  private final ScheduledFuture<?> revocations;
  private final ScheduledFuture<?> keys;

  private SessionMaintenance(ScheduledFuture<?> revocations, ScheduledFuture<?> keys) {
    this.revocations = revocations;
    this.keys = keys;
  }

  public static SessionMaintenance start(SessionIssuer issuer, EventExecutorGroup timers, Executor blocking) {
    AtomicBoolean revocationsBusy = new AtomicBoolean();
    AtomicBoolean keysBusy = new AtomicBoolean();
    ScheduledFuture<?> r = timers.scheduleAtFixedRate(() -> offload(blocking, revocationsBusy, () -> {
      issuer.revocations().refresh();
    }, "revocation list"), 1, 1, TimeUnit.SECONDS);
    ScheduledFuture<?> k = timers.scheduleAtFixedRate(() -> offload(blocking, keysBusy, () -> {
      issuer.keys().reload();
    }, "signing keys"), 60, 60, TimeUnit.SECONDS);
    return new SessionMaintenance(r, k);
  }

  private interface Io {
    void run() throws IOException;
  }

  private static void offload(Executor blocking, AtomicBoolean busy, Io work, String what) {
    if (!busy.compareAndSet(false, true)) {
      return;
    }
    try {
      blocking.execute(() -> {
        try {
          work.run();
        } catch (IOException | RuntimeException e) {
          log.warn("could not re-read the {}: {}", what, e.getMessage());
        } finally {
          busy.set(false);
        }
      });
    } catch (RejectedExecutionException e) {
      busy.set(false);
    }
  }

  @Override
  public void close() {
    revocations.cancel(false);
    keys.cancel(false);
  }
}

package dev.vertexproxy.proxy.policy;

import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What makes {@link PolicyInForce} reload: a watch on the policy file's <em>directory</em>, a periodic content check,
 * and SIGHUP. All reloads run on one daemon thread of their own ({@code vp-policy-reload}), never on an event loop.
 *
 * <p>Why the directory: editors replace a file by writing a temporary one and renaming it over, and a Kubernetes
 * ConfigMap volume swaps a {@code ..data} symlink to a new timestamped directory; a watch on the file itself (its
 * inode) sees neither. Any event in the directory schedules a check {@link #DEBOUNCE} after the last one, so a file
 * still being written is not judged, and the content hash decides whether anything changed. The periodic check
 * ({@code policy.check_interval}) catches what no event reports (NFS, some overlay mounts, a watch that failed).
 *
 * <p>SIGHUP ({@code kill -HUP}) reloads every running proxy of the process; the handler only hands off to the reload
 * thread. Thread-safe; {@link #close} stops the threads.
 */
public final class PolicyWatcher implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(PolicyWatcher.class);
  /** Quiet time after the last directory event before the file is judged. */
  static final Duration DEBOUNCE = Duration.ofMillis(150);
  private static final Set<PolicyWatcher> SIGNALLED = new CopyOnWriteArraySet<>();
  private static boolean signalInstalled;

  private final PolicyInForce policy;
  private final ScheduledExecutorService reloads;
  private final WatchService watch;
  private final Path dir;
  private ScheduledFuture<?> pending;
  private volatile WatchKey key;

  private PolicyWatcher(PolicyInForce policy, ScheduledExecutorService reloads, WatchService watch, Path dir) {
    this.policy = policy;
    this.reloads = reloads;
    this.watch = watch;
    this.dir = dir;
  }

  /**
   * Starts the periodic check every {@code interval}, the directory watch when {@code watchDirectory}, and SIGHUP.
   * A directory that cannot be watched is a warning: the periodic check still applies changes.
   */
  public static PolicyWatcher start(PolicyInForce policy, boolean watchDirectory, Duration interval) {
    ScheduledExecutorService reloads = Executors.newSingleThreadScheduledExecutor(
        new DefaultThreadFactory("vp-policy-reload", true));
    Path dir = policy.file().toAbsolutePath().getParent();
    WatchService ws = null;
    if (watchDirectory) {
      try {
        ws = FileSystems.getDefault().newWatchService();
      } catch (IOException e) {
        log.warn("policy.watch: cannot watch {} ({}); changes apply within policy.check_interval ({}s)", dir, e,
            interval.toSeconds());
      }
    }
    PolicyWatcher w = new PolicyWatcher(policy, reloads, ws, dir);
    if (ws != null) {
      w.register();
      Thread t = new Thread(w::watchLoop, "vp-policy-watch");
      t.setDaemon(true);
      t.start();
    }
    long ms = interval.toMillis();
    reloads.scheduleWithFixedDelay(w::poll, ms, ms, TimeUnit.MILLISECONDS);
    SIGNALLED.add(w);
    installSignal();
    return w;
  }

  private void register() {
    try {
      key = dir.register(watch, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY,
          StandardWatchEventKinds.ENTRY_DELETE);
    } catch (IOException | ClosedWatchServiceException e) {
      log.warn("policy.watch: cannot watch {} ({}); changes apply within policy.check_interval", dir, e.toString());
    }
  }

  private void watchLoop() {
    while (true) {
      WatchKey k;
      try {
        k = watch.take();
      } catch (InterruptedException | ClosedWatchServiceException e) {
        return;
      }
      k.pollEvents(); // which entry changed does not matter: the content hash decides, after the debounce
      k.reset();
      debounce();
    }
  }

  private synchronized void debounce() {
    if (pending != null) {
      pending.cancel(false);
    }
    try {
      pending = reloads.schedule(() -> check(PolicyInForce.Trigger.WATCH), DEBOUNCE.toMillis(), TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException closed) {
      // closing
    }
  }

  private void poll() {
    if (watch != null && (key == null || !key.isValid())) {
      register(); // the directory was replaced or the first registration failed: try again
    }
    check(PolicyInForce.Trigger.POLL);
  }

  private void check(PolicyInForce.Trigger trigger) {
    try {
      policy.reloadIfChanged(trigger);
    } catch (RuntimeException e) {
      log.error("policy reload ({}) failed unexpectedly; {} stays in force", trigger.code(), policy.get().version(), e);
    }
  }

  private void signalled() {
    try {
      reloads.execute(() -> {
        try {
          policy.reload(PolicyInForce.Trigger.SIGNAL);
        } catch (Exception refused) {
          // logged, counted and shown by PolicyInForce
        }
      });
    } catch (RejectedExecutionException closed) {
      // closing
    }
  }

  /** Installs the process's SIGHUP handler once; it reloads every running watcher's policy. */
  private static synchronized void installSignal() {
    if (signalInstalled) {
      return;
    }
    try {
      HangupSignal.handle(() -> SIGNALLED.forEach(PolicyWatcher::signalled));
      signalInstalled = true;
    } catch (IllegalStateException e) {
      // -Xrs, or a platform without SIGHUP: the watcher, the periodic check and the admin endpoint remain
      log.warn("SIGHUP cannot reload the policy here ({}); use the admin endpoint or edit the file", e.getMessage());
    }
  }

  @Override
  public void close() {
    SIGNALLED.remove(this);
    reloads.shutdownNow();
    if (watch != null) {
      try {
        watch.close();
      } catch (IOException e) {
        log.debug("closing the policy watch: {}", e.toString());
      }
    }
  }
}

package dev.vertexproxy.proxy.cli;

import dev.vertexproxy.proxy.logging.LogSetup;
import java.util.concurrent.CountDownLatch;

/**
 * How a long-running command ends: on SIGTERM or SIGINT the JVM's shutdown hook stops what runs (the proxy drains),
 * then flushes the log queue so the drain's last lines are written before the JVM exits. Shared by {@code serve} and
 * the distribution's {@code dev}.
 */
public final class UntilShutdown {
  private UntilShutdown() {
  }

  /** Blocks until the process is asked to stop, which runs {@code stop} on the hook thread {@code threadName}. */
  public static void await(Runnable stop, String threadName) throws InterruptedException {
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      stop.run();
      LogSetup.flush(); // the drain's last lines, before the JVM exits
      stopped.countDown();
    }, threadName));
    stopped.await();
  }
}

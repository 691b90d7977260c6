package dev.vertexproxy.proxy.logging;

import ch.qos.logback.classic.AsyncAppender;
import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.ConsoleAppender;
import dev.vertexproxy.proxy.config.ProxyConfig;
import java.io.Console;
import java.lang.reflect.Method;
import java.util.Locale;
import org.slf4j.ILoggerFactory;
import org.slf4j.LoggerFactory;

/**
 * Applies proxy.yaml's {@code logging} section to Logback when {@code serve} (or dev mode) starts: the console appender
 * is replaced by one with the configured format and trace project, the root level is set, and the access logger
 * ({@link #ACCESS_LOGGER}) is switched on or off. Until then {@code logback.xml}'s defaults hold (INFO, format auto,
 * access log off). Other appenders on the root logger are left alone. Idempotent; call from one thread at start-up.
 *
 * <p>The console is written through a queue ({@link AsyncAppender}, never blocking): log calls come from event loops,
 * and a stderr pipe that a slow log collector stops draining must not stall every exchange on that loop. Under such
 * backpressure lines are dropped — INFO and below first — rather than waited for. {@link #flush} empties the queue at
 * shutdown.
 */
public final class LogSetup {
  /** The logger of the access log, one line per exchange; off unless {@code logging.access_log} is true. */
  public static final String ACCESS_LOGGER = "vertex_proxy.access";
  static final String CONSOLE = "console";
  private static final int QUEUE = 8192;
  private static volatile ProxyConfig.Logging applied;

  private LogSetup() {
  }

  /**
   * Whether the JVM runs on a terminal. Up to Java 21 a console exists only then; from Java 22 {@link System#console}
   * also returns one when the streams are redirected (a container), and only {@code Console.isTerminal()} tells.
   */
  static boolean onTerminal() {
    Console console = System.console();
    if (console == null) {
      return false;
    }
    try {
      Method isTerminal = Console.class.getMethod("isTerminal");
      return Boolean.TRUE.equals(isTerminal.invoke(console));
    } catch (NoSuchMethodException beforeJava22) {
      return true;
    } catch (ReflectiveOperationException | RuntimeException e) {
      return false; // cannot tell: JSON, the format for machines, is the safe side
    }
  }

  /**
   * Reconfigures Logback from {@code logging}; does nothing when another SLF4J backend is bound (embedding).
   *
   * @return whether Logback was configured
   */
  public static boolean apply(ProxyConfig.Logging logging) {
    ILoggerFactory factory = LoggerFactory.getILoggerFactory();
    if (!(factory instanceof LoggerContext context)) {
      return false;
    }
    Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    applied = logging;
    AsyncAppender console = new AsyncAppender();
    console.setContext(context);
    console.setName(CONSOLE);
    console.setQueueSize(QUEUE);
    console.setNeverBlock(true);
    console.addAppender(stderr(context, logging, "stderr"));
    console.start();
    Appender<ILoggingEvent> old = root.getAppender(CONSOLE);
    root.addAppender(console);
    if (old != null && old != console) {
      root.detachAppender(old);
      old.stop();
    }
    root.setLevel(Level.toLevel(logging.level().name(), Level.INFO));
    context.getLogger(ACCESS_LOGGER).setLevel(logging.accessLog() ? Level.INFO : Level.OFF);
    return true;
  }

  /**
   * Writes out what the console queue still holds (at shutdown, before the JVM exits); lines logged afterwards go to
   * stderr directly.
   */
  public static void flush() {
    ProxyConfig.Logging logging = applied;
    if (logging != null && LoggerFactory.getILoggerFactory() instanceof LoggerContext context) {
      Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
      if (root.getAppender(CONSOLE) instanceof AsyncAppender async) {
        root.addAppender(stderr(context, logging, CONSOLE));
        root.detachAppender(async);
        async.stop(); // drains the queue into stderr, bounded by its flush time
      }
    }
  }

  private static ConsoleAppender<ILoggingEvent> stderr(LoggerContext context, ProxyConfig.Logging logging, String name) {
    LogLineEncoder encoder = new LogLineEncoder();
    encoder.setContext(context);
    encoder.setFormat(logging.format().name().toLowerCase(Locale.ROOT));
    encoder.setTraceProject(logging.traceProject());
    encoder.start();
    ConsoleAppender<ILoggingEvent> stderr = new ConsoleAppender<>();
    stderr.setContext(context);
    stderr.setName(name);
    stderr.setTarget("System.err");
    stderr.setEncoder(encoder);
    stderr.start();
    return stderr;
  }
}

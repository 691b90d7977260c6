package dev.vertexproxy.proxy.logging;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.AsyncAppender;
import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.ConsoleAppender;
import dev.vertexproxy.proxy.config.ProxyConfig;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** proxy.yaml's logging section applied to the process's Logback. */
class LogSetupTest {
  private static LoggerContext context() {
    return (LoggerContext) LoggerFactory.getILoggerFactory();
  }

  private static LogLineEncoder encoderOf(Appender<ILoggingEvent> appender) {
    ConsoleAppender<ILoggingEvent> stderr = appender instanceof AsyncAppender a
        ? (ConsoleAppender<ILoggingEvent>) a.getAppender("stderr") : (ConsoleAppender<ILoggingEvent>) appender;
    assertThat(stderr.getTarget()).isEqualTo("System.err");
    return (LogLineEncoder) stderr.getEncoder();
  }

  @Test
  void theSectionSetsFormatLevelAndAccessLogAndAQueueKeepsEventLoopsFromWaitingOnStderr() {
    Logger root = context().getLogger(Logger.ROOT_LOGGER_NAME);
    try {
      assertThat(LogSetup.apply(new ProxyConfig.Logging(ProxyConfig.LogFormat.TEXT, ProxyConfig.LogLevel.WARN, true, null)))
          .isTrue();
      assertThat(root.getLevel()).isEqualTo(Level.WARN);
      assertThat(context().getLogger(LogSetup.ACCESS_LOGGER).isInfoEnabled()).isTrue();
      AsyncAppender async = (AsyncAppender) root.getAppender(LogSetup.CONSOLE);
      assertThat(async.isStarted()).isTrue();
      assertThat(encoderOf(async).json()).isFalse();

      LogSetup.apply(new ProxyConfig.Logging(ProxyConfig.LogFormat.JSON, ProxyConfig.LogLevel.INFO, false, "acme"));
      assertThat(async.isStarted()).as("the replaced appender is stopped").isFalse();
      assertThat(root.getLevel()).isEqualTo(Level.INFO);
      assertThat(context().getLogger(LogSetup.ACCESS_LOGGER).isInfoEnabled()).isFalse();
      assertThat(encoderOf(root.getAppender(LogSetup.CONSOLE)).json()).isTrue();

      LogSetup.flush();
      assertThat(root.getAppender(LogSetup.CONSOLE)).isInstanceOf(ConsoleAppender.class);
      assertThat(encoderOf(root.getAppender(LogSetup.CONSOLE)).json()).isTrue();
    } finally {
      LogSetup.apply(ProxyConfig.Logging.defaults());
    }
  }
}

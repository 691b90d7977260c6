package dev.vertexproxy.proxy.logging;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.OutputStreamAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.slf4j.MDC;

/** The line shapes, with what an attacker can put into a message: quotes, newlines, separators, fake fields. */
class LogLineEncoderTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String HOSTILE =
      "tool said \"hi\"\n{\"severity\":\"ERROR\",\"message\":\"forged\"}\r\n\u2028next\u0000\u001b[31m";

  /** A private Logback context writing with the encoder into memory. */
  private static final class Capture {
    final LoggerContext context = new LoggerContext();
    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final Logger logger;

    Capture(String format, String project) {
      context.setMDCAdapter(MDC.getMDCAdapter()); // the one RequestLog writes to
      LogLineEncoder encoder = new LogLineEncoder();
      encoder.setContext(context);
      encoder.setFormat(format);
      encoder.setTraceProject(project);
      encoder.start();
      OutputStreamAppender<ILoggingEvent> appender = new OutputStreamAppender<>();
      appender.setContext(context);
      appender.setEncoder(encoder);
      appender.setOutputStream(out);
      appender.start();
      logger = context.getLogger("dev.vertexproxy.test.Thing");
      logger.addAppender(appender);
      logger.setLevel(Level.TRACE);
    }

    List<String> lines() {
      String s = out.toString(StandardCharsets.UTF_8);
      assertThat(s).as("%s", context.getStatusManager().getCopyOfStatusList()).endsWith("\n");
      return List.of(s.split("\n", -1)).subList(0, s.split("\n", -1).length - 1);
    }

    List<JsonNode> json() throws Exception {
      List<JsonNode> out = new ArrayList<>();
      for (String line : lines()) {
        out.add(JSON.readTree(line));
      }
      return out;
    }
  }

  @Test
  void jsonCarriesCloudLoggingsFields() throws Exception {
    Capture c = new Capture("json", "acme-ml-prod");
    RequestLog.of("req-1", "4bf92f3577b34da6a3ce929d0e0e4736").run(() -> c.logger.info("upstream said {}", "no"));
    JsonNode line = c.json().get(0);
    assertThat(line.get("severity").asText()).isEqualTo("INFO");
    assertThat(line.get("logger").asText()).isEqualTo("dev.vertexproxy.test.Thing");
    assertThat(line.get("thread").asText()).isEqualTo(Thread.currentThread().getName());
    assertThat(line.get("message").asText()).isEqualTo("upstream said no");
    assertThat(line.get("request_id").asText()).isEqualTo("req-1");
    assertThat(line.get("logging.googleapis.com/trace").asText())
        .isEqualTo("projects/acme-ml-prod/traces/4bf92f3577b34da6a3ce929d0e0e4736");
    assertThat(line.get("timestamp").asText()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{6}Z");
    assertThat(Instant.parse(line.get("timestamp").asText())).isBeforeOrEqualTo(Instant.now());
    assertThat(line.has("exception")).isFalse();
  }

  @Test
  void severitiesAreCloudLoggingsNames() throws Exception {
    Capture c = new Capture("json", null);
    c.logger.trace("t");
    c.logger.debug("d");
    c.logger.info("i");
    c.logger.warn("w");
    c.logger.error("e");
    assertThat(c.json()).extracting(n -> n.get("severity").asText())
        .containsExactly("DEBUG", "DEBUG", "INFO", "WARNING", "ERROR");
  }

  @Test
  void withoutAProjectOrATraceThereIsNoTraceFieldAndOutsideARequestNoRequestId() throws Exception {
    Capture c = new Capture("json", null);
    RequestLog.of("req-1", "4bf92f3577b34da6a3ce929d0e0e4736").run(() -> c.logger.info("a"));
    Capture d = new Capture("json", "acme-ml-prod");
    RequestLog.of("req-2", null).run(() -> d.logger.info("b"));
    d.logger.info("c");
    assertThat(c.json().get(0).has("logging.googleapis.com/trace")).isFalse();
    assertThat(d.json().get(0).has("logging.googleapis.com/trace")).isFalse();
    assertThat(d.json().get(1).has("request_id")).isFalse();
  }

  @Test
  void hostileTextStaysInsideOneJsonLine() throws Exception {
    Capture c = new Capture("json", null);
    RequestLog.of("req-\"x\n", null).run(() -> c.logger.warn("caller sent {}", HOSTILE, new IllegalStateException(HOSTILE)));
    List<String> lines = c.lines();
    assertThat(lines).hasSize(1);
    assertThat(lines.get(0)).matches("\\p{ASCII}+").doesNotContain("\u2028");
    JsonNode n = JSON.readTree(lines.get(0));
    assertThat(n.get("message").asText()).isEqualTo("caller sent " + HOSTILE);
    assertThat(n.get("severity").asText()).isEqualTo("WARNING");
    assertThat(n.get("request_id").asText()).isEqualTo("req-\"x\n");
    assertThat(n.get("exception").asText()).startsWith("java.lang.IllegalStateException: " + HOSTILE).contains("\tat ");
  }

  @Test
  void keyValuePairsBecomeFieldsButNeverReplaceTheFixedOnes() throws Exception {
    Capture c = new Capture("json", null);
    c.logger.atInfo().setMessage("GET / 200").addKeyValue("status", 200).addKeyValue("path", HOSTILE)
        .addKeyValue("severity", "DEBUG").addKeyValue("peer_ip", (Object) null).log();
    JsonNode n = c.json().get(0);
    assertThat(n.get("status").isNumber()).isTrue();
    assertThat(n.get("path").asText()).isEqualTo(HOSTILE);
    assertThat(n.get("severity").asText()).isEqualTo("INFO");
    assertThat(n.get("peer_ip").isNull()).isTrue();
  }

  @Test
  void textIsOneLinePerEventWithControlCharactersEscaped() {
    Capture c = new Capture("text", null);
    RequestLog.of("req-7", null).run(() -> c.logger.info("caller sent {}", HOSTILE));
    c.logger.atInfo().setMessage("access").addKeyValue("path", "/a\nb").log();
    List<String> lines = c.lines();
    assertThat(lines).hasSize(2);
    assertThat(lines.get(0)).contains(" INFO ", "Thing - caller sent tool said \"hi\"\\n{", "\\u2028next\\u0000\\u001b[31m",
        "request_id=req-7");
    assertThat(lines.get(1)).endsWith("access path=/a\\nb");
  }

  @Test
  void theShippedConfigurationWritesWithThisEncoderAndKeepsTheAccessLogOff() throws Exception {
    LoggerContext context = new LoggerContext();
    context.setMDCAdapter(MDC.getMDCAdapter());
    JoranConfigurator j = new JoranConfigurator();
    j.setContext(context);
    j.doConfigure(LogLineEncoderTest.class.getResource("/logback.xml"));
    Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    assertThat(root.getLevel()).isEqualTo(Level.INFO);
    ConsoleAppender<ILoggingEvent> console = (ConsoleAppender<ILoggingEvent>) root.getAppender(LogSetup.CONSOLE);
    assertThat(console.getEncoder()).isInstanceOf(LogLineEncoder.class);
    assertThat(console.getTarget()).isEqualTo("System.err");
    // surefire has no terminal: auto means JSON, as in a container
    assertThat(((LogLineEncoder) console.getEncoder()).json()).isTrue();
    assertThat(context.getLogger(LogSetup.ACCESS_LOGGER).isInfoEnabled()).isFalse();
    context.stop();
  }

  @Test
  void requestContextsNestAndRestoreEvenWhenTheWorkThrows() {
    MDC.clear();
    RequestLog.of("outer", "4bf92f3577b34da6a3ce929d0e0e4736").run(() -> {
      try {
        RequestLog.of("inner", null).run(() -> {
          assertThat(MDC.get(RequestLog.REQUEST_ID)).isEqualTo("inner");
          assertThat(MDC.get(RequestLog.TRACE)).isNull();
          throw new IllegalStateException("boom");
        });
      } catch (IllegalStateException expected) {
        // the inner work failed; the outer request's ids are back
      }
      assertThat(MDC.get(RequestLog.REQUEST_ID)).isEqualTo("outer");
      assertThat(MDC.get(RequestLog.TRACE)).isEqualTo("4bf92f3577b34da6a3ce929d0e0e4736");
      RequestLog.none().run(() -> assertThat(MDC.get(RequestLog.REQUEST_ID)).isEqualTo("outer"));
      assertThat(RequestLog.current()).isEqualTo(RequestLog.of("outer", "4bf92f3577b34da6a3ce929d0e0e4736"));
    });
    assertThat(MDC.get(RequestLog.REQUEST_ID)).isNull();
    assertThat(MDC.get(RequestLog.TRACE)).isNull();
    assertThat(RequestLog.current()).isEqualTo(RequestLog.none());
  }

  @Test
  void traceIdsAreAcceptedOnlyInTheirExactForms() {
    String id = "4bf92f3577b34da6a3ce929d0e0e4736";
    assertThat(RequestLog.traceId("00-" + id + "-00f067aa0ba902b7-01", null)).isEqualTo(id);
    assertThat(RequestLog.traceId(null, id + "/123;o=1")).isEqualTo(id);
    assertThat(RequestLog.traceId(null, id.toUpperCase())).isEqualTo(id);
    assertThat(RequestLog.traceId(null, id + ";o=1")).isEqualTo(id);
    // traceparent wins; a bad one falls back to X-Cloud-Trace-Context
    assertThat(RequestLog.traceId("00-" + id + "-00f067aa0ba902b7-01", "a".repeat(32))).isEqualTo(id);
    assertThat(RequestLog.traceId("garbage", "a".repeat(32))).isEqualTo("a".repeat(32));
    for (String bad : List.of("00-" + "0".repeat(32) + "-00f067aa0ba902b7-01", "00-" + id + "-0000000000000000-01",
        "01-" + id + "-00f067aa0ba902b7-01", "00-" + id.toUpperCase() + "-00f067aa0ba902b7-01",
        "00-" + id + "-00f067aa0ba902b7-01-extra", "00-" + id.substring(1) + "\"-00f067aa0ba902b7-01",
        "00-" + id + "-00f067aa0ba902b7-0g")) {
      assertThat(RequestLog.traceId(bad, null)).as(bad).isNull();
    }
    for (String bad : List.of("", "0".repeat(32), id + "x", "\"" + id.substring(1), id.substring(0, 31) + "/",
        "../projects/other/traces/" + id, id.substring(0, 31) + "g")) {
      assertThat(RequestLog.traceId(null, bad)).as(bad).isNull();
    }
  }
}

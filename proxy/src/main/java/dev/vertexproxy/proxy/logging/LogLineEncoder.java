package dev.vertexproxy.proxy.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.encoder.EncoderBase;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.slf4j.event.KeyValuePair;

/**
 * One log event, one line: Google Cloud Logging's structured form in JSON, or a plain line for a terminal.
 *
 * <p>JSON carries {@code timestamp} (RFC 3339, UTC, microseconds), {@code severity} (DEBUG, INFO, WARNING, ERROR),
 * {@code logger}, {@code thread}, {@code message}, the request's {@code request_id} and
 * {@code logging.googleapis.com/trace} when the event is about a request ({@link RequestLog}), the event's key-value
 * pairs as top-level fields (the access log's), and {@code exception} with the stack trace text. Every string goes
 * through Jackson with non-ASCII escaped, so nothing a caller puts into a message — a newline, a quote, U+2028 — can end
 * the line or add a field. The text form escapes control characters in the message and values for the same reason; only
 * a stack trace, which is ours, spans lines there.
 *
 * <p>Configured from {@code logback.xml} (format {@code auto}) before proxy.yaml is read, and by {@link LogSetup} after.
 * Thread-safe once started (logback serialises calls per appender; the encoder keeps no per-event state).
 */
public final class LogLineEncoder extends EncoderBase<ILoggingEvent> {
  private static final JsonFactory JSON = JsonFactory.builder().enable(JsonWriteFeature.ESCAPE_NON_ASCII).build();
  private static final DateTimeFormatter TIMESTAMP =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSSX", Locale.ROOT).withZone(ZoneOffset.UTC);
  private static final byte[] NOTHING = new byte[0];
  /** The fields a key-value pair may not set: they are the encoder's. */
  private static final List<String> RESERVED = List.of("timestamp", "severity", "logger", "thread", "message",
      "request_id", "logging.googleapis.com/trace", "exception");

  private boolean json = true;
  private String traceProject;

  /** {@code json}, {@code text}, or {@code auto}: text when the JVM has a console (a terminal), JSON otherwise. */
  public void setFormat(String format) {
    json = switch (format.toLowerCase(Locale.ROOT)) {
      case "json" -> true;
      case "text" -> false;
      case "auto" -> !LogSetup.onTerminal();
      default -> throw new IllegalArgumentException("format: " + format + " (expected: json, text, auto)");
    };
  }

  /** The project of {@code logging.googleapis.com/trace}; without it the field is left out. */
  public void setTraceProject(String project) {
    this.traceProject = project;
  }

  boolean json() {
    return json;
  }

  @Override
  public byte[] headerBytes() {
    return NOTHING;
  }

  @Override
  public byte[] footerBytes() {
    return NOTHING;
  }

  @Override
  public byte[] encode(ILoggingEvent event) {
    try {
      return json ? jsonLine(event) : textLine(event);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Cloud Logging's names: its severities have no TRACE, and WARN is WARNING. */
  static String severity(Level level) {
    return switch (level.toInt()) {
      case Level.ERROR_INT -> "ERROR";
      case Level.WARN_INT -> "WARNING";
      case Level.INFO_INT -> "INFO";
      default -> "DEBUG";
    };
  }

  private byte[] jsonLine(ILoggingEvent e) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream(256);
    try (JsonGenerator g = JSON.createGenerator(out)) {
      g.writeStartObject();
      g.writeStringField("timestamp", TIMESTAMP.format(instant(e)));
      g.writeStringField("severity", severity(e.getLevel()));
      g.writeStringField("logger", e.getLoggerName());
      g.writeStringField("thread", e.getThreadName());
      g.writeStringField("message", e.getFormattedMessage());
      Map<String, String> mdc = e.getMDCPropertyMap();
      String requestId = mdc.get(RequestLog.REQUEST_ID);
      if (requestId != null) {
        g.writeStringField("request_id", requestId);
      }
      String trace = mdc.get(RequestLog.TRACE);
      if (trace != null && traceProject != null) {
        g.writeStringField("logging.googleapis.com/trace", "projects/" + traceProject + "/traces/" + trace);
      }
      List<KeyValuePair> kvs = e.getKeyValuePairs();
      if (kvs != null) {
        for (KeyValuePair kv : kvs) {
          if (RESERVED.contains(kv.key)) {
            continue; // a pair never overwrites the fields above
          }
          g.writeFieldName(kv.key);
          if (kv.value instanceof Number n && !(kv.value instanceof Double || kv.value instanceof Float)) {
            g.writeNumber(n.longValue());
          } else if (kv.value == null) {
            g.writeNull();
          } else {
            g.writeString(String.valueOf(kv.value));
          }
        }
      }
      IThrowableProxy t = e.getThrowableProxy();
      if (t != null) {
        g.writeStringField("exception", ThrowableProxyUtil.asString(t));
      }
      g.writeEndObject();
    }
    out.write('\n');
    return out.toByteArray();
  }

  private byte[] textLine(ILoggingEvent e) {
    StringBuilder b = new StringBuilder(160);
    b.append(TIMESTAMP.format(instant(e))).append(' ');
    String level = e.getLevel().toString();
    b.append(level).append(" ".repeat(Math.max(1, 6 - level.length())));
    b.append('[').append(e.getThreadName()).append("] ");
    String logger = e.getLoggerName();
    b.append(logger.substring(logger.lastIndexOf('.') + 1)).append(" - ");
    escape(b, e.getFormattedMessage());
    String requestId = e.getMDCPropertyMap().get(RequestLog.REQUEST_ID);
    if (requestId != null) {
      b.append(" request_id=");
      escape(b, requestId);
    }
    List<KeyValuePair> kvs = e.getKeyValuePairs();
    if (kvs != null) {
      for (KeyValuePair kv : kvs) {
        b.append(' ').append(kv.key).append('=');
        escape(b, String.valueOf(kv.value));
      }
    }
    b.append('\n');
    IThrowableProxy t = e.getThrowableProxy();
    if (t != null) {
      b.append(ThrowableProxyUtil.asString(t)).append('\n');
    }
    return b.toString().getBytes(StandardCharsets.UTF_8);
  }

  /** Control characters (and the Unicode line separators) as escapes, so a value cannot start a line of its own. */
  private static void escape(StringBuilder b, String s) {
    if (s == null) {
      b.append("null");
      return;
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '\n') {
        b.append("\\n");
      } else if (c == '\r') {
        b.append("\\r");
      } else if (c == '\t') {
        b.append("\\t");
      } else if (c < 0x20 || c == 0x7f || c == '\u2028' || c == '\u2029' || c == '\u0085') {
        b.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
      } else {
        b.append(c);
      }
    }
  }

  private static Instant instant(ILoggingEvent e) {
    Instant i = e.getInstant();
    return i != null ? i : Instant.ofEpochMilli(e.getTimeStamp());
  }
}

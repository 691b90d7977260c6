package dev.vertexproxy.proxy.logging;

import java.util.Locale;
import org.slf4j.MDC;

/**
 * Which request a log line is about. Netty's event loops interleave many exchanges on one thread, so the request's id
 * (and its trace id) sit in the MDC only for the duration of one piece of that request's work: {@link Context#run}
 * puts them there, runs the work, and puts back exactly what was there before — another request's ids or nothing — even
 * when the work throws. Nested runs (the driver calling the relay) therefore unwind correctly, and nothing is left
 * behind between callbacks. Code that continues a request on another thread or in a later callback captures the
 * {@link Context} ({@link #current}) and runs in it there.
 *
 * <p>The trace id comes from the caller's W3C {@code traceparent} or Google's {@code X-Cloud-Trace-Context} and is
 * attacker input: only 32 lower-case hex digits, not all zero, are accepted ({@link #traceId}); anything else is no
 * trace. Immutable and thread-safe.
 */
public final class RequestLog {
  /** MDC key of the request id. */
  public static final String REQUEST_ID = "request_id";
  /** MDC key of the trace id (the 32 hex digits only; the encoder adds the project). */
  public static final String TRACE = "trace";

  private static final Context NONE = new Context(null, null);

  private RequestLog() {
  }

  /** A request's log identity: its id, and the caller's trace id or {@code null}. */
  public record Context(String requestId, String traceId) {
    /** Runs {@code work} with this request's ids in the MDC, then restores the MDC as it was; the empty context only runs it. */
    public void run(Runnable work) {
      if (requestId == null) {
        work.run();
        return;
      }
      String prevId = MDC.get(REQUEST_ID);
      String prevTrace = MDC.get(TRACE);
      set(REQUEST_ID, requestId);
      set(TRACE, traceId);
      try {
        work.run();
      } finally {
        set(REQUEST_ID, prevId);
        set(TRACE, prevTrace);
      }
    }
  }

  /** The context of no request: running in it changes nothing. */
  public static Context none() {
    return NONE;
  }

  public static Context of(String requestId, String traceId) {
    return new Context(requestId, traceId);
  }

  /** The ids in force on this thread now (for a callback that will run later), or an empty context. */
  public static Context current() {
    String id = MDC.get(REQUEST_ID);
    return id == null ? NONE : new Context(id, MDC.get(TRACE));
  }

  /**
   * The trace id of a request: {@code traceparent} ({@code 00-<32 hex>-<16 hex>-<2 hex>}) when valid, else
   * {@code X-Cloud-Trace-Context} ({@code <32 hex>[/<span>][;o=<n>]}) when its trace id is valid, else {@code null}.
   */
  public static String traceId(String traceparent, String cloudTraceContext) {
    if (traceparent != null) {
      String t = traceparent.trim();
      if (t.length() == 55 && t.startsWith("00-") && t.charAt(35) == '-' && t.charAt(52) == '-'
          && hex(t, 36, 52) && hex(t, 53, 55) && validTrace(t.substring(3, 35)) && !t.substring(36, 52).equals("0".repeat(16))) {
        return t.substring(3, 35);
      }
    }
    if (cloudTraceContext != null) {
      String c = cloudTraceContext.trim();
      int end = c.indexOf('/');
      String id = (end < 0 ? c : c.substring(0, end)).toLowerCase(Locale.ROOT);
      if (end < 0 && c.indexOf(';') >= 0) {
        id = c.substring(0, c.indexOf(';')).toLowerCase(Locale.ROOT);
      }
      if (validTrace(id)) {
        return id;
      }
    }
    return null;
  }

  private static boolean validTrace(String id) {
    return id.length() == 32 && hex(id, 0, 32) && !id.equals("0".repeat(32));
  }

  private static boolean hex(String s, int from, int to) {
    for (int i = from; i < to; i++) {
      char c = s.charAt(i);
      if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f')) {
        return false;
      }
    }
    return true;
  }

  private static void set(String key, String value) {
    if (value == null) {
      MDC.remove(key);
    } else {
      MDC.put(key, value);
    }
  }
}

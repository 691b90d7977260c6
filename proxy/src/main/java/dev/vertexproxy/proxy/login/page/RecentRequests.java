package dev.vertexproxy.proxy.login.page;

import dev.vertexproxy.proxy.audit.AuditEvent;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;

/**
 * The last few audit events of each caller on this replica, for the "my recent requests" part of the page: fed with
 * every event the exchange recorder hands the audit log, read by the page for the signed-in person's issuer and
 * subject. Memory only, bounded twice — {@code perCaller} events for each of at most {@code callers} callers, the
 * caller not seen for longest forgotten first — so it is a convenience, not evidence: the audit trail is the record,
 * and another replica's requests, or any from before a restart, are not here.
 *
 * <p>The proxy's own pages and endpoints ({@code /_proxy/…}, {@code /.well-known/…}) are left out: a person wants to
 * see their Vertex calls, not their page loads. Events are immutable and hold no token, cookie or secret.
 * Thread-safe: {@link #record} is called on event loops, {@link #of} from the page.
 */
public final class RecentRequests {
  private final int perCaller;
  private final int callers;
  private final LinkedHashMap<String, ArrayDeque<AuditEvent>> byCaller = new LinkedHashMap<>(16, 0.75f, true);

  /** @param perCaller events kept per caller; {@code callers} the most callers kept at once */
  public RecentRequests(int perCaller, int callers) {
    if (perCaller < 1 || callers < 1) {
      throw new IllegalArgumentException("both bounds must be positive");
    }
    this.perCaller = perCaller;
    this.callers = callers;
  }

  /** Remembers {@code event} for its caller; events without a verified caller, or for reserved paths, are skipped. */
  public void record(AuditEvent event) {
    if (event.callerIssuer() == null || event.callerSubject() == null || reserved(event.path())) {
      return;
    }
    String key = key(event.callerIssuer(), event.callerSubject());
    synchronized (byCaller) {
      ArrayDeque<AuditEvent> events = byCaller.computeIfAbsent(key, k -> new ArrayDeque<>());
      events.addFirst(event);
      while (events.size() > perCaller) {
        events.removeLast();
      }
      Iterator<String> eldest = byCaller.keySet().iterator();
      while (byCaller.size() > callers) {
        eldest.next();
        eldest.remove();
      }
    }
  }

  /** The remembered events of the caller {@code (issuer, subject)}, newest first. */
  public List<AuditEvent> of(String issuer, String subject) {
    synchronized (byCaller) {
      ArrayDeque<AuditEvent> events = byCaller.get(key(issuer, subject));
      return events == null ? List.of() : List.copyOf(new ArrayList<>(events));
    }
  }

  private static boolean reserved(String path) {
    return path != null && (path.startsWith("/_proxy/") || path.startsWith("/.well-known/"));
  }

  private static String key(String issuer, String subject) {
    return issuer + '\u0000' + subject;
  }

  /** How many callers are remembered (for tests). */
  int callers() {
    synchronized (byCaller) {
      return byCaller.size();
    }
  }
}

package dev.vertexproxy.proxy.login.page;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vertexproxy.proxy.audit.AuditEvent;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RecentRequestsTest {
  private static AuditEvent event(String issuer, String subject, String path, String id) {
    return new AuditEvent(Instant.parse("2026-03-01T10:00:00Z"), id, issuer, subject, Map.of(), "127.0.0.1", "POST", path,
        null, "publishers.models.generateContent", "v1", null, "p", "us-central1", "allow", "r", "allowed", null, 200, 3,
        10, 20, "v", null);
  }

  @Test
  void keepsTheNewestFewPerCallerNewestFirst() {
    RecentRequests recent = new RecentRequests(2, 10);
    recent.record(event("humans", "alice", "/v1/x", "1"));
    recent.record(event("humans", "alice", "/v1/x", "2"));
    recent.record(event("humans", "alice", "/v1/x", "3"));
    recent.record(event("humans", "bob", "/v1/x", "4"));
    assertThat(recent.of("humans", "alice")).extracting(AuditEvent::requestId).containsExactly("3", "2");
    assertThat(recent.of("humans", "bob")).extracting(AuditEvent::requestId).containsExactly("4");
    assertThat(recent.of("gitlab", "alice")).isEmpty();
  }

  @Test
  void forgetsTheCallerNotSeenForLongestBeyondItsBound() {
    RecentRequests recent = new RecentRequests(5, 2);
    recent.record(event("humans", "a", "/v1/x", "1"));
    recent.record(event("humans", "b", "/v1/x", "2"));
    recent.of("humans", "a");
    recent.record(event("humans", "a", "/v1/x", "3"));
    recent.record(event("humans", "c", "/v1/x", "4"));
    assertThat(recent.callers()).isEqualTo(2);
    assertThat(recent.of("humans", "b")).isEmpty();
    assertThat(recent.of("humans", "a")).hasSize(2);
  }

  @Test
  void skipsAnonymousEventsAndTheProxysOwnPages() {
    RecentRequests recent = new RecentRequests(5, 5);
    recent.record(event(null, null, "/v1/x", "1"));
    recent.record(event("humans", "a", "/_proxy/", "2"));
    recent.record(event("humans", "a", "/.well-known/openid-configuration", "3"));
    assertThat(recent.of("humans", "a")).isEmpty();
    assertThat(recent.callers()).isZero();
  }
}

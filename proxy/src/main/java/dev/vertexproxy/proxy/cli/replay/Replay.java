package dev.vertexproxy.proxy.cli.replay;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vertexproxy.policy.Caller;
import dev.vertexproxy.policy.Decision;
import dev.vertexproxy.policy.Policy;
import dev.vertexproxy.policy.Reasons;
import dev.vertexproxy.policy.RequestRouter;
import dev.vertexproxy.policy.Rule;
import dev.vertexproxy.policy.route.Route;
import dev.vertexproxy.policy.route.RouteException;
import dev.vertexproxy.proxy.audit.SecretNames;
import dev.vertexproxy.proxy.cli.replay.ReplayReport.Example;
import dev.vertexproxy.proxy.cli.replay.ReplayReport.GroupKey;
import dev.vertexproxy.proxy.cli.replay.ReplayReport.Skip;
import dev.vertexproxy.proxy.cli.replay.ReplayReport.Verdict;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Re-decides recorded requests under a draft policy and compares each with what was recorded: the core of
 * {@code vertex-proxy policy replay}, callable on any records (a test's, {@code policy suggest}'s own output).
 *
 * <p>Design note. A request counts once. In {@code durability: sync} an allowed call has a {@code decision} record
 * before its {@code exchange} record; the exchange record is authoritative, and a decision record whose exchange never
 * came (the proxy crashed in between) still counts. Decision records wait in a bounded map keyed by chain and request
 * id ({@value #PENDING_DECISIONS} at most; the oldest is replayed alone when it overflows), so memory stays flat for a
 * trail of any length. The caller is rebuilt from the record's {@code caller} and the route by routing the recorded
 * {@code http_method} and {@code path} (the query is recorded apart and does not change the route) through the same
 * router as {@code serve}. A record's claims may hold {@value SecretNames#REDACTED} where the token had a secret: a
 * draft rule for the caller's issuer and the request's method that constrains such a claim could decide either way,
 * so the request is reported undecidable, never guessed. That test ignores the rule's resources, so it errs towards
 * undecidable.
 *
 * <p>One instance replays one trail; not thread-safe.
 */
public final class Replay {
  /** Examples per group unless told otherwise. */
  public static final int DEFAULT_EXAMPLES = 3;
  static final int PENDING_DECISIONS = 65_536;
  private static final String EXCHANGE = "exchange";
  private static final String DECISION = "decision";
  private static final String ALLOW = "allow";
  private static final String DENY = "deny";
  private static final String RESERVED_PREFIX = "proxy.";

  private final Policy draft;
  private final RequestRouter router;
  private final ReplayReport report;
  private final LinkedHashMap<String, JsonNode> pending = new LinkedHashMap<>();

  /** A replay under {@code draft}, routing as {@code router} does, keeping up to {@code examples} per group. */
  public Replay(Policy draft, RequestRouter router, int examples) {
    if (examples < 0) {
      throw new IllegalArgumentException("examples: " + examples + " (expected: >= 0)");
    }
    this.draft = Objects.requireNonNull(draft, "draft");
    this.router = Objects.requireNonNull(router, "router");
    this.report = new ReplayReport(draft.version(), examples);
  }

  /** Replays every record, in trail order, and reports. */
  public static ReplayReport run(Iterable<? extends JsonNode> records, Policy draft, RequestRouter router,
      int examples) {
    Replay replay = new Replay(draft, router, examples);
    for (JsonNode record : records) {
      replay.accept(record);
    }
    return replay.finish();
  }

  /** Takes the next record of the trail (several trails: merged by time, as {@code audit query} reads them). */
  public void accept(JsonNode record) {
    if (record == null || !record.isObject()) {
      report.skip(Skip.NOT_A_REQUEST);
      return;
    }
    String type = text(record, "type");
    type = type == null ? EXCHANGE : type;
    String requestId = text(record, "request_id");
    String key = requestId == null ? null : chainOf(record) + '\n' + requestId;
    if (type.equals(DECISION)) {
      if (key == null) {
        decide(record);
        return;
      }
      pending.put(key, record);
      if (pending.size() > PENDING_DECISIONS) {
        Iterator<JsonNode> oldest = pending.values().iterator();
        JsonNode crashed = oldest.next();
        oldest.remove();
        decide(crashed);
      }
    } else if (type.equals(EXCHANGE)) {
      if (key != null) {
        pending.remove(key);
      }
      decide(record);
    } else {
      report.skip(Skip.NOT_A_REQUEST);
    }
  }

  /** Replays the decision records whose exchange never came, and returns the report. */
  public ReplayReport finish() {
    List<JsonNode> crashed = new ArrayList<>(pending.values());
    pending.clear();
    crashed.forEach(this::decide);
    return report;
  }

  private void decide(JsonNode record) {
    String method = text(record, "method");
    if (method != null && method.startsWith(RESERVED_PREFIX)) {
      report.skip(Skip.RESERVED_ROUTE);
      return;
    }
    JsonNode caller = record.get("caller");
    String issuer = caller == null ? null : text(caller, "issuer");
    String subject = caller == null ? null : text(caller, "subject");
    if (issuer == null || subject == null) {
      report.skip(Skip.UNAUTHENTICATED);
      return;
    }
    String httpMethod = text(record, "http_method");
    String path = text(record, "path");
    if (method == null || httpMethod == null || path == null) {
      report.skip(Skip.NOT_ROUTED);
      return;
    }
    String decision = text(record, "decision");
    String reason = text(record, "reason");
    boolean byPolicy = ALLOW.equals(decision) || (DENY.equals(decision) && reason != null
        && Reasons.ALL.contains(reason) && !reason.equals(Reasons.ALLOWED));
    if (!byPolicy) {
      report.skip(Skip.NOT_DECIDED_BY_POLICY);
      return;
    }
    // An allowed exchange's reason says how it ended (served, upstream-timeout): the policy's reason was "allowed".
    Verdict recorded = new Verdict(decision, text(record, "rule"), ALLOW.equals(decision) ? Reasons.ALLOWED : reason);
    Route route;
    try {
      route = path.contains(SecretNames.REDACTED) ? null : router.route(httpMethod, path);
    } catch (RouteException e) {
      report.skip(Skip.NOT_ROUTED);
      return;
    }
    report.recordedUnder(text(record, "policy_version"));
    JsonNode claimsNode = caller.path("claims");
    Map<String, Object> claims = Claims.of(claimsNode);
    GroupKey group = new GroupKey(issuer, cut(subject), cut(claimText(claims, "project_path")),
        cut(claimText(claims, "namespace_path")), method, text(record, "model"));
    if (route == null || subject.contains(SecretNames.REDACTED)
        || dependsOnRedacted(issuer, route, Claims.redactedNames(claimsNode))) {
      report.undecidable().add(group, example(record, recorded, null));
      if (!recorded.allowed()) {
        report.countUndecidableDenied();
      }
      return;
    }
    Decision d = draft.decide(new Caller(issuer, subject, claims), route);
    Verdict now = new Verdict(d.allowed() ? ALLOW : DENY, d.rule(), d.reason());
    if (recorded.allowed() != now.allowed()) {
      (now.allowed() ? report.newlyAllowed() : report.newlyDenied()).add(group, example(record, recorded, now));
    } else if (Objects.equals(recorded.rule(), now.rule()) && Objects.equals(recorded.reason(), now.reason())) {
      report.countUnchanged();
    } else {
      report.countRuleChanged();
    }
  }

  /** Whether a draft rule that could apply to this request constrains a claim the record holds redacted. */
  private boolean dependsOnRedacted(String issuer, Route route, Set<String> redacted) {
    if (redacted.isEmpty()) {
      return false;
    }
    String method = route.method().name();
    for (Rule rule : draft.rules()) {
      if ((rule.issuers().isEmpty() || rule.issuers().contains(issuer))
          && (rule.anyMethod() || rule.methods().contains(method))) {
        Set<String> names = new HashSet<>(rule.claimNames());
        names.retainAll(redacted);
        if (!names.isEmpty()) {
          return true;
        }
      }
    }
    return false;
  }

  private static Example example(JsonNode record, Verdict recorded, Verdict draft) {
    return new Example(text(record, "request_id"), text(record, "time"), text(record, "http_method"),
        text(record, "path"), recorded, draft);
  }

  private static String claimText(Map<String, Object> claims, String name) {
    Object value = claims.get(name);
    return value instanceof String s ? s : null;
  }

  static String cut(String value) {
    return value == null || value.length() <= ReplayReport.MAX_TEXT ? value
        : value.substring(0, ReplayReport.MAX_TEXT) + "...";
  }

  private static String chainOf(JsonNode record) {
    JsonNode chain = record.get("chain_id");
    return chain == null || !chain.isTextual() ? "" : chain.asText();
  }

  private static String text(JsonNode node, String key) {
    JsonNode value = node.get(key);
    return value == null || !value.isTextual() ? null : value.asText();
  }
}

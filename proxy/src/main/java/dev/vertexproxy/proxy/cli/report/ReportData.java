package dev.vertexproxy.proxy.cli.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vertexproxy.proxy.audit.AuditEvent;
import dev.vertexproxy.proxy.audit.AuditReader;
import dev.vertexproxy.proxy.audit.AuditVerifier.VerifyResult;
import dev.vertexproxy.proxy.audit.RecordFilter;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What {@code audit report} says about a period, gathered in one pass over the trails (merged by time) and then
 * rendered as text, Markdown or HTML. Calls are counted from {@code exchange} records only: in {@code durability:
 * sync} every call also has a {@code decision} record, which would count it twice. Records before the period are
 * read only to know whether an identity was seen before it.
 *
 * <p>Memory grows with the number of distinct identities, methods, models and service accounts, never with the number
 * of records: the denial list is capped, and time is counted in {@link TimeBuckets}. Not thread-safe.
 */
public final class ReportData {
  /** Denials listed in full; the rest are counted, with a query to list them. */
  public static final int DENIALS_SHOWN = 200;
  /** Identities of one service account listed by name. */
  static final int IDENTITIES_PER_ACCOUNT = 20;
  public static final String UNAUTHENTICATED = "(unauthenticated)";

  /** One chain (one directory): whether it verifies, and what it holds. */
  public record Chain(Path dir, String chainId, VerifyResult verify, long recordsInPeriod) {
  }

  /** Calls of one identity to one method of one model (or none). */
  public record CallKey(String identity, String method, String model) {
  }

  /** Counts for a {@link CallKey}. */
  public static final class Calls {
    public long calls;
    public long denied;
  }

  /** One refused call, as listed. */
  public record Denial(String time, String identity, String httpMethod, String method, String target, String reason,
      String rule, String status, String requestId, String chainId, String seq) {
  }

  /** An identity that called in the period: when first, how often, and whether the trail saw it before the period. */
  public static final class Identity {
    public String firstInPeriod;
    public long calls;
    public boolean seenBefore;
    public String firstEver;
  }

  /** One service account Google saw, and which identities it acted for. */
  public static final class Account {
    public long calls;
    public final Map<String, Long> identities = new TreeMap<>();
  }

  final List<Path> dirs;
  final Instant since;
  final Instant until;
  final Map<Integer, String> chainIdByDir = new HashMap<>();
  final Map<Integer, Long> recordsByDir = new HashMap<>();
  public final List<Chain> chains = new ArrayList<>();
  public long records;
  public long calls;
  public long denied;
  public String first;
  public String last;
  private Instant firstTime;
  private Instant lastTime;
  public final Map<String, Long> byType = new TreeMap<>();
  public final Map<String, Long> byDecision = new HashMap<>();
  public final Map<String, Long> byOutcome = new HashMap<>();
  public final Map<String, Long> byReason = new HashMap<>();
  public final Map<String, Long> byMethod = new HashMap<>();
  public final Map<String, Long> byCaller = new HashMap<>();
  public final Map<String, Long> byProjectPath = new HashMap<>();
  public final Map<String, Long> deniedByReason = new HashMap<>();
  public final Map<CallKey, Calls> byCall = new HashMap<>();
  /** Calls and denials per model the request path named; {@code ""} for calls that name none. */
  public final Map<String, Calls> byModel = new HashMap<>();
  public final List<Denial> denials = new ArrayList<>();
  public final Map<String, Identity> identities = new LinkedHashMap<>();
  private final Map<String, String> seenBefore = new HashMap<>();
  public final Map<String, Account> accounts = new TreeMap<>();
  /** Unavailable and failed calls by {@code outcome reason} (what went wrong on our side or Google's). */
  public final Map<String, Long> troubles = new HashMap<>();
  final TimeBuckets buckets = new TimeBuckets();

  public ReportData(List<Path> dirs, Instant since, Instant until) {
    this.dirs = List.copyOf(dirs);
    this.since = since;
    this.until = until;
  }

  public List<Path> dirs() {
    return dirs;
  }

  public Instant since() {
    return since;
  }

  public Instant until() {
    return until;
  }

  /** Takes the next record of the merged trails. */
  public void accept(AuditReader.Line line) {
    ObjectNode r = line.record();
    chainIdByDir.putIfAbsent(line.dir(), RecordFilter.chainOf(r));
    Instant time = AuditReader.timeOf(r);
    String identity = identity(r);
    if (since != null && time != null && time.isBefore(since)) {
      if (identity != null) {
        seenBefore.putIfAbsent(identity, r.path("time").asText());
      }
      return;
    }
    if (time == null ? since != null || until != null : until != null && !time.isBefore(until)) {
      return;
    }
    records++;
    recordsByDir.merge(line.dir(), 1L, Long::sum);
    String type = RecordFilter.typeOf(r);
    byType.merge(type, 1L, Long::sum);
    String timeText = r.path("time").asText("?");
    if (time != null && (firstTime == null || time.isBefore(firstTime))) {
      firstTime = time;
      first = timeText;
    }
    if (time != null && (lastTime == null || time.isAfter(lastTime))) {
      lastTime = time;
      last = timeText;
    }
    if (type.equals(AuditEvent.EXCHANGE)) {
      exchange(r, identity == null ? UNAUTHENTICATED : identity, time, timeText);
    }
  }

  private void exchange(ObjectNode r, String identity, Instant time, String timeText) {
    calls++;
    String decision = text(r, "decision", "(none)");
    boolean deny = decision.equals("deny");
    String method = text(r, "method", "(no method)");
    String model = text(r, "model", "");
    String reason = text(r, "reason", "(none)");
    byDecision.merge(decision, 1L, Long::sum);
    byOutcome.merge(text(r, "outcome", "(none)"), 1L, Long::sum);
    byReason.merge(reason, 1L, Long::sum);
    byMethod.merge(method, 1L, Long::sum);
    byCaller.merge(identity, 1L, Long::sum);
    JsonNode projectPath = r.path("caller").path("claims").path("project_path");
    if (projectPath.isTextual()) {
      byProjectPath.merge(projectPath.asText(), 1L, Long::sum);
    }
    Calls call = byCall.computeIfAbsent(new CallKey(identity, method, model), k -> new Calls());
    call.calls++;
    Calls ofModel = byModel.computeIfAbsent(model, k -> new Calls());
    ofModel.calls++;
    if (time != null) {
      buckets.add(time, deny);
    }
    if (deny) {
      denied++;
      call.denied++;
      ofModel.denied++;
      deniedByReason.merge(reason, 1L, Long::sum);
      if (denials.size() < DENIALS_SHOWN) {
        denials.add(new Denial(timeText, identity, text(r, "http_method", ""), text(r, "method", "-"),
            text(r, "model", text(r, "resource", "-")), reason, text(r, "rule", "-"), text(r, "status", ""),
            text(r, "request_id", "-"), RecordFilter.chainOf(r), text(r, "seq", "?")));
      }
    }
    String outcome = text(r, "outcome", "");
    if (outcome.equals("unavailable") || outcome.equals("failed")) {
      troubles.merge(outcome + " " + reason, 1L, Long::sum);
    }
    Identity seen = identities.computeIfAbsent(identity, k -> new Identity());
    if (seen.calls++ == 0) {
      seen.firstInPeriod = timeText;
      seen.firstEver = seenBefore.get(identity);
      seen.seenBefore = seen.firstEver != null;
    }
    String principal = text(r, "google_principal", null);
    if (principal != null) {
      Account account = accounts.computeIfAbsent(principal, k -> new Account());
      account.calls++;
      account.identities.merge(identity, 1L, Long::sum);
    }
  }

  /** Called once every record was taken and every chain verified, in the order of {@link #dirs()}. */
  public void finish(List<VerifyResult> verified, List<String> chainIds) {
    for (int i = 0; i < dirs.size(); i++) {
      String id = chainIds.get(i) != null ? chainIds.get(i) : chainIdByDir.getOrDefault(i, "");
      chains.add(new Chain(dirs.get(i), id, verified.get(i), recordsByDir.getOrDefault(i, 0L)));
    }
  }

  /** Whether every chain verifies. */
  public boolean allVerify() {
    return chains.stream().allMatch(c -> c.verify().ok());
  }

  /**
   * Calls over time for the period: from {@code --since} (else the first record) to {@code --until} (else the last
   * record), in at most 60 buckets.
   */
  public List<TimeBuckets.Bucket> series() {
    Instant from = since != null ? since : firstTime;
    Instant to = until != null ? until.minusMillis(1) : lastTime;
    if (from == null || to == null) {
      return List.of();
    }
    return buckets.series(from, to, 60);
  }

  /** Identities in the period that the trail had not seen before it, oldest first. */
  public List<Map.Entry<String, Identity>> newIdentities() {
    return identities.entrySet().stream().filter(e -> !e.getValue().seenBefore).toList();
  }

  /** Entries by count, highest first, then by key. */
  public static <K extends Comparable<K>> List<Map.Entry<K, Long>> ranked(Map<K, Long> counts) {
    List<Map.Entry<K, Long>> entries = new ArrayList<>(counts.entrySet());
    entries.sort(Map.Entry.<K, Long>comparingByValue(Comparator.reverseOrder()).thenComparing(Map.Entry.comparingByKey()));
    return Collections.unmodifiableList(entries);
  }

  /** Calls per identity × method × model, most calls first. */
  public List<Map.Entry<CallKey, Calls>> rankedCalls() {
    List<Map.Entry<CallKey, Calls>> entries = new ArrayList<>(byCall.entrySet());
    entries.sort(Comparator.<Map.Entry<CallKey, Calls>>comparingLong(e -> -e.getValue().calls)
        .thenComparing(e -> e.getKey().identity()).thenComparing(e -> e.getKey().method())
        .thenComparing(e -> e.getKey().model()));
    return entries;
  }

  /** Calls per model (the empty name: calls naming none), most calls first, then by name. */
  public List<Map.Entry<String, Calls>> rankedModels() {
    List<Map.Entry<String, Calls>> entries = new ArrayList<>(byModel.entrySet());
    entries.sort(Comparator.<Map.Entry<String, Calls>>comparingLong(e -> -e.getValue().calls)
        .thenComparing(Map.Entry::getKey));
    return entries;
  }

  /** The identities of {@code account}, most calls first, at most {@value #IDENTITIES_PER_ACCOUNT}. */
  public static List<Map.Entry<String, Long>> topIdentities(Account account) {
    List<Map.Entry<String, Long>> ranked = ranked(account.identities);
    return ranked.subList(0, Math.min(IDENTITIES_PER_ACCOUNT, ranked.size()));
  }

  /** {@code issuer subject} of the record's caller; null when the call had no verified caller. */
  static String identity(ObjectNode r) {
    JsonNode caller = r.get("caller");
    if (caller == null || !caller.isObject()) {
      return null;
    }
    return caller.path("issuer").asText("?") + " " + caller.path("subject").asText("?");
  }

  private static final Pattern GITLAB_SUBJECT = Pattern.compile("(\\S+) project_path:(.+):ref_type:[^:]+:ref:(.+)");

  /**
   * An identity as a chart label: a GitLab job's {@code issuer project_path:P:ref_type:T:ref:R} as {@code issuer P@R}
   * (what tells jobs apart is in the middle, where shortening would cut); anything else as it is.
   */
  static String shortIdentity(String identity) {
    Matcher gitlab = GITLAB_SUBJECT.matcher(identity);
    return gitlab.matches() ? gitlab.group(1) + " " + gitlab.group(2) + "@" + gitlab.group(3) : identity;
  }

  private static String text(ObjectNode r, String key, String absent) {
    JsonNode node = r.get(key);
    return node == null || node.isNull() || !node.isValueNode() ? absent : node.asText();
  }
}

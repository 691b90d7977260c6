package dev.vertexproxy.proxy.cli.replay;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What re-deciding a trail under a draft changed: totals, why records were skipped, the policy versions the trail was
 * decided under, and the newly denied, newly allowed and undecidable requests grouped by identity, method and model,
 * each group with a count and a bounded number of examples. Its size is bounded whatever the trail's length: at most
 * {@value #MAX_GROUPS} groups per kind (requests beyond that are counted in {@link Changes#ungrouped()}) and at most
 * {@value #MAX_VERSIONS} distinct policy versions.
 *
 * <p>Built by one {@link Replay}, then read; not thread-safe while being built.
 */
public final class ReplayReport {
  static final int MAX_GROUPS = 10_000;
  static final int MAX_VERSIONS = 1_000;
  /** Identity values longer than this are cut in group keys and examples (a claim may be megabytes). */
  static final int MAX_TEXT = 256;

  /** Why a record was not re-decided; the JSON keys of {@code skipped}. */
  public enum Skip {
    /** A checkpoint, seal or retention record, or a type this version does not know. */
    NOT_A_REQUEST("not-a-request"),
    /** No verified caller: refused before identity (no token, a bad token, a route that did not exist). */
    UNAUTHENTICATED("unauthenticated"),
    /** The proxy's own routes ({@code /_proxy/}, {@code /.well-known/}): the policy never decides them. */
    RESERVED_ROUTE("reserved-route"),
    /** No routed method, no request line, or a path that does not route under this catalog. */
    NOT_ROUTED("not-routed"),
    /** Refused before the policy decided (a guard), or the caller left before a decision. */
    NOT_DECIDED_BY_POLICY("not-decided-by-policy");

    private final String key;

    Skip(String key) {
      this.key = key;
    }

    public String key() {
      return key;
    }
  }

  /** Who, what and on which model: the key requests are grouped by. Null members are absent from the record. */
  public record GroupKey(String issuer, String subject, String projectPath, String namespacePath, String method,
      String model) {
  }

  /** One side of a comparison: {@code allow}/{@code deny}, the rule (null for the default deny) and the reason. */
  public record Verdict(String decision, String rule, String reason) {
    boolean allowed() {
      return "allow".equals(decision);
    }
  }

  /** One request as evidence: its id, time, request line, and the recorded and the draft's verdicts. */
  public record Example(String requestId, String time, String httpMethod, String path, Verdict recorded,
      Verdict draft) {
  }

  /** A group of requests that changed the same way, with up to the report's example limit of them. */
  public static final class Group {
    private final GroupKey key;
    private final List<Example> examples = new ArrayList<>();
    private long count;

    Group(GroupKey key) {
      this.key = key;
    }

    public GroupKey key() {
      return key;
    }

    public long count() {
      return count;
    }

    public List<Example> examples() {
      return Collections.unmodifiableList(examples);
    }
  }

  /** The requests of one kind of change, grouped; {@code ungrouped} counts those past {@value #MAX_GROUPS} groups. */
  public static final class Changes {
    private final Map<GroupKey, Group> groups = new LinkedHashMap<>();
    private final int examplesPerGroup;
    private long count;
    private long ungrouped;

    Changes(int examplesPerGroup) {
      this.examplesPerGroup = examplesPerGroup;
    }

    void add(GroupKey key, Example example) {
      count++;
      Group group = groups.get(key);
      if (group == null) {
        if (groups.size() >= MAX_GROUPS) {
          ungrouped++;
          return;
        }
        group = new Group(key);
        groups.put(key, group);
      }
      group.count++;
      if (group.examples.size() < examplesPerGroup) {
        group.examples.add(example);
      }
    }

    public long count() {
      return count;
    }

    public long ungrouped() {
      return ungrouped;
    }

    /** The groups, largest first (ties in order of first appearance). */
    public List<Group> groups() {
      List<Group> sorted = new ArrayList<>(groups.values());
      sorted.sort((a, b) -> Long.compare(b.count, a.count));
      return sorted;
    }

    /** Every example's request id, in group order: what a test or a gate names. */
    public List<String> exampleRequestIds() {
      List<String> ids = new ArrayList<>();
      for (Group g : groups()) {
        g.examples.forEach(e -> ids.add(e.requestId()));
      }
      return ids;
    }
  }

  private final String draftVersion;
  private final Changes newlyDenied;
  private final Changes newlyAllowed;
  private final Changes undecidable;
  private final Map<Skip, Long> skipped = new LinkedHashMap<>();
  private final Map<String, Long> recordedVersions = new TreeMap<>();
  private long unchanged;
  private long undecidableDenied;
  private long ruleChanged;
  private long otherVersions;
  private long brokenLines;

  ReplayReport(String draftVersion, int examplesPerGroup) {
    this.draftVersion = draftVersion;
    this.newlyDenied = new Changes(examplesPerGroup);
    this.newlyAllowed = new Changes(examplesPerGroup);
    this.undecidable = new Changes(examplesPerGroup);
    for (Skip s : Skip.values()) {
      skipped.put(s, 0L);
    }
  }

  void skip(Skip why) {
    skipped.merge(why, 1L, Long::sum);
  }

  void recordedUnder(String version) {
    String v = version == null ? "(none)" : version;
    if (recordedVersions.containsKey(v) || recordedVersions.size() < MAX_VERSIONS) {
      recordedVersions.merge(v, 1L, Long::sum);
    } else {
      otherVersions++;
    }
  }

  void countUnchanged() {
    unchanged++;
  }

  /** An undecidable request the recorded policy denied: the draft might allow it. */
  void countUndecidableDenied() {
    undecidableDenied++;
  }

  /**
   * Undecidable requests that were denied when recorded: the draft may allow them, and nothing can prove it does not,
   * so a gate on widening must fail on them too.
   */
  public long undecidableDenied() {
    return undecidableDenied;
  }

  void countRuleChanged() {
    ruleChanged++;
  }

  /** Set by the reader of the trail: lines that were not JSON records (reported, counted, not fatal). */
  public void brokenLines(long lines) {
    this.brokenLines = lines;
  }

  public String draftVersion() {
    return draftVersion;
  }

  /** Requests re-decided, undecidable ones included. */
  public long replayed() {
    return unchanged + ruleChanged + newlyDenied.count + newlyAllowed.count + undecidable.count;
  }

  public long unchanged() {
    return unchanged;
  }

  /** Same verdict under the draft, but another rule or reason decided it. */
  public long ruleChangedSameVerdict() {
    return ruleChanged;
  }

  public Changes newlyDenied() {
    return newlyDenied;
  }

  public Changes newlyAllowed() {
    return newlyAllowed;
  }

  /** Requests whose draft decision depends on a value the trail holds redacted: never guessed. */
  public Changes undecidable() {
    return undecidable;
  }

  public Map<Skip, Long> skipped() {
    return Collections.unmodifiableMap(skipped);
  }

  public long skippedTotal() {
    return skipped.values().stream().mapToLong(Long::longValue).sum();
  }

  /** Requests per recorded {@code policy_version}, sorted; {@code (none)} for records without one. */
  public Map<String, Long> recordedVersions() {
    return Collections.unmodifiableMap(recordedVersions);
  }

  public long brokenLines() {
    return brokenLines;
  }

  /** True if any request's verdict changed either way. */
  public boolean verdictChanged() {
    return newlyDenied.count > 0 || newlyAllowed.count > 0;
  }

  /** The stable {@code --json} form, documented in docs/policy.md. */
  public ObjectNode toJson(String draftFile) {
    JsonNodeFactory f = JsonNodeFactory.instance;
    ObjectNode root = f.objectNode();
    ObjectNode draft = root.putObject("draft");
    draft.put("file", draftFile);
    draft.put("version", draftVersion);
    ObjectNode totals = root.putObject("totals");
    totals.put("replayed", replayed());
    totals.put("unchanged", unchanged);
    totals.put("newly_denied", newlyDenied.count);
    totals.put("newly_allowed", newlyAllowed.count);
    totals.put("rule_changed", ruleChanged);
    totals.put("undecidable", undecidable.count);
    totals.put("undecidable_denied", undecidableDenied);
    totals.put("skipped", skippedTotal());
    totals.put("broken_lines", brokenLines);
    ObjectNode skips = root.putObject("skipped");
    skipped.forEach((k, v) -> skips.put(k.key(), v));
    ObjectNode versions = root.putObject("recorded_policy_versions");
    recordedVersions.forEach(versions::put);
    if (otherVersions > 0) {
      versions.put("(more)", otherVersions);
    }
    root.set("newly_denied", changesJson(newlyDenied));
    root.set("newly_allowed", changesJson(newlyAllowed));
    root.set("undecidable", changesJson(undecidable));
    return root;
  }

  private static ObjectNode changesJson(Changes changes) {
    ObjectNode node = JsonNodeFactory.instance.objectNode();
    node.put("count", changes.count);
    node.put("ungrouped", changes.ungrouped);
    ArrayNode groups = node.putArray("groups");
    for (Group g : changes.groups()) {
      ObjectNode group = groups.addObject();
      putIfPresent(group, "issuer", g.key.issuer());
      putIfPresent(group, "subject", g.key.subject());
      putIfPresent(group, "project_path", g.key.projectPath());
      putIfPresent(group, "namespace_path", g.key.namespacePath());
      putIfPresent(group, "method", g.key.method());
      putIfPresent(group, "model", g.key.model());
      group.put("count", g.count);
      ArrayNode examples = group.putArray("examples");
      for (Example e : g.examples) {
        ObjectNode example = examples.addObject();
        putIfPresent(example, "request_id", e.requestId());
        putIfPresent(example, "time", e.time());
        putIfPresent(example, "http_method", e.httpMethod());
        putIfPresent(example, "path", e.path());
        example.set("recorded", verdictJson(e.recorded()));
        if (e.draft() != null) {
          example.set("draft", verdictJson(e.draft()));
        }
      }
    }
    return node;
  }

  private static ObjectNode verdictJson(Verdict v) {
    ObjectNode node = JsonNodeFactory.instance.objectNode();
    node.put("decision", v.decision());
    putIfPresent(node, "rule", v.rule());
    putIfPresent(node, "reason", v.reason());
    return node;
  }

  private static void putIfPresent(ObjectNode node, String key, String value) {
    if (value != null) {
      node.put(key, value);
    }
  }
}

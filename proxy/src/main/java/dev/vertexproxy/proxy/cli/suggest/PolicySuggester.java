package dev.vertexproxy.proxy.cli.suggest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vertexproxy.policy.WriteMethods;
import dev.vertexproxy.policy.catalog.MethodCatalog;
import dev.vertexproxy.policy.route.Route;
import dev.vertexproxy.proxy.audit.AuditReader;
import dev.vertexproxy.proxy.audit.SecretNames;
import dev.vertexproxy.proxy.cli.suggest.SuggestedRules.Grant;
import dev.vertexproxy.proxy.cli.suggest.SuggestedRules.GrantKey;
import dev.vertexproxy.proxy.cli.suggest.SuggestedRules.Identity;
import dev.vertexproxy.proxy.cli.suggest.SuggestedRules.IdentityKey;
import dev.vertexproxy.proxy.cli.suggest.SuggestedRules.Seen;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Turns observed requests (audit records) into the narrowest allow rules that still allow them: least privilege
 * measured from traffic. One rule per identity and service account: a GitLab-like caller (its claims have
 * {@code project_path}) is pinned by {@code namespace_path} and {@code project_path} exactly, plus
 * {@code ref_protected: "true"} when every one of its calls had it; any other caller (a person's session, another
 * issuer) by its exact {@code subject}. Each rule grants exactly the methods, projects, locations and models used; the
 * methods an identity called without naming a model (endpoint and job calls) go to a second rule without
 * {@code models:}, since a rule's models deny every call that names none.
 *
 * <p>Claim values are chosen by whoever controls the token, so every value is written as an exact YAML string
 * ({@link YamlText}); an identity whose pin cannot be written exactly (a {@code *} or {@code ?}, which the policy reads as
 * a glob; a redacted value; no value) gets no rule, and a warning says so. A request recorded twice (a {@code decision}
 * record before its {@code exchange} record) counts once, by {@code request_id}.
 *
 * <p>Holds every distinct request id seen until {@link #yaml} (memory grows with the trail's request count). Not
 * thread-safe: one instance per run.
 */
public final class PolicySuggester {
  /** The service account emails the policy loader accepts for {@code service_account}. */
  private static final Pattern EMAIL = Pattern.compile(
      "[a-z0-9][a-z0-9-]{0,62}@[a-z0-9][a-z0-9.-]{0,126}\\.iam\\.gserviceaccount\\.com"
          + "|[0-9]{1,20}-compute@developer\\.gserviceaccount\\.com");
  private static final Pattern RULE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,99}");
  private static final Pattern METHOD_NAME = Pattern.compile("[A-Za-z0-9_.]{1,200}");

  /**
   * What the suggester needs besides the records.
   *
   * @param knownMethods   the policy-facing method names the catalog knows (a recorded name it does not know is skipped)
   * @param sharedIssuers  issuer names shared like gitlab.com (an identity there must be pinned by project)
   * @param serviceAccount the account for requests that recorded none (denied ones, always), or null
   */
  public record Options(Set<String> knownMethods, Set<String> sharedIssuers, String serviceAccount) {
  }

  /** One observed request, as far as a rule is concerned. */
  private record Request(JsonNode caller, String method, String project, String location, String model,
      String resource, String principal, String rule, Instant time, boolean allowed) {
  }

  /** A request resolved to its rule's identity, account and models entry ("" for none). */
  private record Resolved(IdentityKey key, String account, String model, Request request) {
  }


  private final Options options;
  private final Map<String, Request> byRequestId = new LinkedHashMap<>();
  private final List<Request> withoutId = new ArrayList<>();
  private final Set<String> warnings = new LinkedHashSet<>();
  private int rules;
  private int used;

  public PolicySuggester(Options options) {
    this.options = options;
  }

  /**
   * Offers one record that the caller selected (an allowed request, or a denial the team wants to grant). Records
   * without a caller or a method (refused before routing or identity) are ignored.
   */
  public void add(ObjectNode record, boolean allowed) {
    JsonNode caller = record.path("caller");
    String method = text(record, "method");
    if (!caller.isObject() || method == null) {
      return;
    }
    Request r = new Request(caller, method, text(record, "project"), text(record, "location"),
        text(record, "model"), text(record, "resource"), text(record, "google_principal"), text(record, "rule"),
        AuditReader.timeOf(record), allowed);
    String id = text(record, "request_id");
    if (id == null) {
      withoutId.add(r);
      return;
    }
    Request earlier = byRequestId.putIfAbsent(id, r);
    if (earlier != null && earlier.principal() == null && r.principal() != null) {
      // the decision record came first; the exchange record knows the account Google saw
      byRequestId.put(id, r);
    }
  }

  /** Warnings gathered so far (identities or requests left out, rules to review); printable, one line each. */
  public List<String> warnings() {
    return List.copyOf(warnings);
  }

  /** The number of rules the last {@link #yaml} wrote. */
  public int rules() {
    return rules;
  }

  /** The number of requests the last {@link #yaml} turned into grants. */
  public int requests() {
    return used;
  }

  /** The suggested policy; {@code header} lines (without {@code #}) open it as comments and must be printable. */
  public String yaml(List<String> header) {
    Map<IdentityKey, Identity> identities = new TreeMap<>(IdentityKey.ORDER);
    used = 0;
    List<Request> all = new ArrayList<>(byRequestId.values());
    all.addAll(withoutId);
    // A rule's models: would deny a call that names no model, so methods called without one get a rule of their own
    // without models:, and the methods that always named one keep a rule that names exactly those models.
    List<Resolved> resolved = new ArrayList<>();
    Set<List<String>> withoutModel = new HashSet<>();
    for (Request r : all) {
      IdentityKey key = identityOf(r.caller());
      String account = key == null ? null : accountOf(r);
      String model = key == null || account == null ? null : modelEntry(r);
      if (key == null || account == null || model == null || !requestWritable(r)) {
        continue;
      }
      resolved.add(new Resolved(key, account, model, r));
      if (model.isEmpty()) {
        withoutModel.add(List.of(key.toString(), account, r.method()));
      }
    }
    for (Resolved x : resolved) {
      Request r = x.request();
      used++;
      Identity identity = identities.computeIfAbsent(x.key(), k -> new Identity());
      if (x.key().project() && !"true".equals(scalar(r.caller().path("claims").path("ref_protected")))) {
        identity.allProtected = false;
      }
      if (isWrite(r.method())) {
        identity.writeMethods.add(r.method());
      }
      boolean anyModel = withoutModel.contains(List.of(x.key().toString(), x.account(), r.method()));
      Grant g = identity.grants.computeIfAbsent(new GrantKey(x.account(), anyModel), a -> new Grant());
      g.methods.computeIfAbsent(r.method(), m -> new Seen()).add(r.time());
      g.all.add(r.time());
      if (r.project() == null) {
        g.withoutProject = true;
      } else {
        g.projects.add(r.project());
      }
      g.locations.add(r.location());
      if (x.model().isEmpty()) {
        g.withoutModel = true;
      } else {
        g.models.add(x.model());
      }
      if (r.rule() != null && RULE_NAME.matcher(r.rule()).matches()) {
        g.sourceRules.add(r.rule());
      }
      if (!r.allowed()) {
        g.denied++;
      }
    }
    SuggestedRules.Written w = SuggestedRules.write(header, identities, warnings);
    rules = w.rules();
    return w.yaml();
  }


  /** The identity a rule pins for this caller, or null (with a warning) when it cannot be pinned exactly. */
  private IdentityKey identityOf(JsonNode caller) {
    String issuer = text(caller, "issuer");
    String subject = text(caller, "subject");
    JsonNode claims = caller.path("claims");
    if (issuer == null || !RULE_NAME.matcher(issuer).matches()) {
      warnings.add("left out requests of a caller without a usable issuer name: "
          + (issuer == null ? "none" : YamlText.shown(issuer)));
      return null;
    }
    if (claims.has("project_path")) {
      String project = pin(claims.get("project_path"));
      JsonNode ns = claims.get("namespace_path");
      String namespace = ns == null ? null : pin(ns);
      if (project == null || (ns != null && namespace == null)) {
        warnings.add("left out identity " + issuer + " project_path " + YamlText.shown(String.valueOf(
            scalar(claims.get("project_path")))) + ": its project_path or namespace_path cannot be pinned exactly"
            + " (not a string, empty, redacted, or holding * or ?, which a policy reads as a glob)");
        return null;
      }
      return new IdentityKey(issuer, namespace, project, null);
    }
    if (subject == null || !YamlText.writable(subject) || subject.contains(SecretNames.REDACTED)) {
      warnings.add("left out identity " + issuer + " subject " + (subject == null ? "(none)" : YamlText.shown(subject))
          + ": the subject cannot be pinned exactly (empty, redacted, or holding * or ?)");
      return null;
    }
    if (options.sharedIssuers().contains(issuer)) {
      warnings.add("left out identity " + issuer + " subject " + YamlText.shown(subject) + ": issuer " + issuer
          + " is shared, and its tokens carry no project_path to pin");
      return null;
    }
    return new IdentityKey(issuer, null, null, subject);
  }

  /** The exact text of a pin claim, or null if it is not a writable, unredacted string. */
  private static String pin(JsonNode value) {
    if (value == null || !value.isTextual()) {
      return null;
    }
    String s = value.asText();
    return YamlText.writable(s) && !s.contains(SecretNames.REDACTED) ? s : null;
  }

  private String accountOf(Request r) {
    String account = r.allowed() && r.principal() != null ? r.principal() : options.serviceAccount();
    if (account == null) {
      warnings.add("left out allowed requests that recorded no google_principal (give --service-account EMAIL to"
          + " grant them one)");
      return null;
    }
    if (!EMAIL.matcher(account).matches()) {
      warnings.add("left out requests whose google_principal is not a service account email: "
          + YamlText.shown(account));
      return null;
    }
    return account;
  }

  /** The rule's models entry for this request: "" when it names no model, null (with a warning) when unusable. */
  private String modelEntry(Request r) {
    String model = r.model() != null ? r.model() : Route.modelOf(r.resource());
    if (model == null) {
      return "";
    }
    String publisher = publisherOf(r.resource());
    boolean other = publisher != null && !publisher.equals("google");
    if (!YamlText.writable(model) || model.indexOf('/') >= 0
        || (other && (!YamlText.writable(publisher) || publisher.indexOf('/') >= 0))) {
      warnings.add("left out requests for model " + YamlText.shown(model) + ": it cannot be named exactly");
      return null;
    }
    return other ? "publishers/" + publisher + "/models/" + model : model;
  }

  /** {@code P} of {@code …/publishers/P/models/M}, or null. */
  private static String publisherOf(String resource) {
    if (resource == null) {
      return null;
    }
    String[] s = resource.split("/", -1);
    int models = s.length - 2;
    return models >= 2 && s[models].equals("models") && s[models - 2].equals("publishers") ? s[models - 1] : null;
  }

  private boolean requestWritable(Request r) {
    if (!METHOD_NAME.matcher(r.method()).matches() || !options.knownMethods().contains(r.method())) {
      warnings.add("left out calls of " + YamlText.shown(r.method()) + ": not a method the catalog knows");
      return false;
    }
    // the proxy records a location for every routed call (global when the path names none): without one, the record
    // is damaged, and a guess could grant the wrong location
    if ((r.project() != null && !YamlText.writable(r.project())) || !YamlText.writable(r.location())) {
      warnings.add("left out calls of " + r.method() + " whose project or location is missing or cannot be written"
          + " exactly");
      return false;
    }
    return true;
  }

  /**
   * Whether a method changes something: what {@code policy lint} wants behind {@code ref_protected: "true"}, decided
   * by the same rule ({@link WriteMethods}) so that a suggestion and its lint agree.
   */
  static boolean isWrite(String method) {
    return WriteMethods.isWrite(MethodCatalog.bundled(), method);
  }

  private static String text(JsonNode node, String field) {
    JsonNode v = node.get(field);
    return v == null || !v.isValueNode() || v.isNull() ? null : v.asText();
  }

  /** A claim's string form as the policy compares it ({@code true} → "true"); null for a missing or object claim. */
  private static String scalar(JsonNode v) {
    return v == null || v.isMissingNode() || v.isNull() || v.isContainerNode() ? null : v.asText();
  }
}

package dev.vertexproxy.policy;

import dev.vertexproxy.policy.route.Route;
import dev.vertexproxy.policy.route.RouteException;
import dev.vertexproxy.policy.yaml.DeclaredKeys;
import dev.vertexproxy.policy.yaml.Problem;
import dev.vertexproxy.policy.yaml.YamlReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * Runs a policy test file: each case is an identity and an HTTP request with the expected decision (and optionally
 * the reason and rule). Requests are routed exactly as the proxy routes them, so a path the router refuses is a
 * deny with the router's reason ({@code route-not-found}, {@code path-not-canonical}, …).
 *
 * <pre>
 * cases:
 *   - name: forecasting may train
 *     identity: { issuer: gitlab, subject: "project_path:acme/ml/forecasting:ref_type:branch:ref:main",
 *                 claims: { project_path: acme/ml/forecasting, ref_protected: true } }
 *     request: { method: POST, path: /v1/projects/acme-ml-prod/locations/us-central1/customJobs }
 *     expect: allow
 *     rule: forecasting-ci-trains
 * </pre>
 *
 * <p>Immutable and thread-safe.
 */
public final class PolicyTestRunner {
  /** Every mapping of a test file and its keys; {@code cases[].identity.claims} is open. */
  static final DeclaredKeys KEYS = DeclaredKeys.builder()
      .mapping("", "cases")
      .mapping("cases[]", "name", "identity", "request", "expect", "reason", "rule")
      .mapping("cases[].identity", "issuer", "subject", "claims")
      .mapping("cases[].request", "method", "path")
      .build();
  private static final List<String> TOP_KEYS = KEYS.of("");
  private static final List<String> CASE_KEYS = KEYS.of("cases[]");
  private static final List<String> IDENTITY_KEYS = KEYS.of("cases[].identity");
  private static final List<String> REQUEST_KEYS = KEYS.of("cases[].request");

  /** One case's outcome. {@code failure} is null when it passed; otherwise says what differed. */
  public record Result(String name, int line, boolean passed, String decision, String reason, String rule,
      String failure) {
  }

  private record Case(String name, int line, Caller caller, String httpMethod, String path, boolean expectAllow,
      String reason, String rule) {
  }

  private final Policy policy;
  private final RequestRouter router;

  public PolicyTestRunner(Policy policy, RequestRouter router) {
    this.policy = policy;
    this.router = router;
  }

  /** Runs every case of a test file. @throws PolicyException if the file itself is malformed */
  public List<Result> run(Path testFile) throws PolicyException {
    String text;
    try {
      text = Files.readString(testFile, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new PolicyException(List.of(new Problem(testFile.toString(), 1, 1, "", "cannot read: " + e)));
    }
    return run(text, testFile.toString());
  }

  /** Runs every case of test-file text; {@code sourceName} names it in problems. */
  public List<Result> run(String yamlText, String sourceName) throws PolicyException {
    List<Result> results = new ArrayList<>();
    for (Case c : parse(yamlText, sourceName)) {
      results.add(run(c));
    }
    return results;
  }

  private Result run(Case c) {
    String decision;
    String reason;
    String rule;
    try {
      Route route = router.route(c.httpMethod(), c.path());
      Decision d = policy.decide(c.caller(), route);
      decision = d.allowed() ? "allow" : "deny";
      reason = d.reason();
      rule = d.rule();
    } catch (RouteException e) {
      decision = "deny";
      reason = e.reason();
      rule = null;
    }
    List<String> differences = new ArrayList<>();
    String expected = c.expectAllow() ? "allow" : "deny";
    if (!expected.equals(decision)) {
      differences.add("expected " + expected + ", got " + decision + " (" + reason + ")");
    }
    if (c.reason() != null && !c.reason().equals(reason)) {
      differences.add("expected reason " + c.reason() + ", got " + reason);
    }
    if (c.rule() != null && !c.rule().equals(rule)) {
      differences.add("expected rule " + c.rule() + ", got " + (rule == null ? "none" : rule));
    }
    return new Result(c.name(), c.line(), differences.isEmpty(), decision, reason, rule,
        differences.isEmpty() ? null : String.join("; ", differences));
  }

  private static List<Case> parse(String text, String source) throws PolicyException {
    YamlReader yaml = new YamlReader(source);
    List<Case> cases = new ArrayList<>();
    Node root = yaml.read(text);
    Map<String, NodeTuple> top = root == null ? null : yaml.mapping(root, "", TOP_KEYS);
    if (top != null) {
      NodeTuple casesEntry = top.get("cases");
      if (casesEntry == null || !(casesEntry.getValueNode() instanceof SequenceNode seq)) {
        yaml.problem(casesEntry == null ? root : casesEntry.getValueNode(), "cases", "expected a list of cases");
      } else {
        for (int i = 0; i < seq.getValue().size(); i++) {
          Case c = parseCase(yaml, seq.getValue().get(i), "cases[" + i + "]");
          if (c != null) {
            cases.add(c);
          }
        }
      }
    }
    if (!yaml.problems().isEmpty()) {
      throw new PolicyException(yaml.problems());
    }
    return cases;
  }

  private static Case parseCase(YamlReader yaml, Node node, String path) {
    int before = yaml.problems().size();
    Map<String, NodeTuple> keys = yaml.mapping(node, path, CASE_KEYS);
    if (keys == null) {
      return null;
    }
    for (String required : List.of("name", "identity", "request", "expect")) {
      if (!keys.containsKey(required)) {
        yaml.problem(node, path + "." + required, "missing");
      }
    }
    String name = keys.containsKey("name") ? yaml.string(keys.get("name").getValueNode(), path + ".name", true) : null;
    String expect = keys.containsKey("expect") ? yaml.string(keys.get("expect").getValueNode(), path + ".expect", false) : null;
    if (expect != null && !expect.equals("allow") && !expect.equals("deny")) {
      yaml.problem(keys.get("expect").getValueNode(), path + ".expect", "\"" + expect + "\" (expected: allow or deny)");
    }
    String reason = keys.containsKey("reason") ? yaml.string(keys.get("reason").getValueNode(), path + ".reason", false) : null;
    String rule = keys.containsKey("rule") ? yaml.string(keys.get("rule").getValueNode(), path + ".rule", false) : null;

    Caller caller = null;
    if (keys.containsKey("identity")) {
      Map<String, NodeTuple> id = yaml.mapping(keys.get("identity").getValueNode(), path + ".identity", IDENTITY_KEYS);
      if (id != null) {
        String issuer = id.containsKey("issuer")
            ? yaml.string(id.get("issuer").getValueNode(), path + ".identity.issuer", false) : null;
        if (!id.containsKey("issuer")) {
          yaml.problem(keys.get("identity").getValueNode(), path + ".identity.issuer", "missing");
        }
        Map<String, Object> claims = new LinkedHashMap<>();
        if (id.containsKey("claims")) {
          Map<String, NodeTuple> c = yaml.mapping(id.get("claims").getValueNode(), path + ".identity.claims", null);
          if (c != null) {
            c.forEach((k, t) -> {
              Node v = t.getValueNode();
              String claimPath = path + ".identity.claims." + k;
              if (v instanceof SequenceNode) {
                List<String> values = yaml.claimValues(v, claimPath);
                if (values != null) {
                  claims.put(k, values);
                }
              } else {
                String value = yaml.claimValue(v, claimPath);
                if (value != null) {
                  claims.put(k, value);
                }
              }
            });
          }
        }
        String subject = id.containsKey("subject")
            ? yaml.string(id.get("subject").getValueNode(), path + ".identity.subject", false)
            : claims.getOrDefault("sub", "").toString();
        if (issuer != null && subject != null) {
          caller = new Caller(issuer, subject, claims);
        }
      }
    }
    String method = null;
    String requestPath = null;
    if (keys.containsKey("request")) {
      Map<String, NodeTuple> req = yaml.mapping(keys.get("request").getValueNode(), path + ".request", REQUEST_KEYS);
      if (req != null) {
        for (String required : REQUEST_KEYS) {
          if (!req.containsKey(required)) {
            yaml.problem(keys.get("request").getValueNode(), path + ".request." + required, "missing");
          }
        }
        method = req.containsKey("method")
            ? yaml.string(req.get("method").getValueNode(), path + ".request.method", false) : null;
        requestPath = req.containsKey("path") ? yaml.string(req.get("path").getValueNode(), path + ".request.path", false) : null;
      }
    }
    if (yaml.problems().size() != before) {
      return null;
    }
    return new Case(name, YamlReader.line(node), caller, method, requestPath, "allow".equals(expect), reason, rule);
  }
}

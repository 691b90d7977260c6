package dev.vertexproxy.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vertexproxy.policy.catalog.MethodCatalog;
import dev.vertexproxy.policy.catalog.VertexMethod;
import dev.vertexproxy.policy.route.Route;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The shipped example policy loads against the full Vertex catalog and decides as its comments say. */
class ExamplePolicyTest {
  private static final Path EXAMPLE = Path.of("../config/policy.yaml");

  /** The bundled catalog when the generator has produced it, else one read from the discovery documents. */
  private static MethodCatalog fullCatalog() throws Exception {
    if (MethodCatalog.class.getResource(MethodCatalog.RESOURCE) != null) {
      return MethodCatalog.bundled();
    }
    {
      Path dir = Path.of("../../shared/vertex");
      assumeTrue(Files.isDirectory(dir), "no bundled catalog and no discovery documents");
      List<VertexMethod> methods = new ArrayList<>();
      for (String version : List.of("v1", "v1beta1")) {
        JsonNode doc = new ObjectMapper().readTree(dir.resolve("aiplatform-" + version + "-discovery.json").toFile());
        collect(doc.get("resources"), version, methods);
      }
      return MethodCatalog.of(methods);
    }
  }

  private static void collect(JsonNode resources, String version, List<VertexMethod> into) {
    if (resources == null) {
      return;
    }
    for (JsonNode resource : resources) {
      if (resource.has("methods")) {
        for (JsonNode m : resource.get("methods")) {
          String id = m.get("id").asText();
          into.add(new VertexMethod(id, MethodCatalog.shortName(id), version, m.get("httpMethod").asText(),
              m.get("flatPath").asText(), null));
        }
      }
      collect(resource.get("resources"), version, into);
    }
  }

  private static Route route(MethodCatalog catalog, String name, String resource, String project, String location) {
    return new Route(catalog.byName(name).get(0), resource, project, location, false);
  }

  @Test
  void examplePolicyLoadsAndDecidesAsDocumented() throws Exception {
    MethodCatalog catalog = fullCatalog();
    Policy policy = Policy.load(EXAMPLE, catalog, Set.of("gitlab", "humans"));
    assertThat(policy.rules()).extracting(Rule::name).containsExactly("forecasting-ci-trains",
        "forecasting-release-deploys", "ml-team-notebooks-gemini", "no-external-pipelines");

    Caller ci = new Caller("gitlab", "project_path:acme/ml/forecasting:ref_type:branch:ref:feature",
        Map.of("namespace_path", "acme/ml", "project_path", "acme/ml/forecasting", "project_id", 4711L,
            "ref_protected", "false", "pipeline_source", "push"));
    String jobs = "projects/acme-ml-prod/locations/us-central1/customJobs";
    assertThat(policy.decide(ci, route(catalog, "customJobs.create", jobs, "acme-ml-prod", "us-central1")).rule())
        .isEqualTo("forecasting-ci-trains");
    String endpoint = "projects/acme-ml-prod/locations/us-central1/endpoints/4242";
    assertThat(policy.decide(ci, route(catalog, "endpoints.deployModel", endpoint, "acme-ml-prod", "us-central1"))
        .reason()).isEqualTo(Reasons.METHOD_NOT_GRANTED);

    Caller release = new Caller("gitlab", "project_path:acme/ml/forecasting:ref_type:branch:ref:release/1.2",
        Map.of("project_path", "acme/ml/forecasting", "ref_protected", true, "environment", "production"));
    assertThat(policy.decide(release, route(catalog, "endpoints.deployModel", endpoint, "acme-ml-prod", "us-central1"))
        .serviceAccount()).isEqualTo("forecasting-deployer@acme-ml-prod.iam.gserviceaccount.com");

    Caller mergeRequest = new Caller("gitlab", ci.subject(), Map.of("namespace_path", "acme/ml", "project_path",
        "acme/ml/forecasting", "project_id", 4711L, "ref_protected", "false", "pipeline_source", "merge_request_event"));
    assertThat(policy.decide(mergeRequest, route(catalog, "customJobs.create", jobs, "acme-ml-prod", "us-central1"))
        .rule()).isEqualTo("no-external-pipelines");

    Caller human = new Caller("humans", "alice", Map.of("groups", List.of("staff", "ml-team"), "email_verified", true));
    String gemini = "projects/acme-ml-sandbox/locations/global/publishers/google/models/gemini-2.5-flash";
    assertThat(policy.decide(human, route(catalog, "publishers.models.streamGenerateContent", gemini,
        "acme-ml-sandbox", "global")).allowed()).isTrue();
    assertThat(policy.decide(human, route(catalog, "publishers.models.generateContent",
        "publishers/google/models/gemini-2.5-flash", null, "global")).reason())
        .isEqualTo(Reasons.PROJECT_NOT_GRANTED);

    List<PolicyLinter.Warning> findings = PolicyLinter.lint(policy, LintContext.withoutConfig(catalog));
    assertThat(findings).as("its one finding is deliberate and says so in the file")
        .extracting(PolicyLinter.Warning::code).containsExactly("unprotected-write");
    assertThat(PolicyLinter.withoutIgnored(findings, policy, Files.readAllLines(EXAMPLE)))
        .as("the shipped example is what we tell users to write: lint-clean").isEmpty();
  }

  @Test
  void jsonSchemaNamesExactlyTheKeysTheLoaderAccepts() throws Exception {
    JsonNode schema = new ObjectMapper().readTree(Path.of("../config/schema/policy.schema.json").toFile());
    JsonNode defs = schema.get("$defs");
    assertThat(fieldNames(schema.get("properties"))).isEqualTo(PolicyParser.TOP_KEYS);
    assertThat(fieldNames(defs.get("rule").get("properties"))).isEqualTo(PolicyParser.RULE_KEYS);
    assertThat(fieldNames(defs.get("identity").get("properties"))).isEqualTo(PolicyParser.IDENTITY_KEYS);
    assertThat(fieldNames(defs.get("resources").get("properties"))).isEqualTo(PolicyParser.RESOURCE_KEYS);
    // the parser's declared key lists are the whole truth: every closed object in the schema is one, in the same order
    Map<String, List<String>> closed = new LinkedHashMap<>();
    closedObjects(schema, schema, "", closed);
    assertThat(closed).isEqualTo(PolicyParser.KEYS.mappings());
  }

  /**
   * The shape and property names of every object in {@code node} that refuses unlisted properties, following
   * {@code $ref}s: {@code rules[]} is the schema of a rule, {@code rules[].identity} its identity.
   */
  static void closedObjects(JsonNode schema, JsonNode node, String shape, Map<String, List<String>> into) {
    while (node.has("$ref")) {
      node = schema.at(node.get("$ref").asText().substring(1));
    }
    if (node.has("properties")) {
      if (node.path("additionalProperties").isBoolean() && !node.get("additionalProperties").asBoolean()) {
        into.put(shape, fieldNames(node.get("properties")));
      }
      node.get("properties").properties().forEach(f ->
          closedObjects(schema, f.getValue(), shape.isEmpty() ? f.getKey() : shape + "." + f.getKey(), into));
    }
    if (node.has("items")) {
      closedObjects(schema, node.get("items"), shape + "[]", into);
    }
  }

  private static List<String> fieldNames(JsonNode object) {
    List<String> names = new ArrayList<>();
    object.fieldNames().forEachRemaining(names::add);
    return names;
  }
}

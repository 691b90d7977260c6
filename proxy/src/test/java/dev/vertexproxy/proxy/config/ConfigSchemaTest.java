package dev.vertexproxy.proxy.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vertexproxy.policy.yaml.Problem;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The documented example and the JSON Schema stay in step with what the loader accepts. */
class ConfigSchemaTest {
  private static final Path CONFIG_DIR = Path.of("..", "config");
  private static final String MINIMAL = """
      listen: { address: 127.0.0.1:8443 }
      identity: { issuers: [ { name: gitlab, issuer: https://gitlab.example.com, audiences: [x] } ] }
      policy: { file: policy.yaml }
      audit: { dir: audit }
      """;

  @Test
  void theExampleConfigurationLoads() throws Exception {
    ProxyConfig c = new ConfigLoader(Map.<String, String>of()::get).load(CONFIG_DIR.resolve("proxy.yaml"));
    assertThat(c.identity().issuers()).isNotEmpty();
    assertThat(c.listen().tls()).isNotNull();
  }

  @Test
  void theSchemaDocumentsExactlyTheDeclaredKeysOfEveryMapping() throws Exception {
    JsonNode schema = new ObjectMapper().readTree(CONFIG_DIR.resolve("schema/proxy.schema.json").toFile());
    Map<String, List<String>> closed = new LinkedHashMap<>();
    closedObjects(schema, schema, "", closed);
    assertThat(closed).isEqualTo(ConfigLoader.KEYS.mappings());
  }

  @Test
  void everyMappingAcceptsExactlyItsDeclaredKeys() {
    Map<String, String> sections = Map.ofEntries(
        Map.entry("", ""),
        Map.entry("listen", "listen"),
        Map.entry("listen.tls", "listen.tls"),
        Map.entry("admin", "admin"),
        Map.entry("limits", "limits"),
        Map.entry("upstream", "upstream"),
        Map.entry("identity", "identity"),
        Map.entry("identity.issuers[0]", "identity.issuers[]"),
        Map.entry("identity.issuers[0].login", "identity.issuers[].login"),
        Map.entry("policy", "policy"),
        Map.entry("credentials", "credentials"),
        Map.entry("credentials.sts", "credentials.sts"),
        Map.entry("audit", "audit"),
        Map.entry("audit.rotate", "audit.rotate"),
        Map.entry("audit.retention", "audit.retention"),
        Map.entry("audit.checkpoint", "audit.checkpoint"),
        Map.entry("audit.checkpoint.external", "audit.checkpoint.external"),
        Map.entry("audit.capture", "audit.capture"),
        Map.entry("audit.capture.bodies", "audit.capture.bodies"),
        Map.entry("logging", "logging"),
        Map.entry("sessions", "sessions"));
    assertThat(new TreeSet<>(sections.values())).isEqualTo(new TreeSet<>(ConfigLoader.KEYS.mappings().keySet()));
    for (Map.Entry<String, String> section : sections.entrySet()) {
      assertThat(acceptedKeys(section.getKey())).as("keys of %s", section.getKey().isEmpty() ? "the top level" : section.getKey())
          .isEqualTo(new TreeSet<>(ConfigLoader.KEYS.of(section.getValue())));
    }
  }

  /**
   * The shape and property names of every object in {@code node} that refuses unlisted properties, following
   * {@code $ref}s: {@code identity.issuers[]} is the schema of one issuer.
   */
  private static void closedObjects(JsonNode schema, JsonNode node, String shape, Map<String, List<String>> into) {
    while (node.has("$ref")) {
      node = schema.at(node.get("$ref").asText().substring(1));
    }
    if (node.has("properties")) {
      if (node.path("additionalProperties").isBoolean() && !node.get("additionalProperties").asBoolean()) {
        List<String> names = new ArrayList<>();
        node.get("properties").fieldNames().forEachRemaining(names::add);
        into.put(shape, names);
      }
      node.get("properties").properties().forEach(f ->
          closedObjects(schema, f.getValue(), shape.isEmpty() ? f.getKey() : shape + "." + f.getKey(), into));
    }
    if (node.has("items")) {
      closedObjects(schema, node.get("items"), shape + "[]", into);
    }
  }

  /** What the loader says it expects, read from its own "unknown key" message for an injected key. */
  private static Set<String> acceptedKeys(String section) {
    String yaml = switch (section) {
      case "" -> MINIMAL + "zz_unknown: 1\n";
      case "listen" -> MINIMAL.replace("listen: { address: 127.0.0.1:8443 }",
          "listen: { address: 127.0.0.1:8443, zz_unknown: 1 }");
      case "listen.tls" -> MINIMAL.replace("listen: { address: 127.0.0.1:8443 }",
          "listen: { tls: { cert: a, key: b, zz_unknown: 1 } }");
      case "identity" -> MINIMAL.replace("identity: {", "identity: { zz_unknown: 1,");
      case "identity.issuers[0]" -> MINIMAL.replace("audiences: [x]", "audiences: [x], zz_unknown: 1");
      case "identity.issuers[0].login" -> MINIMAL.replace("audiences: [x]", "audiences: [x], login: { zz_unknown: 1 }");
      case "policy" -> MINIMAL.replace("file: policy.yaml", "file: policy.yaml, zz_unknown: 1");
      case "audit" -> MINIMAL.replace("dir: audit", "dir: audit, zz_unknown: 1");
      case "audit.rotate", "audit.retention", "audit.capture" ->
          MINIMAL.replace("dir: audit", "dir: audit, " + section.substring(6) + ": { zz_unknown: 1 }");
      case "audit.checkpoint" -> MINIMAL.replace("dir: audit", "dir: audit, checkpoint: { key_file: k, zz_unknown: 1 }");
      case "audit.checkpoint.external" ->
          MINIMAL.replace("dir: audit", "dir: audit, checkpoint: { key_file: k, external: { zz_unknown: 1 } }");
      case "audit.capture.bodies" -> MINIMAL.replace("dir: audit", "dir: audit, capture: { bodies: { zz_unknown: 1 } }");
      case "credentials.sts" -> MINIMAL + "credentials: { sts: { zz_unknown: 1 } }\n";
      default -> MINIMAL + section + ": { zz_unknown: 1 }\n";
    };
    Throwable[] thrown = new Throwable[1];
    assertThatThrownBy(() -> new ConfigLoader(Map.<String, String>of()::get).parse(yaml, "p.yaml", Path.of("/tmp")))
        .isInstanceOfSatisfying(ConfigException.class, e -> thrown[0] = e);
    String prefix = section.isEmpty() ? "zz_unknown" : section + ".zz_unknown";
    Pattern p = Pattern.compile(Pattern.quote(prefix) + ": unknown key \"zz_unknown\" \\(expected one of: ([^)]*)\\)");
    for (Problem problem : ((ConfigException) thrown[0]).problems()) {
      Matcher m = p.matcher(problem.toString());
      if (m.find()) {
        return new TreeSet<>(Arrays.asList(m.group(1).split(", ")));
      }
    }
    throw new AssertionError("no unknown-key problem for " + prefix + " in " + ((ConfigException) thrown[0]).problems());
  }
}

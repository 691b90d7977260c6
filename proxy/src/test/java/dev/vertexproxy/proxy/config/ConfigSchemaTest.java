package dev.vertexproxy.proxy.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.Arrays;
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
  void everyMappingAcceptsExactlyTheKeysTheSchemaDocuments() throws Exception {
    JsonNode schema = new ObjectMapper().readTree(CONFIG_DIR.resolve("schema/proxy.schema.json").toFile());
    Map<String, String[]> sections = Map.ofEntries(
        Map.entry("", new String[] {}),
        Map.entry("listen", new String[] {"listen"}),
        Map.entry("listen.tls", new String[] {"listen", "tls"}),
        Map.entry("admin", new String[] {"admin"}),
        Map.entry("limits", new String[] {"limits"}),
        Map.entry("upstream", new String[] {"upstream"}),
        Map.entry("identity", new String[] {"identity"}),
        Map.entry("identity.issuers[0]", new String[] {"identity", "issuers", "[]"}),
        Map.entry("policy", new String[] {"policy"}),
        Map.entry("credentials", new String[] {"credentials"}),
        Map.entry("credentials.sts", new String[] {"credentials", "sts"}),
        Map.entry("audit", new String[] {"audit"}));
    for (Map.Entry<String, String[]> section : sections.entrySet()) {
      JsonNode node = schema;
      for (String step : section.getValue()) {
        node = step.equals("[]") ? node.get("items") : node.get("properties").get(step);
      }
      Set<String> documented = new TreeSet<>();
      node.get("properties").fieldNames().forEachRemaining(documented::add);
      assertThat(acceptedKeys(section.getKey())).as("keys of %s", section.getKey().isEmpty() ? "the top level" : section.getKey())
          .isEqualTo(documented);
    }
  }

  /** What the loader says it expects, read from its own "unknown key" message for an injected key. */
  private static Set<String> acceptedKeys(String section) {
    String yaml = switch (section) {
      case "" -> MINIMAL + "zz_unknown: 1\n";
      case "listen" -> MINIMAL.replace("listen: { address: 127.0.0.1:8443 }", "listen: { address: 127.0.0.1:8443, zz_unknown: 1 }");
      case "listen.tls" -> MINIMAL.replace("listen: { address: 127.0.0.1:8443 }", "listen: { tls: { cert: a, key: b, zz_unknown: 1 } }");
      case "identity" -> MINIMAL.replace("identity: {", "identity: { zz_unknown: 1,");
      case "identity.issuers[0]" -> MINIMAL.replace("audiences: [x]", "audiences: [x], zz_unknown: 1");
      case "policy" -> MINIMAL.replace("file: policy.yaml", "file: policy.yaml, zz_unknown: 1");
      case "audit" -> MINIMAL.replace("dir: audit", "dir: audit, zz_unknown: 1");
      case "credentials.sts" -> MINIMAL + "credentials: { sts: { zz_unknown: 1 } }\n";
      default -> MINIMAL + section + ": { zz_unknown: 1 }\n";
    };
    Throwable[] thrown = new Throwable[1];
    assertThatThrownBy(() -> new ConfigLoader(Map.<String, String>of()::get).parse(yaml, "p.yaml", Path.of("/tmp")))
        .isInstanceOfSatisfying(ConfigException.class, e -> thrown[0] = e);
    String prefix = section.isEmpty() ? "zz_unknown" : section + ".zz_unknown";
    Pattern p = Pattern.compile(Pattern.quote(prefix) + ": unknown key \\(expected one of: ([^)]*)\\)");
    for (String problem : ((ConfigException) thrown[0]).problems()) {
      Matcher m = p.matcher(problem);
      if (m.find()) {
        return new TreeSet<>(Arrays.asList(m.group(1).split(", ")));
      }
    }
    throw new AssertionError("no unknown-key problem for " + prefix + " in " + ((ConfigException) thrown[0]).problems());
  }
}

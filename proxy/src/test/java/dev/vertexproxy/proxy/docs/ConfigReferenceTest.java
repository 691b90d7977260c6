package dev.vertexproxy.proxy.docs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vertexproxy.proxy.config.ConfigLoader;
import dev.vertexproxy.proxy.config.ProxyConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.Yaml;

/**
 * docs/configuration.md lists exactly the keys {@link ConfigLoader#KEYS} declares, mapping by mapping and in order,
 * and every default it gives as a single literal is the loader's: writing that value into a config yields the same
 * configuration as leaving the key out.
 */
class ConfigReferenceTest {
  private static final Path DOC = Path.of("..", "docs", "configuration.md");
  private static final Pattern HEADING = Pattern.compile("^## (?:\\(top level\\)|`([^`]+)`)\\s*$");
  private static final Pattern ROW = Pattern.compile("^\\| `([a-z0-9_]+)` \\| ([^|]*) \\| (.*) \\|\\s*$");
  private static final Pattern LITERAL = Pattern.compile("`([^`]+)`");

  record Row(String key, String dflt, String what) {}

  @Test
  void theReferenceListsExactlyTheDeclaredKeysInOrder() throws Exception {
    Map<String, List<String>> documented = new LinkedHashMap<>();
    rows().forEach((shape, rows) -> documented.put(shape, rows.stream().map(Row::key).toList()));

    assertThat(documented).isEqualTo(ConfigLoader.KEYS.mappings());
  }

  @Test
  void everyKeySaysWhatItIsAndWhatItDefaultsTo() throws Exception {
    rows().forEach((shape, rows) -> rows.forEach(r -> {
      assertThat(r.dflt().trim()).as("default of %s.%s", shape, r.key()).isNotEmpty();
      assertThat(r.what().trim()).as("description of %s.%s", shape, r.key()).hasSizeGreaterThan(10);
    }));
  }

  @Test
  void everyLiteralDefaultIsTheLoadersDefault() throws Exception {
    ConfigLoader loader = new ConfigLoader(Map.<String, String>of()::get);
    ProxyConfig omitted = loader.parse(dump(base()), "proxy.yaml", Path.of("/etc/vertex-proxy"));
    int checked = 0;
    for (Map.Entry<String, List<Row>> section : rows().entrySet()) {
      for (Row r : section.getValue()) {
        Matcher m = LITERAL.matcher(r.dflt().trim());
        if (!m.matches()) {
          continue; // "required", "none", prose: nothing to write into a config
        }
        Map<String, Object> config = base();
        Object value = new Yaml().load(m.group(1));
        target(config, section.getKey()).put(r.key(), value);
        ProxyConfig explicit = loader.parse(dump(config), "proxy.yaml", Path.of("/etc/vertex-proxy"));
        assertThat(explicit).as("%s.%s: %s written out", section.getKey(), r.key(), m.group(1)).isEqualTo(omitted);
        checked++;
      }
    }
    assertThat(checked).as("literal defaults checked").isGreaterThan(20);
  }

  /** The smallest valid configuration: only required keys. */
  private static Map<String, Object> base() {
    Map<String, Object> issuer = new LinkedHashMap<>();
    issuer.put("name", "gitlab");
    issuer.put("issuer", "https://gitlab.example.com");
    issuer.put("audiences", List.of("https://vertex-proxy.example.com"));
    issuer.put("login", new LinkedHashMap<>(Map.of("client_id", "vertex-proxy")));
    Map<String, Object> c = new LinkedHashMap<>();
    // with TLS, so the keys of listen.tls can be written out too
    c.put("listen", new LinkedHashMap<>(Map.of("tls", new LinkedHashMap<>(Map.of("cert", "tls.crt", "key", "tls.key")))));
    c.put("identity", new LinkedHashMap<>(Map.of("issuers", new ArrayList<>(List.of(issuer)))));
    c.put("policy", new LinkedHashMap<>(Map.of("file", "policy.yaml")));
    c.put("audit", new LinkedHashMap<>(Map.of("dir", "audit")));
    // with sessions and a login, so their keys can be written out too
    c.put("sessions", new LinkedHashMap<>(Map.of("issuer", "https://vertex-proxy.example.com", "signing_keys_dir", "keys")));
    return c;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> target(Map<String, Object> config, String shape) {
    Map<String, Object> at = config;
    if (shape.isEmpty()) {
      return at;
    }
    for (String part : shape.split("\\.")) {
      if (part.endsWith("[]")) {
        List<Object> list = (List<Object>) at.get(part.substring(0, part.length() - 2));
        at = (Map<String, Object>) list.get(0);
      } else {
        at = (Map<String, Object>) at.computeIfAbsent(part, k -> new LinkedHashMap<String, Object>());
      }
    }
    return at;
  }

  private static String dump(Map<String, Object> config) {
    DumperOptions o = new DumperOptions();
    o.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
    return new Yaml(o).dump(config).replace("{}", "{ }");
  }

  private static Map<String, List<Row>> rows() throws Exception {
    Map<String, List<Row>> out = new LinkedHashMap<>();
    List<Row> current = null;
    for (String line : Files.readAllLines(DOC, StandardCharsets.UTF_8)) {
      Matcher h = HEADING.matcher(line);
      if (h.matches()) {
        current = new ArrayList<>();
        out.put(h.group(1) == null ? "" : h.group(1), current);
        continue;
      }
      Matcher r = ROW.matcher(line);
      if (r.matches() && current != null) {
        current.add(new Row(r.group(1), r.group(2), r.group(3)));
      }
    }
    return out;
  }
}

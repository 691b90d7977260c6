package dev.vertexproxy.dev;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code --config} over the dev defaults: mappings merge, issuers merge by name, other values replace. */
class DevModeMergeTest {
  @Test
  void anExtraIssuerJoinsTheDevIssuerAndOneOfTheSameNameReplacesIt() {
    Map<String, Object> base = new LinkedHashMap<>(Map.of("identity", new LinkedHashMap<>(Map.of("issuers",
        new ArrayList<>(List.of(Map.of("name", "gitlab", "issuer", "http://dev")))))));
    DevMode.merge(base, Map.of("identity", Map.of("issuers", List.of(Map.of("name", "humans", "issuer", "http://idp"),
        Map.of("name", "gitlab", "issuer", "http://other"))), "limits", Map.of("idle_timeout", "5s")));
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> issuers = (List<Map<String, Object>>) ((Map<?, ?>) base.get("identity")).get("issuers");
    assertThat(issuers).extracting(m -> m.get("name")).containsExactly("humans", "gitlab");
    assertThat(issuers.get(1).get("issuer")).isEqualTo("http://other");
    assertThat(base.get("limits")).isEqualTo(Map.of("idle_timeout", "5s"));
  }
}

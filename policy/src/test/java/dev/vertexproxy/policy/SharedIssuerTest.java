package dev.vertexproxy.policy;

import static dev.vertexproxy.policy.TestCatalog.CATALOG;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.vertexproxy.policy.yaml.Problem;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every gitlab.com project gets its tokens from one issuer: on an issuer marked shared, an allow rule that does not
 * pin a namespace or project admits all of them, and is refused at load.
 */
class SharedIssuerTest {
  private static final String FIX = "(pin namespace_path or project_path exactly, e.g. namespace_path: acme)";
  private static final String SHARED = "issuer gitlab is shared by every project on it, so an allow rule for it must"
      + " pin namespace_id, namespace_path, project_id or project_path";

  /** An allow rule for the {@code gitlab} issuer with {@code IDENTITY} lines under {@code identity:}. */
  private static String allow(String identity) {
    return """
        version: 1
        rules:
          - name: ci
            effect: allow
            identity:
              issuer: gitlab
        IDENTITY
            methods: [customJobs.create]
            service_account: trainer@acme-ml-prod.iam.gserviceaccount.com
        """.replace("IDENTITY", identity.isEmpty() ? "" : identity.indent(6).stripTrailing());
  }

  private static Policy load(String yaml, Set<String> shared) throws PolicyException {
    return Policy.parse(yaml.replace("\n\n", "\n"), "policy.yaml", CATALOG, Set.of("gitlab", "humans"), shared);
  }

  private static List<String> refused(String yaml) {
    PolicyException e = catchThrowableOfType(PolicyException.class, () -> load(yaml, Set.of("gitlab")));
    assertThat(e).as("expected the policy to be refused:%n%s", yaml).isNotNull();
    return e.problems().stream().map(Problem::toString).toList();
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "claims: { namespace_path: acme }",
      "claims: { namespace_path: acme/ml }",
      "claims: { namespace_id: 42 }",
      "claims: { project_id: \"4711\" }",
      "claims: { project_path: acme/ml/forecasting }",
      "claims: { project_path: [acme/ml/forecasting, acme/ml/other] }",
      "claims: { project_path: \"acme/*\" }",
      "claims: { project_path: \"acme/ml/**\" }",
      "claims: { namespace_path: \"acme/**\" }",
      "claims: { namespace_path: \"acme*\", project_id: 4711 }",
      "claims: { ref_protected: \"true\", project_path: acme/ml/forecasting }"})
  void allowRulesThatPinANamespaceOrProjectLoad(String identity) throws Exception {
    assertThat(load(allow(identity), Set.of("gitlab")).rules()).hasSize(1);
  }

  @Test
  void aRuleWithoutAnyPinIsRefusedWithLineAndFix() {
    assertThat(refused(allow("claims: { ref_protected: \"true\" }"))).containsExactly(
        "policy.yaml:7:15: rules[0].identity.claims: " + SHARED + " " + FIX);
    assertThat(refused(allow(""))).containsExactly(
        "policy.yaml:6:7: rules[0].identity: " + SHARED + " " + FIX);
  }

  @Test
  void aSubjectGlobIsNotAPinAndTheMessageSaysSo() {
    assertThat(refused(allow("subject: \"project_path:acme/ml/*:*\"\nclaims: { ref_protected: \"true\" }")))
        .containsExactly("policy.yaml:8:15: rules[0].identity.claims: " + SHARED
            + "; a subject glob is not a pin " + FIX);
    assertThat(refused(allow("subject: \"project_path:acme/ml/forecasting:ref_type:branch:ref:main\"")))
        .containsExactly("policy.yaml:6:7: rules[0].identity: " + SHARED + "; a subject glob is not a pin " + FIX);
  }

  @ParameterizedTest
  @ValueSource(strings = {"\"acme*\"", "\"*/ml\"", "\"*\"", "\"**\"", "\"/*\"", "\"ac?e/*\"", "[acme/ml, \"acme*\"]"})
  void pathGlobsThatDoNotEndTheirLiteralStartAtASlashAreNoPin(String value) {
    String glob = value.startsWith("[") ? "acme*" : value.substring(1, value.length() - 1);
    for (String claim : List.of("namespace_path", "project_path")) {
      List<String> problems = refused(allow("claims: { " + claim + ": " + value + " }"));
      assertThat(problems).singleElement().asString()
          .isEqualTo("policy.yaml:7:" + (19 + claim.length()) + ": rules[0].identity.claims."
              + claim + ": " + SHARED + "; \"" + glob + "\" does not pin a namespace: a path glob pins only when its"
              + " literal start ends at a '/' (acme/* or acme/ml/**, not acme*) " + FIX);
    }
  }

  @Test
  void idsPinOnlyExactly() {
    assertThat(refused(allow("claims: { project_id: \"47*\" }"))).containsExactly(
        "policy.yaml:7:29: rules[0].identity.claims.project_id: " + SHARED + "; \"47*\" is a glob, and ids pin only"
            + " exactly " + FIX);
    assertThat(refused(allow("claims: { namespace_id: [42, \"4?\"] }"))).singleElement().asString()
        .startsWith("policy.yaml:7:31: rules[0].identity.claims.namespace_id: " + SHARED + "; \"4?\" is a glob");
  }

  @Test
  void denyRulesNeedNoPinAndOtherIssuersAreNotGuarded() throws Exception {
    String policy = """
        version: 1
        rules:
          - name: no-unprotected
            effect: deny
            identity: { issuer: gitlab, claims: { ref_protected: "false" } }
          - name: people
            effect: allow
            identity: { issuer: humans, claims: { groups: ml-team } }
            methods: [customJobs.create]
            service_account: trainer@acme-ml-prod.iam.gserviceaccount.com
        """;
    assertThat(load(policy, Set.of("gitlab")).rules()).hasSize(2);
    // the same unpinned allow rule loads when its issuer is not shared, and is refused when it is
    String unpinned = allow("claims: { ref_protected: \"true\" }");
    assertThat(load(unpinned, Set.of()).rules()).hasSize(1);
    assertThat(load(unpinned, Set.of("humans")).rules()).hasSize(1);
    assertThat(catchThrowableOfType(PolicyException.class,
        () -> Policy.parse(unpinned, "policy.yaml", CATALOG, null, Set.of("gitlab"))))
        .as("shared issuers are guarded even when the configured names are not checked")
        .isNotNull();
  }

  @Test
  void aRuleForSeveralIssuersIsGuardedIfAnyIsShared() {
    String yaml = allow("claims: { ref_protected: \"true\" }").replace("issuer: gitlab", "issuer: [humans, gitlab]");
    assertThat(refused(yaml)).singleElement().asString().contains("rules[0].identity.claims: issuer gitlab is shared");
    PolicyException both = catchThrowableOfType(PolicyException.class,
        () -> load(yaml, Set.of("gitlab", "humans")));
    assertThat(both.problems()).singleElement().asString()
        .contains("issuers humans, gitlab are shared by every project on them, so an allow rule for them must pin");
  }
}

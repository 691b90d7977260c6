package dev.vertexproxy.policy;

import static dev.vertexproxy.policy.TestCatalog.CATALOG;
import static dev.vertexproxy.policy.TestCatalog.route;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.vertexproxy.policy.route.Route;
import dev.vertexproxy.policy.yaml.Problem;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Boolean-looking claim values. GitLab sends {@code ref_protected} and friends as the strings "true"/"false"; a YAML
 * author writes {@code False}, {@code yes} or {@code on}. Canonical boolean spellings match "true"/"false" (and a
 * JSON boolean claim); the YAML 1.1 spellings are refused at load; quoted text is always literal.
 */
class ClaimBooleansTest {
  private static final Route CREATE = route("customJobs.create", "acme-ml-prod", "us-central1");

  /** An allow rule for acme/ml and a deny rule on {@code ref_protected: VALUE} (a scalar or a list). */
  private static String denyPolicy(String value) {
    return """
        version: 1
        rules:
          - name: ci-trains
            effect: allow
            identity: { issuer: gitlab, claims: { project_path: acme/ml } }
            methods: [customJobs.create]
            service_account: trainer@acme-ml-prod.iam.gserviceaccount.com
          - name: no-unprotected
            effect: deny
            identity:
              claims:
                ref_protected: VALUE
        """.replace("VALUE", value);
  }

  /** One allow rule that wants {@code ref_protected: VALUE}. */
  private static String allowPolicy(String value) {
    return """
        version: 1
        rules:
          - name: protected-trains
            effect: allow
            identity:
              issuer: gitlab
              claims:
                project_path: acme/ml
                ref_protected: VALUE
            methods: [customJobs.create]
            service_account: trainer@acme-ml-prod.iam.gserviceaccount.com
        """.replace("VALUE", value);
  }

  private static Policy policy(String yaml) throws PolicyException {
    return Policy.parse(yaml, "policy.yaml", CATALOG, Set.of("gitlab"));
  }

  private static Caller job(Object refProtected) {
    return new Caller("gitlab", "project_path:acme/ml:ref_type:branch:ref:x",
        Map.of("project_path", "acme/ml", "ref_protected", refProtected));
  }

  private static List<String> problems(String yaml) {
    PolicyException e = catchThrowableOfType(PolicyException.class, () -> policy(yaml));
    assertThat(e).as("expected the policy to be refused").isNotNull();
    return e.problems().stream().map(Problem::toString).toList();
  }

  /** The same fail-open shape with numbers: YAML 1.1 reads these as integers or floats, never as GitLab's text. */
  @ParameterizedTest
  @ValueSource(strings = {"0x1267", "011147", "4_711", "1:18:31", "4.711e3", "+4711", "4711.0", "1.50", "0b1", ".inf"})
  void numbersNotWrittenAsPlainDecimalDigitsAreRefusedWithTheFix(String spelling) {
    String yaml = denyPolicy("x").replace("ref_protected: x", "project_id: " + spelling);
    assertThat(problems(yaml)).singleElement().asString()
        .contains("policy.yaml:").contains("project_id").contains(spelling).contains("quote it (\"" + spelling + "\")");
  }

  @ParameterizedTest
  @ValueSource(strings = {"4711", "0", "-7", "1.5", "\"0x1267\"", "'04711'"})
  void plainDecimalAndQuotedNumbersAreTakenAsTheyAreWritten(String spelling) throws Exception {
    String yaml = denyPolicy("x").replace("ref_protected: x", "project_id: " + spelling);
    String text = spelling.replace("\"", "").replace("'", "");
    Caller c = new Caller("gitlab", "s", Map.of("project_path", "acme/ml", "project_id", text));
    assertThat(policy(yaml).decide(c, CREATE).rule()).isEqualTo("no-unprotected");
  }

  @Test
  void aDenyRuleWrittenFalseDeniesAnUnprotectedRef() throws Exception {
    Decision d = policy(denyPolicy("False")).decide(job("false"), CREATE);
    assertThat(d.allowed()).isFalse();
    assertThat(d.rule()).isEqualTo("no-unprotected");
    assertThat(d.reason()).isEqualTo(Reasons.DENIED_BY_RULE);
  }

  @ParameterizedTest
  @ValueSource(strings = {"false", "False", "FALSE", "[False]", "[x, FALSE]"})
  void canonicalFalseSpellingsInADenyRuleDenyStringAndBooleanClaims(String value) throws Exception {
    Policy p = policy(denyPolicy(value));
    assertThat(p.decide(job("false"), CREATE).rule()).isEqualTo("no-unprotected");
    assertThat(p.decide(job(false), CREATE).rule()).isEqualTo("no-unprotected");
    assertThat(p.decide(job(List.of("false")), CREATE).rule()).isEqualTo("no-unprotected");
    assertThat(p.decide(job("true"), CREATE).allowed()).isTrue();
    assertThat(p.decide(job(true), CREATE).allowed()).isTrue();
  }

  @ParameterizedTest
  @ValueSource(strings = {"true", "True", "TRUE", "[True]", "[x, TRUE]"})
  void canonicalTrueSpellingsInADenyRuleDenyStringAndBooleanClaims(String value) throws Exception {
    Policy p = policy(denyPolicy(value));
    assertThat(p.decide(job("true"), CREATE).rule()).isEqualTo("no-unprotected");
    assertThat(p.decide(job(true), CREATE).rule()).isEqualTo("no-unprotected");
    assertThat(p.decide(job("false"), CREATE).allowed()).isTrue();
  }

  @ParameterizedTest
  @ValueSource(strings = {"true", "True", "TRUE", "[True]", "[x, TRUE]"})
  void canonicalTrueSpellingsInAnAllowRuleMatchStringAndBooleanClaims(String value) throws Exception {
    Policy p = policy(allowPolicy(value));
    assertThat(p.decide(job("true"), CREATE).rule()).isEqualTo("protected-trains");
    assertThat(p.decide(job(true), CREATE).rule()).isEqualTo("protected-trains");
    assertThat(p.decide(job("false"), CREATE).reason()).isEqualTo(Reasons.IDENTITY_NOT_MATCHED);
    assertThat(p.decide(job(false), CREATE).reason()).isEqualTo(Reasons.IDENTITY_NOT_MATCHED);
    // the token side stays case-sensitive: GitLab writes "true", and only that (or a JSON true) is true
    assertThat(p.decide(job("True"), CREATE).reason()).isEqualTo(Reasons.IDENTITY_NOT_MATCHED);
  }

  @ParameterizedTest
  @ValueSource(strings = {"false", "False", "FALSE", "[False]", "[x, FALSE]"})
  void canonicalFalseSpellingsInAnAllowRuleMatchStringAndBooleanClaims(String value) throws Exception {
    Policy p = policy(allowPolicy(value));
    assertThat(p.decide(job("false"), CREATE).rule()).isEqualTo("protected-trains");
    assertThat(p.decide(job(false), CREATE).rule()).isEqualTo("protected-trains");
    assertThat(p.decide(job("true"), CREATE).reason()).isEqualTo(Reasons.IDENTITY_NOT_MATCHED);
  }

  @ParameterizedTest
  @ValueSource(strings = {"yes", "Yes", "YES", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF",
      "y", "Y", "n", "N"})
  void yaml11SpellingsAreRefusedInDenyAndAllowRulesWithLineAndFix(String spelling) {
    String fix = spelling + " — YAML reads this as a boolean; write true or false, or quote it (\"" + spelling
        + "\") if you mean the text";
    assertThat(problems(denyPolicy(spelling)))
        .containsExactly("policy.yaml:12:24: rules[1].identity.claims.ref_protected: " + fix);
    assertThat(problems(allowPolicy(spelling)))
        .containsExactly("policy.yaml:9:24: rules[0].identity.claims.ref_protected: " + fix);
    assertThat(problems(denyPolicy("[\"true\", " + spelling + "]")))
        .containsExactly("policy.yaml:12:33: rules[1].identity.claims.ref_protected[1]: " + fix);
    assertThat(problems(allowPolicy("[" + spelling + "]")))
        .containsExactly("policy.yaml:9:25: rules[0].identity.claims.ref_protected[0]: " + fix);
  }

  @ParameterizedTest
  @ValueSource(strings = {"yes", "no", "on", "off", "y", "n", "False", "TRUE"})
  void quotedValuesAreAlwaysLiteral(String text) throws Exception {
    for (String quoted : List.of("\"" + text + "\"", "'" + text + "'", "[\"" + text + "\"]")) {
      Policy p = policy(allowPolicy(quoted));
      assertThat(p.decide(job(text), CREATE).allowed()).as(quoted).isTrue();
      assertThat(p.decide(job(text.toLowerCase(Locale.ROOT).equals(text) ? text.toUpperCase(
          Locale.ROOT) : text.toLowerCase(Locale.ROOT)), CREATE).allowed()).as(quoted).isFalse();
    }
  }

  @Test
  void everyRefusedSpellingIsReportedAtOnce() {
    String yaml = """
        version: 1
        rules:
          - name: loose
            effect: deny
            identity:
              claims:
                ref_protected: yes
                environment_protected: [Off, "on"]
        """;
    assertThat(problems(yaml)).containsExactly(
        "policy.yaml:7:24: rules[0].identity.claims.ref_protected: yes — YAML reads this as a boolean; write true"
            + " or false, or quote it (\"yes\") if you mean the text",
        "policy.yaml:8:33: rules[0].identity.claims.environment_protected[0]: Off — YAML reads this as a boolean;"
            + " write true or false, or quote it (\"Off\") if you mean the text");
  }

  @Test
  void policyTestCasesReadClaimsTheSameWay() throws Exception {
    Policy p = policy(denyPolicy("False"));
    String tests = """
        cases:
          - name: unprotected is denied
            identity: { issuer: gitlab, claims: { project_path: acme/ml, ref_protected: False } }
            request: { method: POST, path: /v1/projects/acme-ml-prod/locations/us-central1/customJobs }
            expect: deny
            rule: no-unprotected
        """;
    assertThat(new PolicyTestRunner(p, TestCatalog::routeRequest).run(tests, "tests.yaml"))
        .allMatch(PolicyTestRunner.Result::passed);
    PolicyException e = catchThrowableOfType(PolicyException.class,
        () -> new PolicyTestRunner(p, TestCatalog::routeRequest).run(tests.replace("False", "no"), "tests.yaml"));
    assertThat(e).isNotNull();
    assertThat(e.problems()).extracting(Problem::toString).containsExactly(
        "tests.yaml:3:81: cases[0].identity.claims.ref_protected: no — YAML reads this as a boolean; write true or"
            + " false, or quote it (\"no\") if you mean the text");
  }
}

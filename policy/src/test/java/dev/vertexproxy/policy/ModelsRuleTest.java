package dev.vertexproxy.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.vertexproxy.policy.catalog.MethodCatalog;
import dev.vertexproxy.policy.route.Route;
import dev.vertexproxy.policy.route.RouteException;
import dev.vertexproxy.policy.route.Router;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ModelsRuleTest {
  private static final MethodCatalog CATALOG = MethodCatalog.bundled();
  private static final Router ROUTER = new Router(CATALOG);
  private static final Caller TEAM = new Caller("gitlab", "project_path:acme/ml/app",
      Map.of("project_path", "acme/ml/app", "ref_protected", "true"));
  private static final String BASE = "/v1/projects/acme/locations/us-central1/";

  private static Policy policy(String rules) throws PolicyException {
    return Policy.parse("version: 1\nrules:\n" + rules, "models.yaml", CATALOG, Set.of("gitlab"));
  }

  private static final String FLASH_ONLY = """
        - name: flash
          effect: allow
          identity: { issuer: gitlab, claims: { project_path: acme/ml/app } }
          methods: [publishers.models.generateContent, publishers.models.streamGenerateContent, publishers.models.rawPredict,
                    endpoints.predict, models.get]
          resources: { projects: [acme] }
          models: [gemini-2.5-flash, "gemini-2.0-*", "publishers/anthropic/models/claude-sonnet-*", "models/tuned-*"]
          service_account: ml@acme.iam.gserviceaccount.com
      """;

  private static Route route(String method, String path) throws RouteException {
    return ROUTER.route(method, BASE + path);
  }

  @Test
  void aModelsRuleAllowsTheListedModelAndRefusesAnotherNamingTheModel() throws Exception {
    Policy p = policy(FLASH_ONLY);
    Decision flash = p.decide(TEAM, route("POST", "publishers/google/models/gemini-2.5-flash:generateContent"));
    assertThat(flash.allowed()).isTrue();
    assertThat(flash.rule()).isEqualTo("flash");
    Decision pro = p.decide(TEAM, route("POST", "publishers/google/models/gemini-2.5-pro:generateContent"));
    assertThat(pro.allowed()).isFalse();
    assertThat(pro.reason()).isEqualTo(Reasons.MODEL_NOT_GRANTED);
    assertThat(pro.message()).contains("model gemini-2.5-pro is not granted").contains("closest rule: flash");
    assertThat(p.decide(TEAM, route("POST", "publishers/google/models/gemini-2.0-flash-001:streamGenerateContent"))
        .allowed()).isTrue();
  }

  @Test
  void aBareNameMatchesGoogleAndProjectModelsButNoOtherPublisher() throws Exception {
    Policy p = policy(FLASH_ONLY);
    // a partner model that shares the prefix is not "gemini-2.0-*"
    assertThat(p.decide(TEAM, route("POST", "publishers/evil/models/gemini-2.0-flash:rawPredict")).reason())
        .isEqualTo(Reasons.MODEL_NOT_GRANTED);
    assertThat(p.decide(TEAM, route("POST", "publishers/anthropic/models/claude-sonnet-4:rawPredict")).allowed()).isTrue();
    Decision opus = p.decide(TEAM, route("POST", "publishers/anthropic/models/claude-opus-4:rawPredict"));
    assertThat(opus.message()).contains("model publishers/anthropic/models/claude-opus-4 is not granted");
    assertThat(p.decide(TEAM, route("GET", "models/tuned-7@2")).allowed()).isTrue();
    assertThat(p.decide(TEAM, route("GET", "models/other")).allowed()).isFalse();
    // a path that names no model never satisfies an allow rule's models
    Decision endpoint = p.decide(TEAM, route("POST", "endpoints/42:predict"));
    assertThat(endpoint.reason()).isEqualTo(Reasons.MODEL_NOT_GRANTED);
    assertThat(endpoint.message()).contains("names no model");
  }

  @Test
  void aDenyRuleByModelFailsClosedOnAPathThatNamesNoModel() throws Exception {
    Policy p = policy("""
          - name: all
            effect: allow
            identity: { issuer: gitlab, claims: { project_path: acme/ml/app } }
            methods: [publishers.models.generateContent, endpoints.predict]
            resources: { projects: [acme] }
            service_account: ml@acme.iam.gserviceaccount.com
          - name: no-pro
            effect: deny
            methods: [publishers.models.generateContent, endpoints.predict]
            models: ["gemini-*-pro*"]
        """);
    assertThat(p.decide(TEAM, route("POST", "publishers/google/models/gemini-2.5-flash:generateContent")).allowed())
        .isTrue();
    assertThat(p.decide(TEAM, route("POST", "publishers/google/models/gemini-2.5-pro:generateContent")).rule())
        .isEqualTo("no-pro");
    // the endpoint may serve the denied model: the deny rule cannot prove otherwise
    assertThat(p.decide(TEAM, route("POST", "endpoints/42:predict")).rule()).isEqualTo("no-pro");
  }

  @Test
  void malformedModelEntriesAreLoadErrorsWithTheirLine() {
    PolicyException e = catchThrowableOfType(PolicyException.class, () -> policy("""
          - name: bad
            effect: allow
            identity: { issuer: gitlab, claims: { project_path: acme/ml/app } }
            methods: [publishers.models.generateContent]
            models: ["publishers/anthropic/claude-x", "gemini/**", "projects/p/locations/l/models/m"]
            service_account: ml@acme.iam.gserviceaccount.com
        """));
    assertThat(e).isNotNull();
    assertThat(e.getMessage()).contains("models.yaml:7").contains("\"publishers/anthropic/claude-x\" is not a model")
        .contains("'**' is not allowed").contains("\"projects/p/locations/l/models/m\" is not a model");
  }

  @Test
  void explainShowsTheModelCriterion() throws Exception {
    Policy p = policy(FLASH_ONLY);
    assertThat(p.explain(TEAM, route("POST", "publishers/google/models/gemini-2.5-pro:generateContent")))
        .singleElement().satisfies(t -> assertThat(t.failed()).isEqualTo("models"));
    assertThat(p.rules().get(0).modelPatterns()).contains("gemini-2.5-flash", "publishers/anthropic/models/claude-sonnet-*");
  }
}

package dev.vertexproxy.policy.route;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vertexproxy.policy.catalog.MethodCatalog;
import org.junit.jupiter.api.Test;

class RouteModelTest {
  private static final Router ROUTER = new Router(MethodCatalog.bundled());

  @Test
  void theModelIsTheLastSegmentOfAModelResourceAsWritten() {
    assertThat(Route.modelOf("projects/p/locations/l/publishers/google/models/gemini-2.5-flash")).isEqualTo("gemini-2.5-flash");
    assertThat(Route.modelOf("projects/p/locations/l/models/123@2")).isEqualTo("123@2");
    assertThat(Route.modelOf("publishers/google/models/m")).isEqualTo("m");
    assertThat(Route.modelOf("models/m")).isEqualTo("m");
    assertThat(Route.modelOf("projects/p/locations/l/endpoints/42")).isNull();
    assertThat(Route.modelOf("projects/p/locations/l/models/123/evaluations/4")).isNull();
    assertThat(Route.modelOf("projects/p/locations/l/models/")).isNull();
    assertThat(Route.modelOf(null)).isNull();
  }

  @Test
  void aPublisherModelNamesItsPublisherAndAProjectModelNone() throws RouteException {
    Route claude = ROUTER.route("POST",
        "/v1/projects/p/locations/us-east5/publishers/anthropic/models/claude-sonnet-4:rawPredict");
    assertThat(claude.model()).isEqualTo("claude-sonnet-4");
    assertThat(claude.publisher()).isEqualTo("anthropic");
    Route express = ROUTER.route("POST", "/v1/publishers/google/models/gemini-2.5-flash:generateContent");
    assertThat(express.model()).isEqualTo("gemini-2.5-flash");
    assertThat(express.publisher()).isEqualTo("google");
    Route tuned = ROUTER.route("GET", "/v1/projects/p/locations/us-central1/models/123@2");
    assertThat(tuned.model()).isEqualTo("123@2");
    assertThat(tuned.publisher()).isNull();
    Route endpoint = ROUTER.route("POST", "/v1/projects/p/locations/us-central1/endpoints/42:predict");
    assertThat(endpoint.model()).isNull();
    assertThat(endpoint.publisher()).isNull();
  }
}

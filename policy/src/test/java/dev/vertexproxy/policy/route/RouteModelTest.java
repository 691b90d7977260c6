package dev.vertexproxy.policy.route;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vertexproxy.policy.catalog.MethodCatalog;
import java.util.List;
import java.util.Random;
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

  /** The index-based parsing (it runs on every decision) equals the plain split-based one on generated resources. */
  @Test
  void modelAndPublisherEqualAPlainSplitOnGeneratedResources() {
    List<String> parts = List.of("projects", "p", "locations", "l", "publishers", "google", "models", "m", "", "x",
        "endpoints", "42", "models@1");
    Random random = new Random(0x5EED_0404L);
    for (int i = 0; i < 20_000; i++) {
      StringBuilder b = new StringBuilder();
      for (int n = random.nextInt(8); n >= 0; n--) {
        b.append(parts.get(random.nextInt(parts.size())));
        if (n > 0) {
          b.append('/');
        }
      }
      String resource = b.toString();
      Route route = new Route(null, resource, null, null, false);
      assertThat(route.model()).as(resource).isEqualTo(plainModel(resource));
      assertThat(route.publisher()).as(resource).isEqualTo(plainPublisher(resource));
    }
  }

  private static String plainModel(String resource) {
    int slash = resource.lastIndexOf('/');
    if (slash < 0 || slash == resource.length() - 1) {
      return null;
    }
    String parent = resource.substring(0, slash);
    return parent.equals("models") || parent.endsWith("/models") ? resource.substring(slash + 1) : null;
  }

  private static String plainPublisher(String resource) {
    if (plainModel(resource) == null) {
      return null;
    }
    String[] segments = resource.split("/", -1);
    int models = segments.length - 2;
    return models >= 2 && segments[models - 2].equals("publishers") ? segments[models - 1] : null;
  }
}

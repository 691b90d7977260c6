package dev.vertexproxy.policy.route;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.vertexproxy.policy.catalog.MethodCatalog;
import dev.vertexproxy.policy.catalog.VertexMethod;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RouterTest {
  private static final Router ROUTER = new Router(MethodCatalog.bundled());
  private static final String GEMINI = "/v1/projects/P/locations/us-central1/publishers/google/models/gemini-2.0-flash";

  private static RouteException refused(String httpMethod, String target) {
    RouteException e = catchThrowableOfType(RouteException.class, () -> ROUTER.route(httpMethod, target));
    assertThat(e).as("%s %s must be refused", httpMethod, target).isNotNull();
    return e;
  }

  @Test
  void generateContentOnRegionalPublisherModel() throws RouteException {
    Route route = ROUTER.route("POST", GEMINI + ":generateContent");
    assertThat(route.method().id()).isEqualTo("aiplatform.projects.locations.publishers.models.generateContent");
    assertThat(route.method().name()).isEqualTo("publishers.models.generateContent");
    assertThat(route.version()).isEqualTo("v1");
    assertThat(route.resource()).isEqualTo("projects/P/locations/us-central1/publishers/google/models/gemini-2.0-flash");
    assertThat(route.project()).isEqualTo("P");
    assertThat(route.location()).isEqualTo("us-central1");
    assertThat(route.upload()).isFalse();
  }

  @Test
  void v1beta1FormRoutesToTheV1beta1Method() throws RouteException {
    Route route = ROUTER.route("POST", GEMINI.replace("/v1/", "/v1beta1/") + ":generateContent");
    assertThat(route.version()).isEqualTo("v1beta1");
    assertThat(route.method().id()).isEqualTo("aiplatform.projects.locations.publishers.models.generateContent");
    assertThat(route.resource()).startsWith("projects/P/locations/us-central1/");
  }

  @Test
  void streamingAndSystemParametersInTheQueryRoute() throws RouteException {
    assertThat(ROUTER.route("POST", GEMINI + ":streamGenerateContent?alt=sse").method().name())
        .isEqualTo("publishers.models.streamGenerateContent");
    assertThat(ROUTER.route("POST", GEMINI + ":generateContent?$alt=json;enum-encoding=int").resource())
        .endsWith("/models/gemini-2.0-flash");
    assertThat(ROUTER.route("POST", GEMINI + ":generateContent?%24alt=json").method().name())
        .isEqualTo("publishers.models.generateContent");
    assertThat(ROUTER.route("GET", "/v1/projects/p/locations/l/endpoints?pageSize=10&filter=labels.team%3D%22ml%22"
        + "&pageToken=abc%2Fdef%3D%3D&").method().name()).isEqualTo("endpoints.list");
    assertThat(ROUTER.route("GET", "/v1/projects/p/locations/l/endpoints?").method().name()).isEqualTo("endpoints.list");
  }

  @Test
  void modelVersionWithAtSignRawOrEncoded() throws RouteException {
    String raw = "/v1/projects/p/locations/us-east5/publishers/anthropic/models/claude-3-5-sonnet@20240620:rawPredict";
    Route route = ROUTER.route("POST", raw);
    assertThat(route.method().name()).isEqualTo("publishers.models.rawPredict");
    assertThat(route.resource()).endsWith("/models/claude-3-5-sonnet@20240620");
    assertThat(ROUTER.route("POST", raw.replace("@", "%40"))).isEqualTo(route);
    // Escapes of plain characters decode too (RFC 3986 equivalence), in placeholders and literal segments.
    assertThat(ROUTER.route("POST", raw.replace("/publishers/", "/publi%73hers/"))).isEqualTo(route);
  }

  @Test
  void ragFileUploadOnTheUploadPath() throws RouteException {
    Route route = ROUTER.route("POST",
        "/upload/v1/projects/p/locations/us-central1/ragCorpora/123/ragFiles:upload?uploadType=multipart");
    assertThat(route.method().id()).isEqualTo("aiplatform.media.upload");
    assertThat(route.upload()).isTrue();
    assertThat(route.resource()).isEqualTo("projects/p/locations/us-central1/ragCorpora/123/ragFiles");
    assertThat(route.project()).isEqualTo("p");
    assertThat(route.location()).isEqualTo("us-central1");
    assertThat(ROUTER.route("POST", "/v1/projects/p/locations/us-central1/ragCorpora/123/ragFiles:upload").upload())
        .isFalse();
  }

  @Test
  void collectionMethodsNameTheParentCollection() throws RouteException {
    Route create = ROUTER.route("POST", "/v1/projects/p/locations/l/customJobs");
    assertThat(create.method().name()).isEqualTo("customJobs.create");
    assertThat(create.resource()).isEqualTo("projects/p/locations/l/customJobs");
    Route upload = ROUTER.route("POST", "/v1/projects/p/locations/l/models:upload");
    assertThat(upload.method().name()).isEqualTo("models.upload");
    assertThat(upload.resource()).isEqualTo("projects/p/locations/l/models");
  }

  @Test
  void expressModeTopLevelCollectionsHaveNoProjectAndGlobalLocation() throws RouteException {
    Route generate = ROUTER.route("POST", "/v1/publishers/google/models/gemini-2.0-flash:generateContent");
    assertThat(generate.method().id()).isEqualTo("aiplatform.publishers.models.generateContent");
    assertThat(generate.resource()).isEqualTo("publishers/google/models/gemini-2.0-flash");
    assertThat(generate.project()).isNull();
    assertThat(generate.location()).isEqualTo("global");

    assertThat(ROUTER.route("POST", "/v1beta1/endpoints/E:predict").method().id())
        .isEqualTo("aiplatform.endpoints.predict");
    Route batch = ROUTER.route("GET", "/v1/batchPredictionJobs");
    assertThat(batch.method().id()).isEqualTo("aiplatform.batchPredictionJobs.list");
    assertThat(batch.resource()).isEqualTo("batchPredictionJobs");
    assertThat(batch.project()).isNull();
  }

  @Test
  void verbOnTheVersionSegmentRoutesWithAnEmptyResource() throws RouteException {
    Route route = ROUTER.route("POST", "/v1:evaluateInstances");
    assertThat(route.method().id()).isEqualTo("aiplatform.evaluateInstances");
    assertThat(route.resource()).isEmpty();
    assertThat(route.project()).isNull();
    assertThat(route.location()).isEqualTo("global");
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "GET /v1/projects/P/locations/us-central1/publishers/google/models/M:generateContent", // POST-only verb
      "post /v1/projects/P/locations/us-central1/publishers/google/models/M:generateContent", // methods are case-sensitive
      "POST /v2/projects/P/locations/us-central1/publishers/google/models/M:generateContent", // unknown version
      "POST /v1/projects/P/locations/us-central1/publishers/google/models/M:generateEverything", // unknown verb
      "POST /v1/projects/P/locations/us-central1/publishers/google/models/M:", // empty verb
      "POST /v1/projects/P/locations/us-central1/publishers/google/models/M:generateContent:x",
      "POST /v1/projects/P/locations/us-central1/publishers/google/models", // no such collection method
      "GET /v1/projects/P/locations/us-central1/widgets", // unknown collection
      "GET /v1/projects/P:x/locations/us-central1/endpoints", // ':' is never inside a resource id
      "GET /v1", "GET /upload", "GET /upload/v1", "POST /upload/v1:evaluateInstances",
      "HEAD /v1/projects/p/locations/l/endpoints",
      "GET /", "GET /healthz", "GET /v1/projects/p/locations/l/endpoints/e/extra"})
  void unknownRoutesAreNotFound(String request) {
    String[] parts = request.split(" ", 2);
    RouteException e = refused(parts[0], parts[1]);
    assertThat(e.reason()).isIn(Router.ROUTE_NOT_FOUND, Router.PATH_NOT_CANONICAL);
    if (!parts[1].equals("/")) {
      assertThat(e.reason()).isEqualTo(Router.ROUTE_NOT_FOUND);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "?access_token=x", "?oauth_token=x", "?key=x", "?callback=x", "?KEY=x", "?Access_Token=x", "?$key=x",
      "?$callback=f", "?%24key=x", "?%6Bey=x", "?alt=sse&key=x", "?key", "?$httpMethod=DELETE", "?httpmethod=GET",
      "?userProject=x", "?$userProject=x", "?USERPROJECT=x", "?%75serProject=x", "?=x", "?a+b=1", "?1a=2", "?$=1",
      "?a%00=1", "?%C3%A9=1", "?a[]=1", "?$.xgafv=2", "?a/b=1"})
  void credentialsJsonpMethodOverridesAndOddNamesInTheQueryAreRefused(String query) {
    RouteException e = refused("POST", GEMINI + ":generateContent" + query);
    assertThat(e.reason()).isEqualTo(Router.QUERY_NOT_ALLOWED);
    assertThat(e.getMessage()).doesNotContain("=x").doesNotContain("DELETE");
  }

  @ParameterizedTest
  @ValueSource(strings = {"projects/p", "http://evil/v1/projects/p/locations/l/endpoints", "*", "",
      "//aiplatform.googleapis.com/v1/projects/p/locations/l/endpoints"})
  void onlyOriginFormTargetsAreAccepted(String target) {
    assertThat(refused("GET", target).reason()).isEqualTo(Router.PATH_NOT_CANONICAL);
    assertThat(catchThrowableOfType(RouteException.class, () -> ROUTER.route("GET", null)).reason())
        .isEqualTo(Router.PATH_NOT_CANONICAL);
  }

  @Test
  void refusalMessagesDoNotEchoTheRequest() {
    String secret = "ya29.secret-token";
    for (String target : List.of("/v1/projects/" + secret + "/%zz", "/v1/projects/" + secret + "/x?key=" + secret,
        "/v1/" + secret + "/../x", "/v1/projects/" + secret + "/widgets")) {
      assertThat(refused("GET", target).getMessage()).doesNotContain(secret).doesNotContain("ya29");
    }
  }

  @Test
  void loggableTargetKeepsThePathAndOnlyQueryParameterNames() {
    assertThat(Router.loggableTarget(GEMINI + ":streamGenerateContent?alt=sse&key=SECRET&$fields=a&x%00=1&&"))
        .isEqualTo(GEMINI + ":streamGenerateContent?alt&key&$fields&*");
    assertThat(Router.loggableTarget("/v1/a b\u0001\u00e9?access_token=ya29.x")).isEqualTo("/v1/a%20b%01%C3%A9?access_token");
    assertThat(Router.loggableTarget("/v1/x#frag?key=1")).isEqualTo("/v1/x");
    assertThat(Router.loggableTarget("/" + "a".repeat(2000))).hasSize(512 + 3).endsWith("...");
    assertThat(Router.loggableTarget(null)).isEmpty();
  }

  // ---- precedence between overlapping catalog methods (none exist in the discovery documents today) ----

  private static VertexMethod get(String id, String flatPath) {
    return new VertexMethod(id, MethodCatalog.shortName(id), "v1", "GET", flatPath, null);
  }

  @Test
  void literalSegmentBeatsPlaceholder() throws RouteException {
    Router router = new Router(MethodCatalog.of(List.of(
        get("aiplatform.things.get", "v1/projects/{projectsId}/things/{thingsId}"),
        get("aiplatform.things.special", "v1/projects/{projectsId}/things/special"))));
    assertThat(router.route("GET", "/v1/projects/p/things/special").method().id()).isEqualTo("aiplatform.things.special");
    assertThat(router.route("GET", "/v1/projects/p/things/other").method().id()).isEqualTo("aiplatform.things.get");
  }

  @Test
  void moreLiteralSegmentsWinThenTheLeftmostLiteral() throws RouteException {
    Router router = new Router(MethodCatalog.of(List.of(
        get("aiplatform.leftLiteral", "v1/lit/{bId}/{cId}/x"),
        get("aiplatform.moreLiterals", "v1/{aId}/fixed/end/x"),
        get("aiplatform.sameCount", "v1/{aId}/fixed/{bId}/x"))));
    // moreLiterals has 3 literal segments, leftLiteral 2: the count decides before position.
    assertThat(router.route("GET", "/v1/lit/fixed/end/x").method().id()).isEqualTo("aiplatform.moreLiterals");
    // leftLiteral and sameCount both have 2: the literal further left decides.
    assertThat(router.route("GET", "/v1/lit/fixed/other/x").method().id()).isEqualTo("aiplatform.leftLiteral");
    assertThat(router.route("GET", "/v1/lot/fixed/other/x").method().id()).isEqualTo("aiplatform.sameCount");
  }

  @Test
  void exactDuplicateShapeGoesToTheSmallestIdWhateverTheCatalogOrder() throws RouteException {
    VertexMethod z = get("aiplatform.z.get", "v1/projects/{projectsId}/dupes/{dupesId}");
    VertexMethod a = get("aiplatform.a.get", "v1/projects/{projectsId}/dupes/{otherName}");
    for (List<VertexMethod> order : List.of(List.of(z, a), List.of(a, z))) {
      Route route = new Router(MethodCatalog.of(new ArrayList<>(order))).route("GET", "/v1/projects/p/dupes/d");
      assertThat(route.method()).isEqualTo(a);
      assertThat(route.project()).isEqualTo("p");
    }
  }

  @Test
  void malformedCatalogTemplatesAreRejectedAtConstruction() {
    for (String bad : List.of("v2/projects/{projectsId}", "v1/projects//x", "v1/pro{x}jects", "v1/a:b/c", "v1/x:")) {
      assertThat(catchThrowableOfType(IllegalArgumentException.class,
          () -> new Router(MethodCatalog.of(List.of(get("aiplatform.bad", bad)))))).as(bad).isNotNull();
    }
  }
}

package dev.vertexproxy.policy.route;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import dev.vertexproxy.policy.catalog.MethodCatalog;
import dev.vertexproxy.policy.route.DiscoveryDocuments.DiscoveryMethod;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * For every method of both discovery documents: a concrete request built from its {@code flatPath} routes to it
 * (resource, project, location, version), and non-canonical variants of that request are refused.
 */
class RouterEveryMethodTest {
  private static final Pattern PLACEHOLDER = Pattern.compile("\\{([^}]+)}");
  private static final List<DiscoveryMethod> METHODS = DiscoveryDocuments.methods();
  private static final Router ROUTER = new Router(MethodCatalog.bundled());

  /** The method expected to win for each (version, HTTP method, shape): itself, or the smallest id among duplicates. */
  private static final Map<String, String> WINNER_BY_SHAPE = METHODS.stream().collect(Collectors.groupingBy(
      RouterEveryMethodTest::shapeKey,
      Collectors.collectingAndThen(Collectors.minBy(Comparator.comparing(DiscoveryMethod::id)), m -> m.get().id())));

  private static String shapeKey(DiscoveryMethod m) {
    return m.version() + " " + m.httpMethod() + " " + PLACEHOLDER.matcher(m.flatPath()).replaceAll("{}");
  }

  /** A plausible id for a placeholder; model ids carry '@' like publisher model versions do. */
  private static String fill(String placeholder, int n) {
    switch (placeholder) {
      case "projectsId":
        return "my-proj";
      case "locationsId":
        return "us-central1";
      case "modelsId":
        return "model-" + n + "@001";
      default:
        return "id-" + n;
    }
  }

  private static String concrete(String template, Function<String, String> encodeValue) {
    Matcher m = PLACEHOLDER.matcher(template);
    StringBuilder out = new StringBuilder();
    int n = 0;
    while (m.find()) {
      m.appendReplacement(out, Matcher.quoteReplacement(encodeValue.apply(fill(m.group(1), ++n))));
    }
    m.appendTail(out);
    return out.toString();
  }

  /** The expected resource: the concrete path after the version, without the verb. */
  private static String resourceOf(String concretePath) {
    String afterVersion = concretePath.contains("/") ? concretePath.substring(concretePath.indexOf('/') + 1) : "";
    int slash = afterVersion.lastIndexOf('/');
    int colon = afterVersion.indexOf(':', slash + 1);
    return colon < 0 ? afterVersion : afterVersion.substring(0, colon);
  }

  @Test
  void discoveryDocumentsHaveTheExpectedMethodsAndNoDuplicateShapes() {
    assertThat(METHODS).hasSize(2315);
    assertThat(METHODS).filteredOn(m -> m.version().equals("v1")).hasSize(1108);
    // Verified while writing the router: no two methods share version, HTTP method and path shape, so every
    // method is its own winner. If Google adds such a pair, this documents it and the tie-break test covers the rule.
    assertThat(WINNER_BY_SHAPE).hasSize(METHODS.size());
  }

  @TestFactory
  Stream<DynamicTest> everyMethodRoutesToItself() {
    return METHODS.stream().map(m -> dynamicTest(m.version() + " " + m.httpMethod() + " " + m.id(), () -> {
      String path = concrete(m.flatPath(), Function.identity());
      Route route = ROUTER.route(m.httpMethod(), "/" + path);
      assertRoute(route, m, resourceOf(path), false);

      // The same request with '@' percent-encoded (as some clients send model versions) routes identically.
      if (path.contains("@")) {
        Route encoded = ROUTER.route(m.httpMethod(), "/" + concrete(m.flatPath(), v -> v.replace("@", "%40")));
        assertThat(encoded).isEqualTo(route);
      }
    }));
  }

  @TestFactory
  Stream<DynamicTest> everyUploadPathRoutesAsUpload() {
    List<DiscoveryMethod> uploads = METHODS.stream().filter(m -> m.uploadPath() != null).collect(Collectors.toList());
    assertThat(uploads).extracting(DiscoveryMethod::version).containsExactlyInAnyOrder("v1", "v1beta1");
    return uploads.stream().map(m -> dynamicTest(m.version() + " upload " + m.id(), () -> {
      // Fill {+parent} from the parameter's own pattern (^projects/[^/]+/locations/[^/]+/ragCorpora/[^/]+$),
      // independently of how the generator flattened it.
      assertThat(m.uploadPath()).contains("{+parent}");
      String[] parts = m.uploadParentPattern().replaceAll("^\\^|\\$$", "").replace("[^/]+", "*").split("/");
      for (int i = 0; i < parts.length; i++) {
        if (parts[i].equals("*")) {
          parts[i] = fill(parts[i - 1] + "Id", i);
        }
      }
      String parent = String.join("/", parts);
      String target = m.uploadPath().replace("{+parent}", parent);
      Route route = ROUTER.route(m.httpMethod(), target);
      assertRoute(route, m, resourceOf(target.substring("/upload/".length())), true);
      assertThat(route.resource()).isEqualTo(parent + "/ragFiles");

      // Not on GET, and not for a method without an upload path.
      assertThat(catchThrowableOfType(RouteException.class, () -> ROUTER.route("GET", target)).reason())
          .isEqualTo(Router.ROUTE_NOT_FOUND);
    }));
  }

  @Test
  void uploadPrefixRoutesOnlyMethodsThatTakeMedia() {
    RouteException e = catchThrowableOfType(RouteException.class, () -> ROUTER.route("POST",
        "/upload/v1/projects/my-proj/locations/us-central1/publishers/google/models/m:generateContent"));
    assertThat(e.reason()).isEqualTo(Router.ROUTE_NOT_FOUND);
  }

  private static void assertRoute(Route route, DiscoveryMethod m, String resource, boolean upload) {
    String expectedId = WINNER_BY_SHAPE.get(shapeKey(m));
    assertThat(route.method().id()).isEqualTo(expectedId);
    assertThat(route.method().httpMethod()).isEqualTo(m.httpMethod());
    assertThat(route.version()).isEqualTo(m.version());
    assertThat(route.resource()).isEqualTo(resource);
    assertThat(route.project()).isEqualTo(m.flatPath().contains("projects/{projectsId}") ? "my-proj" : null);
    assertThat(route.location())
        .isEqualTo(m.flatPath().contains("locations/{locationsId}") ? "us-central1" : "global");
    assertThat(route.upload()).isEqualTo(upload);
  }

  @TestFactory
  Stream<DynamicTest> nonCanonicalVariantsOfEveryMethodAreRefused() {
    return METHODS.stream().map(m -> dynamicTest(m.version() + " " + m.httpMethod() + " " + m.id(), () -> {
      String path = "/" + concrete(m.flatPath(), Function.identity());
      // Plain loop (no per-variant AssertJ description): ~80,000 refusals must stay cheap.
      List<String> wronglyHandled = new ArrayList<>();
      for (String variant : nonCanonicalVariants(path)) {
        try {
          ROUTER.route(m.httpMethod(), variant);
          wronglyHandled.add("routed: " + variant);
        } catch (RouteException e) {
          if (!e.reason().equals(Router.PATH_NOT_CANONICAL)) {
            wronglyHandled.add(e.reason() + ": " + variant);
          }
        }
      }
      assertThat(wronglyHandled).isEmpty();
    }));
  }

  /** Variants of a canonical path {@code /v1/a/b/c:verb} that Google might read differently from the proxy. */
  static List<String> nonCanonicalVariants(String path) {
    int firstSlash = path.indexOf('/', 1);
    String version = firstSlash < 0 ? path : path.substring(0, firstSlash);
    String rest = firstSlash < 0 ? "" : path.substring(firstSlash);
    int lastSlash = path.lastIndexOf('/');
    int colon = path.indexOf(':', lastSlash);
    int nameEnd = colon < 0 ? path.length() : colon;
    // Inserts text into the last segment, before its verb.
    Function<String, String> inLast = s -> path.substring(0, nameEnd) + s + path.substring(nameEnd);
    List<String> variants = new ArrayList<>(List.of(
        version + "/." + rest, version + "/.." + rest, version + "/%2e%2E" + rest, version + "/%2E" + rest,
        version + "/x/.." + rest, version + "/x/%2e." + rest,
        version + "/" + rest, "/" + path, path + "/",
        inLast.apply("%2Fx"), inLast.apply("%2fx"), inLast.apply("%5Cx"), inLast.apply("%5c"), inLast.apply("\\x"),
        inLast.apply("\u0001"), inLast.apply("\u007f"), inLast.apply(" "), inLast.apply("\u00e9"),
        inLast.apply("%00"), inLast.apply("%zz"), inLast.apply("%4"), inLast.apply("%"),
        inLast.apply("%252e"), inLast.apply("%252F"), inLast.apply("%3A"), inLast.apply("%3f"), inLast.apply("%23"),
        inLast.apply("%3B"), inLast.apply(";x"), inLast.apply("#x"),
        path + "#frag", path + "?alt=%zz", path + "?a=%2", "http://aiplatform.googleapis.com" + path,
        path.substring(1)));
    return variants;
  }
}

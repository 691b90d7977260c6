package dev.vertexproxy.policy.route;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vertexproxy.policy.catalog.MethodCatalog;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;

/** Whatever a caller sends, the router either refuses it with a RouteException or yields a clean resource name. */
class RouterPropertiesTest {
  private static final Router ROUTER = new Router(MethodCatalog.bundled());
  private static final List<String> METHODS = List.of("GET", "POST", "DELETE", "PATCH", "PUT");

  @Property(tries = 2000)
  void arbitraryUnicodeJunkIsRefusedOrRoutedCleanly(@ForAll String junk, @ForAll("httpMethods") String httpMethod) {
    check(httpMethod, junk);
    check(httpMethod, "/" + junk);
    check(httpMethod, "/v1/" + junk);
  }

  @Property(tries = 2000)
  void pathsAssembledFromTrickyPiecesAreRefusedOrRoutedCleanly(@ForAll("trickyTargets") String target,
                                                               @ForAll("httpMethods") String httpMethod) {
    Statistics.collect(check(httpMethod, target));
  }

  /**
   * Real catalog paths whose placeholders are filled with plain ids and tricky values (dot segments, encoded
   * separators, double encoding...): many route, so the resource invariants are exercised, not just the refusals.
   */
  @Property(tries = 1000)
  void catalogPathsWithTrickyIdsAreRefusedOrRoutedCleanly(@ForAll("catalogTargets") String target) {
    int space = target.indexOf(' ');
    Statistics.collect(check(target.substring(0, space), target.substring(space + 1)));
    Statistics.coverage(c -> c.check("routed").percentage(p -> p >= 20));
  }

  @Provide
  Arbitrary<String> catalogTargets() {
    List<dev.vertexproxy.policy.catalog.VertexMethod> methods = MethodCatalog.bundled().methods();
    Arbitrary<String> id = Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(8, Arbitraries.strings().withCharRange('a', 'z').numeric().withChars("-_.~@")
            .ofMinLength(1).ofMaxLength(8)),
        net.jqwik.api.Tuple.of(2, Arbitraries.of(".", "..", "%2e", "%2E%2e", ".%2E", "a%2Fb", "a%5cb", "%40", "m%401",
            "%25", "%252e", "%00", "%zz", "%4", "a:b", "a;b", "", "a/b", "a/../b", "%41", "%7E", "a%20b", "é",
            "%C3%A9", "a?b", "a#b")));
    return Arbitraries.of(methods).flatMap(m -> {
      String[] parts = (m.uploadPath() != null && m.flatPath().hashCode() % 2 == 0
          ? m.uploadPath().substring(1) : m.flatPath()).split("\\{[^}]+}", -1);
      return id.list().ofSize(parts.length - 1).map(ids -> {
        StringBuilder target = new StringBuilder(m.httpMethod()).append(" /").append(parts[0]);
        for (int i = 1; i < parts.length; i++) {
          target.append(ids.get(i - 1)).append(parts[i]);
        }
        return target.toString();
      });
    });
  }

  /** Returns the outcome: {@code routed} or the refusal reason. */
  private static String check(String httpMethod, String target) {
    Route route;
    try {
      route = ROUTER.route(httpMethod, target);
    } catch (RouteException e) {
      assertThat(e.reason()).isIn(Router.ROUTE_NOT_FOUND, Router.PATH_NOT_CANONICAL, Router.QUERY_NOT_ALLOWED);
      return e.reason();
    }
    assertThat(route.method().httpMethod()).isEqualTo(httpMethod);
    String flat = route.upload() ? route.method().uploadPath().substring("/upload/".length()) : route.method().flatPath();
    int templateSegments = flat.split("/", -1).length - 1; // after the version
    if (templateSegments == 0) {
      assertThat(route.resource()).isEmpty();
      return "routed";
    }
    String[] segments = route.resource().split("/", -1);
    // A '/' decoded inside a segment would show up as an extra segment.
    assertThat(segments).hasSize(templateSegments);
    for (String segment : segments) {
      assertThat(segment).isNotEmpty().isNotEqualTo(".").isNotEqualTo("..");
      assertThat(segment.chars()).allMatch(c -> c > 0x20 && c < 0x7f && "/\\%:?#;".indexOf(c) < 0);
    }
    return "routed";
  }

  @Provide
  Arbitrary<String> httpMethods() {
    return Arbitraries.of(METHODS);
  }

  @Provide
  Arbitrary<String> trickyTargets() {
    Arbitrary<String> piece = Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(6, Arbitraries.of("projects", "p", "locations", "us-central1", "publishers", "google",
            "models", "m@1", "m%401", "gemini:generateContent", "m:predict", "endpoints", "e:predict", "customJobs",
            "ragCorpora", "ragFiles:upload", "batchPredictionJobs", "v1", "v1beta1", "upload", "operations")),
        net.jqwik.api.Tuple.of(3, Arbitraries.of(".", "..", "%2e", "%2E%2e", ".%2e", "%2F", "a%2fb", "%5c", "\\", "%40",
            "%25", "%252e", "%", "%0", "%00", "%zz", ":", "::", "?", "#", "", ";", "a;b", "%3b", "%3A", "\u0000", "\t",
            " ", "\u00e9", "%C3%A9", "?key=1", "?alt=sse", "?a=%2", "~", "*", "{x}")),
        net.jqwik.api.Tuple.of(1, Arbitraries.strings().ofMaxLength(5)));
    Arbitrary<String> prefix = Arbitraries.of("/v1/projects/p/locations/us-central1/", "/v1beta1/", "/upload/v1/",
        "/v1/", "/", "");
    return net.jqwik.api.Combinators.combine(prefix, piece.list().ofMaxSize(9))
        .as((p, pieces) -> p + String.join("/", pieces));
  }
}

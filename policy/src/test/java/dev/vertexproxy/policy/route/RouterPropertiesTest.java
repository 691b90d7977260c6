package dev.vertexproxy.policy.route;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vertexproxy.policy.catalog.MethodCatalog;
import dev.vertexproxy.policy.catalog.VertexMethod;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Whatever a caller sends, the router either refuses it with a RouteException or yields a clean resource name.
 *
 * <p>Inputs come from a {@link Random} with a fixed seed per test, so a failure repeats on every run; the failure
 * message names the seed, the try and the (escaped) input.
 */
class RouterPropertiesTest {
  private static final Router ROUTER = new Router(MethodCatalog.bundled());
  private static final List<String> METHODS = List.of("GET", "POST", "DELETE", "PATCH", "PUT");

  private static final List<String> TRICKY_IDS = List.of(".", "..", "%2e", "%2E%2e", ".%2E", "a%2Fb", "a%5cb", "%40",
      "m%401", "%25", "%252e", "%00", "%zz", "%4", "a:b", "a;b", "", "a/b", "a/../b", "%41", "%7E", "a%20b", "é",
      "%C3%A9", "a?b", "a#b");
  private static final List<String> PLAIN_PIECES = List.of("projects", "p", "locations", "us-central1", "publishers",
      "google", "models", "m@1", "m%401", "gemini:generateContent", "m:predict", "endpoints", "e:predict", "customJobs",
      "ragCorpora", "ragFiles:upload", "batchPredictionJobs", "v1", "v1beta1", "upload", "operations");
  private static final List<String> TRICKY_PIECES = List.of(".", "..", "%2e", "%2E%2e", ".%2e", "%2F", "a%2fb", "%5c",
      "\\", "%40", "%25", "%252e", "%", "%0", "%00", "%zz", ":", "::", "?", "#", "", ";", "a;b", "%3b", "%3A", "\u0000",
      "\t", " ", "\u00e9", "%C3%A9", "?key=1", "?alt=sse", "?a=%2", "~", "*", "{x}");
  private static final List<String> PREFIXES = List.of("/v1/projects/p/locations/us-central1/", "/v1beta1/",
      "/upload/v1/", "/v1/", "/", "");
  private static final String ID_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789-_.~@";

  @Test
  void arbitraryUnicodeJunkIsRefusedOrRoutedCleanly() {
    long seed = 0x5EED_0001L;
    Random random = new Random(seed);
    for (int i = 0; i < 2000; i++) {
      String junk = i == 0 ? "" : unicodeJunk(random, 40);
      String httpMethod = pick(random, METHODS);
      checked(seed, i, httpMethod, junk);
      checked(seed, i, httpMethod, "/" + junk);
      checked(seed, i, httpMethod, "/v1/" + junk);
    }
  }

  @Test
  void pathsAssembledFromTrickyPiecesAreRefusedOrRoutedCleanly() {
    long seed = 0x5EED_0002L;
    Random random = new Random(seed);
    Map<String, Integer> outcomes = new TreeMap<>();
    int tries = 2000;
    for (int i = 0; i < tries; i++) {
      String target = trickyTarget(random);
      String httpMethod = pick(random, METHODS);
      outcomes.merge(checked(seed, i, httpMethod, target), 1, Integer::sum);
    }
    // Not only refusals: some assembled paths must route, and every refusal reason must come up.
    assertThat(outcomes).as("outcomes of %d tries with seed %d", tries, seed)
        .containsKeys("routed", Router.ROUTE_NOT_FOUND, Router.PATH_NOT_CANONICAL, Router.QUERY_NOT_ALLOWED);
  }

  /**
   * Real catalog paths whose placeholders are filled with plain ids and tricky values (dot segments, encoded
   * separators, double encoding...): many route, so the resource invariants are exercised, not just the refusals.
   */
  @Test
  void catalogPathsWithTrickyIdsAreRefusedOrRoutedCleanly() {
    long seed = 0x5EED_0003L;
    Random random = new Random(seed);
    List<VertexMethod> methods = MethodCatalog.bundled().methods();
    Map<String, Integer> outcomes = new TreeMap<>();
    int tries = 1000;
    for (int i = 0; i < tries; i++) {
      String target = catalogTarget(random, methods);
      int space = target.indexOf(' ');
      outcomes.merge(checked(seed, i, target.substring(0, space), target.substring(space + 1)), 1, Integer::sum);
    }
    int routed = outcomes.getOrDefault("routed", 0);
    assertThat(routed * 100.0 / tries)
        .as("percentage routed of %d tries with seed %d, outcomes %s", tries, seed, outcomes)
        .isGreaterThanOrEqualTo(20);
  }

  /** {@code "GET /v1/projects/..."}: a real catalog path (or its upload path) with random ids in the placeholders. */
  private static String catalogTarget(Random random, List<VertexMethod> methods) {
    VertexMethod m = pick(random, methods);
    String[] parts = (m.uploadPath() != null && m.flatPath().hashCode() % 2 == 0
        ? m.uploadPath().substring(1) : m.flatPath()).split("\\{[^}]+}", -1);
    StringBuilder target = new StringBuilder(m.httpMethod()).append(" /").append(parts[0]);
    for (int i = 1; i < parts.length; i++) {
      String id = random.nextInt(10) < 8 ? randomString(random, ID_CHARS, 1 + random.nextInt(8))
          : pick(random, TRICKY_IDS);
      target.append(id).append(parts[i]);
    }
    return target.toString();
  }

  /** A prefix and up to nine pieces joined by '/': mostly real path words, often tricky ones, sometimes junk. */
  private static String trickyTarget(Random random) {
    String prefix = pick(random, PREFIXES);
    int count = random.nextInt(10);
    StringBuilder pieces = new StringBuilder();
    for (int i = 0; i < count; i++) {
      if (i > 0) {
        pieces.append('/');
      }
      int roll = random.nextInt(10);
      pieces.append(roll < 6 ? pick(random, PLAIN_PIECES) : roll < 9 ? pick(random, TRICKY_PIECES)
          : unicodeJunk(random, 5));
    }
    return prefix + pieces;
  }

  /**
   * Up to {@code maxLength} chars drawn from printable ASCII, ASCII controls (NUL, tab, DEL...), any BMP char
   * (lone surrogates included) and supplementary code points.
   */
  private static String unicodeJunk(Random random, int maxLength) {
    int length = random.nextInt(4) == 0 ? random.nextInt(3) : random.nextInt(maxLength + 1);
    StringBuilder junk = new StringBuilder();
    while (junk.length() < length) {
      int roll = random.nextInt(10);
      if (roll < 5) {
        junk.append((char) (0x20 + random.nextInt(0x5f)));
      } else if (roll < 6) {
        junk.append(random.nextBoolean() ? (char) random.nextInt(0x20) : '\u007f');
      } else if (roll < 9) {
        junk.append((char) random.nextInt(Character.MAX_VALUE + 1));
      } else {
        junk.appendCodePoint(Character.MIN_SUPPLEMENTARY_CODE_POINT
            + random.nextInt(Character.MAX_CODE_POINT + 1 - Character.MIN_SUPPLEMENTARY_CODE_POINT));
      }
    }
    return junk.toString();
  }

  private static String randomString(Random random, String chars, int length) {
    StringBuilder s = new StringBuilder(length);
    for (int i = 0; i < length; i++) {
      s.append(chars.charAt(random.nextInt(chars.length())));
    }
    return s.toString();
  }

  private static <T> T pick(Random random, List<T> values) {
    return values.get(random.nextInt(values.size()));
  }

  /** {@link #check} with the seed, the try and the input named in any failure. */
  private static String checked(long seed, int attempt, String httpMethod, String target) {
    try {
      return check(httpMethod, target);
    } catch (AssertionError | RuntimeException e) {
      throw new AssertionError("seed " + seed + ", try " + attempt + ": " + httpMethod + " \"" + escape(target)
          + "\"\n" + e.getMessage(), e);
    }
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

  /** Java-escapes everything outside printable ASCII so the failing input can be pasted back into a test. */
  private static String escape(String s) {
    StringBuilder out = new StringBuilder();
    for (char c : s.toCharArray()) {
      if (c == '"' || c == '\\') {
        out.append('\\').append(c);
      } else if (c >= 0x20 && c < 0x7f) {
        out.append(c);
      } else {
        out.append(String.format("\\u%04x", (int) c));
      }
    }
    return out.toString();
  }
}

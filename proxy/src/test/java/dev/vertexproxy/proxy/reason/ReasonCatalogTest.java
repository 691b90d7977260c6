package dev.vertexproxy.proxy.reason;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.vertexproxy.policy.Reasons;
import dev.vertexproxy.policy.route.Router;
import dev.vertexproxy.proxy.identity.IdentityException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The reason catalog is closed and complete: every code the policy module, the router and the verifier can produce has
 * its value, and the documentation's table lists exactly the catalog, with the same status and outcome.
 */
class ReasonCatalogTest {
  private static final Pattern ROW = Pattern.compile("^\\| `([a-z-]+)` \\| ([0-9]+|Vertex's) \\| `([a-z]+)` \\|.*$");

  @Test
  void everyCodeFromThePolicyTheRouterAndTheVerifierIsInTheCatalog() {
    for (String code : Reasons.ALL) {
      assertThat(Reason.of(code).code()).isEqualTo(code);
    }
    for (String code : new String[] {Router.ROUTE_NOT_FOUND, Router.PATH_NOT_CANONICAL, Router.QUERY_NOT_ALLOWED}) {
      assertThat(Reason.of(code).kind()).isEqualTo(Reason.Kind.REFUSED);
    }
    for (IdentityException.Reason r : IdentityException.Reason.values()) {
      Reason mine = Reason.of(r.code());
      assertThat(mine.httpStatus()).as(r.code()).isEqualTo(r.httpStatus());
      assertThat(mine.googleStatus()).as(r.code()).isEqualTo(r.googleStatus());
    }
    assertThatThrownBy(() -> Reason.of("no-such-reason")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void codesAreUniqueKebabCaseAndKindsMatchStatuses() {
    assertThat(Arrays.stream(Reason.values()).map(Reason::code)).doesNotHaveDuplicates()
        .allMatch(c -> c.matches("[a-z]+(-[a-z]+)*"));
    for (Reason r : Reason.values()) {
      switch (r.kind()) {
        // RFC 9112 answers a transfer coding it does not implement with 501; every other refusal is a 4xx
        case REFUSED -> assertThat(r.httpStatus()).as(r.code())
            .isBetween(r == Reason.TRANSFER_ENCODING_UNSUPPORTED ? 501 : 400,
                r == Reason.TRANSFER_ENCODING_UNSUPPORTED ? 501 : 498);
        case UNAVAILABLE -> assertThat(r.httpStatus()).as(r.code()).isBetween(500, 599);
        case FAILED -> assertThat(r.httpStatus()).as(r.code()).isIn(499, 502);
        case ALLOWED -> assertThat(r).isIn(Reason.ALLOWED, Reason.SERVED);
        default -> throw new AssertionError(r);
      }
    }
  }

  @Test
  void theDocumentationsReasonTableListsExactlyTheCatalog() throws Exception {
    Map<String, String[]> documented = new LinkedHashMap<>();
    for (String line : Files.readAllLines(Path.of("../docs/audit.md"))) {
      Matcher m = ROW.matcher(line);
      if (m.matches()) {
        documented.put(m.group(1), new String[] {m.group(2), m.group(3)});
      }
    }
    assertThat(documented.keySet()).containsExactlyInAnyOrderElementsOf(
        Arrays.stream(Reason.values()).map(Reason::code).collect(Collectors.toList()));
    for (Reason r : Reason.values()) {
      String[] row = documented.get(r.code());
      assertThat(row[0]).as("status of %s", r.code())
          .isEqualTo(r == Reason.ALLOWED ? "Vertex's" : Integer.toString(r.httpStatus()));
      assertThat(row[1]).as("outcome of %s", r.code()).isEqualTo(Outcome.of(r, false).code());
    }
  }

  @Test
  void anExchangeThatBrokeAfterItsResponseStartedHasFailedWhateverTheReason() {
    assertThat(Outcome.of(Reason.UPSTREAM_TIMEOUT, false)).isEqualTo(Outcome.UNAVAILABLE);
    assertThat(Outcome.of(Reason.UPSTREAM_TIMEOUT, true)).isEqualTo(Outcome.FAILED);
    assertThat(Outcome.of(Reason.ALLOWED, true)).isEqualTo(Outcome.ALLOWED);
    assertThat(Outcome.of(Reason.DENIED_BY_RULE, false)).isEqualTo(Outcome.REFUSED);
    assertThat(Outcome.of(Reason.CLIENT_CLOSED, false)).isEqualTo(Outcome.FAILED);
  }
}

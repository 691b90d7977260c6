package dev.vertexproxy.proxy.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The shortcuts of redaction answer exactly as the patterns alone did: a remembered secret-name decision (also past
 * the bound, also for names longer than what is remembered), a value without {@code eyJ} skipping the JWT patterns,
 * a remembered query-parameter decision. The references here are the patterns as they were, applied every time.
 */
class RedactionShortcutTest {
  private static final Pattern SECRET_KEY_NAME =
      Pattern.compile("(?i).*(token|authorization|cookie|password|passwd|secret|credential|api[_-]?key).*");
  private static final Pattern JWT_LIKE = Pattern.compile("eyJ[A-Za-z0-9_-]*(?:\\.[A-Za-z0-9_-]*){2,4}");
  private static final Pattern JWT_INSIDE = Pattern.compile("eyJ[A-Za-z0-9_-]{4,}\\.[A-Za-z0-9_-]{4,}\\.[A-Za-z0-9_-]*");
  private static final Pattern SECRET_QUERY_PARAM =
      Pattern.compile("(?i)(key|.*[_-]key|apikey|.*token.*|.*secret.*|.*password.*|.*credential.*"
          + "|authorization|signature|sig|x-goog-signature)");
  private static final String[] PIECES = {
    "eyJ", "eyj", "EYJ", "ey", "J", "eyJhbGciOiJSUzI1NiJ9", ".", "..", "abcd", "_-", "Bearer ", " ", "=", "&", "%",
    "%24", "$", "+", "key", "KEY", "api_key", "Api-Key", "token", "secret", "Authorization", "sig", "x-goog-signature",
    "passwd", "Credential", "cookie", "\n", "\u0000", "ü", "\uD800", "\uDC00", "\uD83D\uDE80", "[redacted]", "a", "1",
  };

  @Test
  void redactStringAnswersAsBothPatternsDid() {
    Random random = new Random(1202);
    for (int i = 0; i < 50_000; i++) {
      String value = random(random, 12);
      assertThat(AuditRecords.redactString(value)).as("%s", value).isEqualTo(referenceRedactString(value));
    }
    for (String value : new String[] {"", "eyJ", "eyJa.b.c", "xeyJabcd.efgh.ijkl", "eyJabcd.efgh.ijkl.", "eyJ..",
        "Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln", "eyJa.b.c.d.e.f", "\uD800eyJabcd.efgh.ijkl"}) {
      assertThat(AuditRecords.redactString(value)).as("%s", value).isEqualTo(referenceRedactString(value));
    }
  }

  @Test
  void secretKeyAnswersAsThePatternDidRememberedOrNot() {
    Random random = new Random(31);
    List<String> names = new ArrayList<>();
    for (int i = 0; i < SecretNames.Decided.NAMES * 2; i++) { // past the bound: later names are decided every time
      names.add(random(random, 6) + i);
    }
    names.add("x".repeat(SecretNames.Decided.NAME_CHARS + 1) + "token"); // too long to remember
    for (int round = 0; round < 2; round++) { // the second round is answered from what the first remembered
      for (String name : names) {
        assertThat(SecretNames.secretKey(name)).as("%s", name).isEqualTo(SECRET_KEY_NAME.matcher(name).matches());
      }
    }
  }

  @Test
  void theRememberedAnswersAreBounded() {
    SecretNames.Decided decided = new SecretNames.Decided(name -> name.contains("token"));
    for (int i = 0; i < SecretNames.Decided.NAMES * 3; i++) {
      assertThat(decided.test("n" + i + (i % 2 == 0 ? "token" : ""))).isEqualTo(i % 2 == 0);
    }
    assertThat(decided.test("y".repeat(SecretNames.Decided.NAME_CHARS + 1))).isFalse();
    assertThat(decided.size()).isEqualTo(SecretNames.Decided.NAMES);
  }

  @Test
  void redactQueryAnswersAsThePatternsDid() {
    Random random = new Random(77);
    for (int i = 0; i < 20_000; i++) {
      String query = random(random, 10);
      for (int round = 0; round < 2; round++) {
        assertThat(AuditRecords.redactQuery(query)).as("%s", query).isEqualTo(referenceRedactQuery(query));
      }
    }
    for (String query : new String[] {"key=AIza", "alt=sse", "%24key=1&$access_token=2&a+b=3&=&&x", "%zz=1",
        "sig=eyJabcd.efgh.ijkl", "x=eyJabcd.efgh.ijkl&key"}) {
      assertThat(AuditRecords.redactQuery(query)).as("%s", query).isEqualTo(referenceRedactQuery(query));
    }
  }

  private static String random(Random random, int maxPieces) {
    StringBuilder s = new StringBuilder();
    int n = random.nextInt(maxPieces + 1);
    for (int i = 0; i < n; i++) {
      s.append(PIECES[random.nextInt(PIECES.length)]);
    }
    return s.toString();
  }

  private static String referenceRedactString(String value) {
    if (JWT_LIKE.matcher(value).matches()) {
      return SecretNames.REDACTED;
    }
    return AuditRecords.wellFormed(JWT_INSIDE.matcher(value).replaceAll(SecretNames.REDACTED));
  }

  private static String referenceRedactQuery(String query) {
    if (query == null || query.isEmpty()) {
      return query;
    }
    List<String> parts = new ArrayList<>();
    for (String pair : query.split("&", -1)) {
      int eq = pair.indexOf('=');
      String name = eq < 0 ? pair : pair.substring(0, eq);
      String decoded;
      try {
        decoded = URLDecoder.decode(name, StandardCharsets.UTF_8);
      } catch (IllegalArgumentException malformed) {
        decoded = name;
      }
      decoded = decoded.startsWith("$") ? decoded.substring(1) : decoded;
      parts.add(eq >= 0 && SECRET_QUERY_PARAM.matcher(decoded).matches() ? name + "=" + SecretNames.REDACTED : pair);
    }
    return referenceRedactString(String.join("&", parts));
  }
}

package dev.vertexproxy.proxy.audit;

import static dev.vertexproxy.proxy.audit.TestEvents.CLOCK;
import static dev.vertexproxy.proxy.audit.TestEvents.T0;
import static dev.vertexproxy.proxy.audit.TestEvents.config;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vertexproxy.proxy.config.AuditConfig.Durability;
import java.io.ByteArrayOutputStream;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The line written once ({@link EventLines}) is byte for byte the line of the tree algorithm it replaced (build the
 * record, hash its canonical form, put {@code hash}, serialise it again), for generated events of every shape, and a
 * trail of them verifies.
 */
class EventLinesTest {
  private static final String CHAIN = "0b7f3d2c-8a41-4c55-9e0f-1d2e3f405162";
  private static final String[] TEXTS = {
    "", "a", "main", "acme/ml/forecasting", "Grüße, 東京 🚀", "quote \" and \\ backslash", "tab\tnew\nline\rcr",
    "\u0000\u0001\u001f\u007f\u2028", "\uD83D\uDE80 paired", "unpaired \uD800 high", "unpaired low \uDC00", "\uDBFF",
    "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln", "Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl tail",
    "eyJ", "eyJabc", "xeyJabcd.efgh.ijkl", "eyJa.b.c.d.e", "eyJa..", "EYJabcd.efgh.ijkl", "key=AIzaSy123&alt=sse",
    "alt=sse", "access_token=ya29.x&x=1", "%24key=1&$access_token=2&a+b=3&=&&x", "sig=eyJabcd.efgh.ijkl", "[redacted]",
  };
  private static final String[] KEYS = {
    "sub", "project_path", "ref", "user_login", "namespace_id", "aud", "access_token", "Authorization", "my-api_key",
    "apikey", "x_cookie", "password", "credentials", "token_type", "hash", "\uD800k", "\uDBFFk", "?k", "Ω", "", "z",
  };

  @Test
  void theLineIsTheTreeAlgorithmsLineForEveryGeneratedEvent() {
    Random random = new Random(20261202);
    EventLines lines = new EventLines(CHAIN);
    String prev = AuditRecords.GENESIS_HASH;
    for (int i = 0; i < 5_000; i++) {
      AuditEvent event = randomEvent(random);
      long seq = random.nextInt(3) == 0 ? Long.MAX_VALUE - i : i + 1;
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      String hash = lines.append(out, event, T0, seq, prev);
      String expected = treeLine(event, T0, CHAIN, seq, prev);
      assertThat(AuditRecords.utf8(out.toByteArray())).as("event %d: %s", i, event).isEqualTo(expected + "\n");
      assertThat(hash).isEqualTo(treeHash(event, T0, CHAIN, seq, prev));
      prev = hash;
    }
  }

  @Test
  void claimsKeptSerialisedPerCallerGiveTheTreeAlgorithmsLine() {
    Random random = new Random(20261203);
    EventLines lines = new EventLines(CHAIN);
    List<Map<String, Object>> callers = new ArrayList<>();
    for (int i = 0; i < EventLines.CLAIM_SLOTS * 2; i++) { // more callers than slots: slots are taken over
      callers.add(immutable(claims(random, 0)));
    }
    String prev = AuditRecords.GENESIS_HASH;
    for (int i = 0; i < 5_000; i++) {
      Map<String, Object> claims = callers.get(random.nextInt(i < 2_500 ? 8 : callers.size()));
      AuditEvent event = withClaims(randomEvent(random), claims);
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      String hash = lines.append(out, event, T0, i + 1, prev);
      assertThat(AuditRecords.utf8(out.toByteArray())).as("event %d", i)
          .isEqualTo(treeLine(event, T0, CHAIN, i + 1, prev) + "\n");
      prev = hash;
    }
    // the first 2,500 events came from 8 callers: they were serialised about once each, not per event
    assertThat(lines.claimsSerialised()).isLessThan(2_500);
  }

  @Test
  void oneCallersClaimsAreSerialisedOnceButAMapThatCanChangeIsWrittenAfreshEachTime() {
    EventLines lines = new EventLines(CHAIN);
    Map<String, Object> held = Map.of("sub", "project_path:acme/ml:ref_type:branch:ref:main", "ref", "main",
        "access_token", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln");
    for (int i = 0; i < 3; i++) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      AuditEvent event = withClaims(TestEvents.allowed(i), held);
      lines.append(out, event, T0, i + 1, AuditRecords.GENESIS_HASH);
      assertThat(AuditRecords.utf8(out.toByteArray()))
          .isEqualTo(treeLine(event, T0, CHAIN, i + 1, AuditRecords.GENESIS_HASH) + "\n")
          .contains("\"access_token\":\"[redacted]\"").doesNotContain("eyJhbGci");
    }
    assertThat(lines.claimsSerialised()).isEqualTo(1);

    Map<String, Object> mutable = new HashMap<>(held);
    for (String ref : new String[] {"main", "release", "feature"}) {
      mutable.put("ref", ref);
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      lines.append(out, withClaims(TestEvents.allowed(9), mutable), T0, 9, AuditRecords.GENESIS_HASH);
      assertThat(AuditRecords.utf8(out.toByteArray())).contains("\"ref\":\"" + ref + "\"");
    }
    assertThat(lines.claimsSerialised()).isEqualTo(1);

    ByteArrayOutputStream out = new ByteArrayOutputStream();
    lines.append(out, withClaims(TestEvents.allowed(10), Map.copyOf(mutable)), T0, 10, AuditRecords.GENESIS_HASH);
    assertThat(AuditRecords.utf8(out.toByteArray())).contains("\"ref\":\"feature\"");
    assertThat(lines.claimsSerialised()).as("an equal map is another caller's: kept by identity").isEqualTo(2);
  }

  @Test
  void aPreviousHashThatNeedsEscapingIsEscapedAsTheTreeAlgorithmDoes() {
    EventLines lines = new EventLines(CHAIN);
    AuditEvent event = TestEvents.allowed(1);
    for (String prev : new String[] {"tampered \"hash\" \\ \u0001 ü \uD83D\uDE80", "", AuditRecords.GENESIS_HASH}) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      lines.append(out, event, T0, 7, prev);
      assertThat(AuditRecords.utf8(out.toByteArray())).isEqualTo(treeLine(event, T0, CHAIN, 7, prev) + "\n");
    }
  }

  @Test
  void aTrailOfGeneratedEventsVerifies(@TempDir Path dir) throws Exception {
    Random random = new Random(7);
    List<CompletableFuture<AuditLog.AuditReceipt>> receipts = new ArrayList<>();
    try (AuditLog log = AuditLog.open(config(dir, Durability.GROUP_COMMIT), CLOCK)) {
      for (int i = 0; i < 500; i++) {
        receipts.add(log.append(randomEvent(random)));
      }
      for (CompletableFuture<AuditLog.AuditReceipt> receipt : receipts) {
        receipt.join();
      }
    }
    assertThat(AuditVerifier.verify(dir).ok()).isTrue();
    long lines = 0;
    try (var files = Files.list(dir)) {
      for (Path file : files.filter(p -> p.getFileName().toString().endsWith(".jsonl")).toList()) {
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
          ObjectNode record = AuditRecords.parse(line.getBytes(StandardCharsets.UTF_8));
          ObjectNode withoutHash = record.deepCopy();
          withoutHash.remove("hash");
          assertThat(record.get("hash").asText()).isEqualTo(AuditRecords.hash(withoutHash));
          lines++;
        }
      }
    }
    assertThat(lines).isEqualTo(500);
  }

  /** The algorithm the writer used before: the record as a tree, hashed, then serialised again with its hash. */
  private static String treeLine(AuditEvent event, Instant fallback, String chainId, long seq, String prev) {
    ObjectNode record = tree(event, fallback, chainId, seq, prev);
    record.put("hash", AuditRecords.hash(record));
    return AuditRecords.utf8(AuditRecords.canonical(record));
  }

  private static String treeHash(AuditEvent event, Instant fallback, String chainId, long seq, String prev) {
    return AuditRecords.hash(tree(event, fallback, chainId, seq, prev));
  }

  private static ObjectNode tree(AuditEvent event, Instant fallback, String chainId, long seq, String prev) {
    ObjectNode record = AuditRecords.toJson(event, fallback);
    record.put("chain_id", chainId);
    record.put("seq", seq);
    record.put("prev_hash", prev);
    return record;
  }

  /** The claims as a {@code Caller} holds them: immutable, without null members. */
  private static Map<String, Object> immutable(Map<String, Object> claims) {
    Map<String, Object> present = new HashMap<>(claims);
    present.values().removeIf(v -> v == null);
    return Map.copyOf(present);
  }

  private static AuditEvent withClaims(AuditEvent e, Map<String, Object> claims) {
    return new AuditEvent(e.time(), e.requestId(), e.callerIssuer(), e.callerSubject(), claims, e.sourceIp(),
        e.httpMethod(), e.path(), e.query(), e.method(), e.apiVersion(), e.resource(), e.project(), e.location(),
        e.decision(), e.rule(), e.reason(), e.googlePrincipal(), e.status(), e.durationMs(), e.bytesIn(), e.bytesOut(),
        e.policyVersion(), e.userAgent(), e.outcome(), e.peerIp(), e.type(), e.model(), e.bodySha256(), e.requestBody(),
        e.requestBodyTruncated(), e.explanation());
  }

  static AuditEvent randomEvent(Random r) {
    String type = switch (r.nextInt(4)) {
      case 0 -> null;
      case 1 -> AuditEvent.EXCHANGE;
      case 2 -> AuditEvent.DECISION;
      default -> text(r);
    };
    Map<String, Object> claims = r.nextInt(4) == 0 ? null : claims(r, 0);
    return new AuditEvent(r.nextBoolean() ? null : T0.plusMillis(r.nextInt(1_000_000)), maybe(r), maybe(r), maybe(r),
        claims, maybe(r), maybe(r), maybe(r), maybe(r), maybe(r), maybe(r), maybe(r), maybe(r), maybe(r), maybe(r),
        maybe(r), maybe(r), maybe(r), r.nextInt(), r.nextLong(), r.nextLong(), r.nextInt(1 << 20), maybe(r), maybe(r),
        maybe(r), maybe(r), type, maybe(r), maybe(r), maybe(r), r.nextBoolean(), maybe(r));
  }

  private static String maybe(Random r) {
    return r.nextInt(3) == 0 ? null : text(r);
  }

  private static String text(Random r) {
    String text = TEXTS[r.nextInt(TEXTS.length)];
    return r.nextInt(4) == 0 ? text + TEXTS[r.nextInt(TEXTS.length)] : text;
  }

  private static Map<String, Object> claims(Random r, int depth) {
    Map<String, Object> claims = r.nextBoolean() ? new HashMap<>() : new LinkedHashMap<>();
    int n = r.nextInt(depth == 0 ? 12 : 4);
    for (int i = 0; i < n; i++) {
      claims.put(KEYS[r.nextInt(KEYS.length)] + (r.nextInt(3) == 0 ? "" : "_" + r.nextInt(3)), value(r, depth));
    }
    return claims;
  }

  private static Object value(Random r, int depth) {
    return switch (r.nextInt(depth < 3 ? 13 : 10)) {
      case 0 -> null;
      case 1 -> r.nextBoolean();
      case 2 -> r.nextInt();
      case 3 -> r.nextLong();
      case 4 -> r.nextDouble() * 1e12;
      case 5 -> new BigDecimal("12345678901234567890.5");
      case 6 -> new BigInteger("123456789012345678901234567890");
      case 7 -> (short) 7;
      case 8, 9 -> text(r);
      case 10 -> claims(r, depth + 1);
      case 11 -> Arrays.asList(value(r, depth + 1), value(r, depth + 1));
      default -> new Object[] {value(r, depth + 1), text(r)};
    };
  }
}

package dev.vertexproxy.proxy.login;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The one-time authorization codes of the CLI's loopback login: issued when a person confirms "sign in the CLI on this
 * machine" ({@code POST /_proxy/cli/authorize}), redeemed by the CLI at {@code /_proxy/oauth/token} with the PKCE
 * verifier, within {@link #LIFETIME}.
 *
 * <p>A code is bound to everything the authorize request said — client, {@code redirect_uri}, S256 challenge — and to
 * the approving browser session; redemption must repeat the first two exactly and prove the third. A code is good
 * once: a second redemption is refused as a replay and revokes the session the first one yielded (RFC 6749 §4.1.2,
 * §10.5), since one of the two redeemers is not the CLI that asked. Redeemed codes are remembered until they would
 * have expired, so a replay is recognised as one. At most {@value #MAX_CODES} codes are live; only their SHA-256 is
 * kept.
 *
 * <p>Built on a directory ({@link #CliAuthorizeCodes(Path)}), the codes are a document every replica shares
 * ({@value #FILE} beside the signing keys, like {@link DeviceGrantsInDirectory}): the browser's confirmation and the
 * CLI's redemption may reach different replicas. Its methods then do file I/O: call them on the blocking executor.
 * Without one, the codes stay in this replica's memory. Thread-safe.
 */
public final class CliAuthorizeCodes {
  /** How long a code may wait for its redemption. */
  public static final Duration LIFETIME = Duration.ofSeconds(60);
  static final int MAX_CODES = 1000;
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * What a code was issued for.
   *
   * @param clientId      the client that asked
   * @param redirectUri   the loopback URI the code was sent to
   * @param codeChallenge the S256 challenge the verifier must answer
   * @param approval      who confirmed, with their browser session's bounds
   */
  public record Issued(String clientId, String redirectUri, String codeChallenge, DeviceGrants.Approval approval) {
  }

  /** What a redemption found. */
  public sealed interface Redemption {
  }

  /** The code is good for this request: mint the session. */
  public record Redeemed(Issued issued) implements Redemption {
  }

  /** No such live code, or it does not match the request: {@code invalid_grant}. */
  public record Refused(String why) implements Redemption {
  }

  /**
   * The code was redeemed before; {@code sessionId} is the session the first redemption yielded (null if it yielded
   * none), for the caller to revoke.
   */
  public record Replayed(String sessionId, Instant sessionExpiresAt) implements Redemption {
  }

  private static final class Entry {
    final Issued issued;
    final Instant expiresAt;
    boolean redeemed;
    String sessionId;
    Instant sessionExpiresAt;

    Entry(Issued issued, Instant expiresAt) {
      this.issued = issued;
      this.expiresAt = expiresAt;
    }
  }

  static final String FILE = "cli-codes.json";
  private final Map<String, Entry> byHash = new HashMap<>();
  private final DeviceGrantsInDirectory.Document document;

  /** Codes in this replica's memory. */
  public CliAuthorizeCodes() {
    this.document = null;
  }

  /** Codes shared by every replica that mounts {@code dir}. */
  public CliAuthorizeCodes(Path dir) {
    this.document = new DeviceGrantsInDirectory.Document(dir.resolve(FILE));
  }

  /** Runs {@code op} on the codes: in memory, or on the shared document read fresh and written back. */
  private <T> T run(Supplier<T> op) {
    if (document == null) {
      synchronized (this) {
        return op.get();
      }
    }
    return document.apply(doc -> {
      synchronized (this) {
        load(doc);
        T result = op.get();
        return new DeviceGrantsInDirectory.Document.Step<>(result, toJson());
      }
    });
  }

  private void load(JsonNode doc) {
    byHash.clear();
    if (doc == null) {
      return;
    }
    for (JsonNode o : doc.path("codes")) {
      Issued i = new Issued(o.path("client_id").asText(), o.path("redirect_uri").asText(),
          o.path("code_challenge").asText(), DeviceGrantsInMemory.approval(o.path("approval")));
      Entry e = new Entry(i, Instant.parse(o.path("expires_at").asText()));
      e.redeemed = o.path("redeemed").asBoolean();
      e.sessionId = o.hasNonNull("session_id") ? o.get("session_id").asText() : null;
      e.sessionExpiresAt = o.hasNonNull("session_expires_at") ? Instant.parse(o.get("session_expires_at").asText()) : null;
      byHash.put(o.path("code_hash").asText(), e);
    }
  }

  private ObjectNode toJson() {
    ObjectNode root = JSON.createObjectNode();
    ArrayNode list = root.putArray("codes");
    byHash.forEach((hash, e) -> {
      ObjectNode o = list.addObject();
      o.put("code_hash", hash);
      o.put("client_id", e.issued.clientId());
      o.put("redirect_uri", e.issued.redirectUri());
      o.put("code_challenge", e.issued.codeChallenge());
      o.set("approval", DeviceGrantsInMemory.approvalJson(e.issued.approval()));
      o.put("expires_at", e.expiresAt.toString());
      o.put("redeemed", e.redeemed);
      if (e.sessionId != null) {
        o.put("session_id", e.sessionId);
        o.put("session_expires_at", e.sessionExpiresAt.toString());
      }
    });
    return root;
  }

  /** A new code for {@code issued}; empty when {@value #MAX_CODES} are already live. */
  public Optional<String> issue(Issued issued, Instant now) {
    return run(() -> issueNow(issued, now));
  }

  private Optional<String> issueNow(Issued issued, Instant now) {
    byHash.values().removeIf(e -> !now.isBefore(e.expiresAt));
    if (byHash.size() >= MAX_CODES) {
      return Optional.empty();
    }
    byte[] b = new byte[32];
    RANDOM.nextBytes(b);
    String code = Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    byHash.put(sha256(code), new Entry(issued, now.plus(LIFETIME)));
    return Optional.of(code);
  }

  /**
   * Redeems {@code code} for a token request with these parameters. Whatever the outcome, a code that existed is used
   * up: a request with a wrong verifier or redirect URI does not leave it for a second try.
   */
  public Redemption redeem(String code, String clientId, String redirectUri, String codeVerifier, Instant now) {
    return run(() -> redeemNow(code, clientId, redirectUri, codeVerifier, now));
  }

  private Redemption redeemNow(String code, String clientId, String redirectUri, String codeVerifier, Instant now) {
    Entry e = code == null ? null : byHash.get(sha256(code));
    if (e == null || !now.isBefore(e.expiresAt)) {
      return new Refused("the code is unknown or has expired");
    }
    if (e.redeemed) {
      return new Replayed(e.sessionId, e.sessionExpiresAt);
    }
    e.redeemed = true;
    Issued i = e.issued;
    if (!i.clientId().equals(clientId)) {
      return new Refused("the code was issued to another client");
    }
    if (!i.redirectUri().equals(redirectUri)) {
      return new Refused("redirect_uri differs from the authorization request's");
    }
    if (codeVerifier == null || !validVerifier(codeVerifier) || !MessageDigest.isEqual(
        challenge(codeVerifier).getBytes(StandardCharsets.US_ASCII), i.codeChallenge().getBytes(StandardCharsets.US_ASCII))) {
      return new Refused("code_verifier does not match the code_challenge");
    }
    return new Redeemed(i);
  }

  /** Records the session a redemption yielded, so a replay of its code can revoke it. */
  public void yielded(String code, String sessionId, Instant sessionExpiresAt) {
    run(() -> {
      Entry e = byHash.get(sha256(code));
      if (e != null) {
        e.sessionId = sessionId;
        e.sessionExpiresAt = sessionExpiresAt;
      }
      return null;
    });
  }

  /** RFC 7636 §4.1: 43 to 128 characters of {@code [A-Za-z0-9-._~]}. */
  static boolean validVerifier(String v) {
    return v.length() >= 43 && v.length() <= 128 && v.chars().allMatch(CliAuthorizeCodes::unreserved);
  }

  /** RFC 7636 §4.2: a S256 challenge is the 43 characters of an unpadded base64url SHA-256. */
  static boolean validChallenge(String c) {
    return c != null && c.length() == 43 && c.chars().allMatch(ch -> ch == '-' || ch == '_' || Character.isLetterOrDigit(ch)
        && ch < 128);
  }

  private static boolean unreserved(int c) {
    return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_'
        || c == '~';
  }

  static String challenge(String verifier) {
    try {
      return Base64.getUrlEncoder().withoutPadding().encodeToString(
          MessageDigest.getInstance("SHA-256").digest(verifier.getBytes(StandardCharsets.US_ASCII)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
  }

  private static String sha256(String s) {
    return DeviceGrantsInMemory.sha256(s);
  }
}

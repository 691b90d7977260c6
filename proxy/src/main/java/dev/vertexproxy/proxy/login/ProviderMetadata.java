package dev.vertexproxy.proxy.login;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;

/**
 * What the browser login needs to know about an IdP, from its OpenID Connect discovery document
 * ({@code {issuer}/.well-known/openid-configuration}): where to send the browser, where to redeem the code, and how
 * to authenticate there. The document is trusted only if it names exactly the configured issuer, and an https issuer
 * must name https endpoints, as for its keys ({@code identity.JwksFetcher}).
 *
 * @param issuer the issuer, exactly as configured
 * @param authorizationEndpoint where the browser is sent to log in
 * @param tokenEndpoint where the proxy redeems the code
 * @param basicAuth whether the client authenticates with HTTP Basic ({@code client_secret_basic}, OIDC's default)
 *     rather than form fields ({@code client_secret_post}, when that is all the IdP lists)
 */
public record ProviderMetadata(URI issuer, URI authorizationEndpoint, URI tokenEndpoint, boolean basicAuth) {
  private static final ObjectMapper JSON = new ObjectMapper();
  static final int MAX_DOCUMENT_BYTES = 256 * 1024;

  /** Reads a discovery document fetched from {@code issuer}'s well-known address; {@link IOException} if unusable. */
  static ProviderMetadata parse(URI issuer, byte[] document) throws IOException {
    JsonNode d = JSON.readTree(document);
    if (d == null || !d.isObject()) {
      throw new IOException("the discovery document is not a JSON object");
    }
    if (!issuer.toString().equals(d.path("issuer").asText(null))) {
      throw new IOException("the discovery document names another issuer");
    }
    URI authorization = endpoint(issuer, d, "authorization_endpoint");
    URI token = endpoint(issuer, d, "token_endpoint");
    JsonNode challenges = d.get("code_challenge_methods_supported");
    if (challenges != null && challenges.isArray() && !contains(challenges, "S256")) {
      throw new IOException("the IdP does not support PKCE with S256");
    }
    JsonNode auth = d.get("token_endpoint_auth_methods_supported");
    boolean basic = auth == null || !auth.isArray() || contains(auth, "client_secret_basic") || !contains(auth,
        "client_secret_post");
    return new ProviderMetadata(issuer, authorization, token, basic);
  }

  private static URI endpoint(URI issuer, JsonNode d, String field) throws IOException {
    String text = d.path(field).asText(null);
    if (text == null) {
      throw new IOException("the discovery document has no " + field);
    }
    URI uri;
    try {
      uri = URI.create(text);
    } catch (IllegalArgumentException e) {
      throw new IOException("the discovery document's " + field + " is not a URI");
    }
    if (!uri.isAbsolute() || uri.getHost() == null || uri.getRawFragment() != null) {
      throw new IOException("the discovery document's " + field + " is not an absolute URL");
    }
    if (!"https".equalsIgnoreCase(uri.getScheme()) && ("https".equals(issuer.getScheme())
        || !"http".equalsIgnoreCase(uri.getScheme()))) {
      throw new IOException("the discovery document's " + field + " is not https");
    }
    return uri;
  }

  private static boolean contains(JsonNode array, String value) {
    for (JsonNode n : array) {
      if (value.equals(n.asText())) {
        return true;
      }
    }
    return false;
  }

  /**
   * The discovery documents of the login issuers, fetched on the blocking executor the first time a login needs one
   * and kept for {@link #TTL}; one fetch per issuer at a time, shared by every login waiting for it. A failed fetch
   * is not kept: the next login tries again. Thread-safe.
   */
  public static final class Source {
    /** How long a fetched document is used before it is fetched again. */
    public static final Duration TTL = Duration.ofHours(1);
    private static final Duration TIMEOUT = Duration.ofSeconds(5);

    private final HttpClient http;
    private final Executor blocking;
    private final Clock clock;
    private final Map<URI, Entry> entries = new ConcurrentHashMap<>();

    private record Entry(CompletableFuture<ProviderMetadata> metadata, Instant fetchedAt) {
    }

    /** @param http the client the documents are fetched with; {@code blocking} runs each fetch */
    public Source(HttpClient http, Executor blocking, Clock clock) {
      this.http = http;
      this.blocking = blocking;
      this.clock = clock;
    }

    /** The metadata of {@code issuer}; fails with an {@link IOException} when the document is unreachable or unusable. */
    public CompletableFuture<ProviderMetadata> get(URI issuer) {
      Instant now = clock.instant();
      Entry entry = entries.compute(issuer, (k, current) -> {
        if (current != null && (!current.metadata.isDone() || (!current.metadata.isCompletedExceptionally()
            && now.isBefore(current.fetchedAt.plus(TTL))))) {
          return current;
        }
        return new Entry(CompletableFuture.supplyAsync(() -> fetch(issuer), blocking), now);
      });
      CompletableFuture<ProviderMetadata> metadata = entry.metadata;
      metadata.whenComplete((m, err) -> {
        if (err != null) {
          entries.remove(issuer, entry);
        }
      });
      return metadata;
    }

    private ProviderMetadata fetch(URI issuer) {
      String base = issuer.toString().endsWith("/") ? issuer.toString().substring(0, issuer.toString().length() - 1)
          : issuer.toString();
      URI discovery = URI.create(base + "/.well-known/openid-configuration");
      try {
        HttpResponse<InputStream> r = http.send(HttpRequest.newBuilder(discovery).timeout(TIMEOUT)
            .header("Accept", "application/json").GET().build(), HttpResponse.BodyHandlers.ofInputStream());
        byte[] body = readBounded(r.body(), MAX_DOCUMENT_BYTES);
        if (r.statusCode() != 200) {
          throw new IOException("the discovery document answered HTTP " + r.statusCode());
        }
        return parse(issuer, body);
      } catch (IOException e) {
        throw new CompletionException(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new CompletionException(new IOException("interrupted while fetching the discovery document"));
      }
    }
  }

  /** Reads at most {@code limit} bytes; a longer body is an {@link IOException}, not a truncated document. */
  static byte[] readBounded(InputStream in, int limit) throws IOException {
    try (in) {
      byte[] bytes = in.readNBytes(limit + 1);
      if (bytes.length > limit) {
        throw new IOException("the answer is longer than " + limit + " bytes");
      }
      return bytes;
    }
  }

  /** The scopes a login asks for: the configured ones, with {@code openid} first whether or not it was listed. */
  static List<String> scopes(List<String> configured) {
    List<String> out = new ArrayList<>();
    out.add("openid");
    for (String s : configured) {
      if (!"openid".equals(s)) {
        out.add(s);
      }
    }
    return out;
  }
}

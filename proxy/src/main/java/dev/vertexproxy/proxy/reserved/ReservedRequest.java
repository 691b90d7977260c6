package dev.vertexproxy.proxy.reserved;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.cookie.Cookie;
import io.netty.handler.codec.http.cookie.ServerCookieDecoder;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * A whole request to a {@link ReservedEndpoint}: method, path, decoded query, headers, the body (at most
 * {@link ReservedRoutes#MAX_BODY_BYTES}), the client's address as the audit record has it, and the time the exchange
 * started. Immutable; the body array is the request's own copy and must not be changed.
 *
 * @param sourceIp the client, as {@code listen.trusted_proxies} made it out ({@code null} on a channel without address)
 */
public record ReservedRequest(String requestId, HttpMethod method, String path, Map<String, List<String>> query,
    HttpHeaders headers, byte[] body, String sourceIp, Instant now) {

  /** The value of the cookie {@code name}, from the strict RFC 6265 decoder; empty when absent. */
  public Optional<String> cookie(String name) {
    for (String header : headers.getAll(HttpHeaderNames.COOKIE)) {
      for (Cookie c : ServerCookieDecoder.STRICT.decodeAll(header)) {
        if (c.name().equals(name)) {
          return Optional.of(c.value());
        }
      }
    }
    return Optional.empty();
  }

  /**
   * The body as {@code application/x-www-form-urlencoded} parameters.
   *
   * @throws IllegalArgumentException when the content type is another, or the body is not valid UTF-8 or not a valid
   *                                  form (a bad {@code %} escape)
   */
  public Map<String, List<String>> form() {
    String type = headers.get(HttpHeaderNames.CONTENT_TYPE);
    String mediaType = type == null ? "" : type.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
    if (!mediaType.equals("application/x-www-form-urlencoded")) {
      throw new IllegalArgumentException("the body must be application/x-www-form-urlencoded");
    }
    String text;
    try {
      text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(body)).toString();
    } catch (CharacterCodingException e) {
      throw new IllegalArgumentException("the form is not valid UTF-8");
    }
    return new QueryStringDecoder(text, StandardCharsets.UTF_8, false, 256).parameters();
  }

  /** The first value of {@code name} in {@code params}; empty when absent. */
  public static Optional<String> first(Map<String, List<String>> params, String name) {
    List<String> values = params.get(name);
    return values == null || values.isEmpty() ? Optional.empty() : Optional.of(values.get(0));
  }

  /**
   * The single value of {@code name}: RFC 6749 §3.1 forbids repeating a parameter, so a repeated one is refused rather
   * than guessed at.
   *
   * @throws IllegalArgumentException when {@code name} appears more than once
   */
  public static Optional<String> single(Map<String, List<String>> params, String name) {
    List<String> values = params.get(name);
    if (values != null && values.size() > 1) {
      throw new IllegalArgumentException("the parameter " + name + " is repeated");
    }
    return first(params, name);
  }
}

package dev.vertexproxy.proxy.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.vertexproxy.proxy.audit.SecretNames;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Blanks what looks like a secret in a captured request body before it goes into a record ({@code request_body}):
 * values under secret-named keys (the names the audit writer redacts in claims: token, authorization, cookie,
 * password, secret, credential, api key), Google access tokens ({@code ya29.}) and API keys ({@code AIza…}) anywhere.
 * JWTs are the audit writer's to redact, as in every other value it writes.
 *
 * <p>A whole body that is JSON is parsed and written back compactly with whole values replaced (a secret-named key's
 * object or array goes entirely); anything else — a body cut at {@code max_bytes}, not JSON — is redacted as text, key by
 * key, which also covers a string value the cut left open. Numbers under a key that counts tokens
 * ({@code maxOutputTokens}) are counts, not secrets, and stay. Stateless and thread-safe.
 */
final class CapturedText {
  static final String REDACTED = SecretNames.REDACTED;
  private static final ObjectMapper JSON = new ObjectMapper()
      .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
  private static final Pattern TOKEN_COUNT = Pattern.compile("(?i).*(tokens|token_?count).*");
  /** Google OAuth access tokens and API keys, wherever they stand. */
  private static final Pattern GOOGLE_SECRET = Pattern.compile("ya29\\.[A-Za-z0-9._-]+|AIza[0-9A-Za-z_-]{35}");
  /** A JSON member in text: its key, then a string value (perhaps cut open), a number or a literal. */
  private static final Pattern MEMBER = Pattern.compile(
      "\"((?:[^\"\\\\]|\\\\.)*)\"(\\s*:\\s*)(\"(?:[^\"\\\\]|\\\\.)*(?:\"|\\\\?$)|-?[0-9][0-9.eE+-]*|true|false|null)");

  private CapturedText() {
  }

  /** {@code text} with secrets blanked; {@code whole} when it is the entire body (so JSON may be parsed). */
  static String redact(String text, boolean whole) {
    if (whole) {
      JsonNode tree = parse(text);
      if (tree != null) {
        try {
          return googleSecrets(JSON.writeValueAsString(redactTree(tree)));
        } catch (JsonProcessingException e) {
          // cannot happen for a tree Jackson built; fall through to text
        }
      }
    }
    return googleSecrets(redactMembers(text));
  }

  private static JsonNode parse(String text) {
    try {
      JsonNode tree = JSON.readTree(text);
      return tree != null && tree.isContainerNode() ? tree : null;
    } catch (JsonProcessingException notJson) {
      return null;
    }
  }

  private static JsonNode redactTree(JsonNode node) {
    if (node instanceof ObjectNode object) {
      for (Map.Entry<String, JsonNode> f : object.properties()) {
        f.setValue(secret(f.getKey(), f.getValue()) ? TextNode.valueOf(REDACTED) : redactTree(f.getValue()));
      }
    } else if (node instanceof ArrayNode array) {
      for (int i = 0; i < array.size(); i++) {
        array.set(i, redactTree(array.get(i)));
      }
    }
    return node;
  }

  private static boolean secret(String key, JsonNode value) {
    if (!SecretNames.secretKey(key) || value.isNull() || value.isBoolean()) {
      return false;
    }
    return !(value.isNumber() && TOKEN_COUNT.matcher(key).matches());
  }

  private static String redactMembers(String text) {
    Matcher m = MEMBER.matcher(text);
    StringBuilder out = new StringBuilder(text.length());
    while (m.find()) {
      String key = m.group(1);
      String value = m.group(3);
      boolean number = !value.startsWith("\"") && Character.isDigit(value.charAt(value.length() - 1));
      boolean literal = value.equals("true") || value.equals("false") || value.equals("null");
      boolean blank = SecretNames.secretKey(key) && !literal && !(number && TOKEN_COUNT.matcher(key).matches());
      m.appendReplacement(out, Matcher.quoteReplacement(
          blank ? "\"" + key + "\"" + m.group(2) + "\"" + REDACTED + "\"" : m.group()));
    }
    m.appendTail(out);
    return out.toString();
  }

  private static String googleSecrets(String text) {
    return GOOGLE_SECRET.matcher(text).replaceAll(REDACTED);
  }
}

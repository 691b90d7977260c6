package dev.vertexproxy.proxy.cli.suggest;

/**
 * Writes attacker-chosen text (claim values, subjects) into YAML so that it reads back as exactly that text: a
 * double-quoted scalar in which everything outside printable ASCII, and {@code "} and {@code \}, is escaped. No newline,
 * {@code #}, {@code :} or flow character can end the scalar or start a comment or a key. Stateless and thread-safe.
 */
public final class YamlText {
  private YamlText() {
  }

  /** The YAML double-quoted scalar for {@code text}; {@link #writable} must hold. */
  public static String quote(String text) {
    StringBuilder b = new StringBuilder(text.length() + 2).append('"');
    text.codePoints().forEach(cp -> {
      if (cp == '"' || cp == '\\') {
        b.append('\\').appendCodePoint(cp);
      } else if (cp >= 0x20 && cp < 0x7f) {
        b.appendCodePoint(cp);
      } else if (cp <= 0xffff) {
        b.append(String.format("\\u%04x", cp));
      } else {
        b.append(String.format("\\U%08x", cp));
      }
    });
    return b.append('"').toString();
  }

  /**
   * Whether {@code text} can be written so that the policy matches it exactly and only it: not empty, no {@code *} or
   * {@code ?} (the policy's glob characters, which have no escape) and no unpaired surrogate (not text at all).
   */
  public static boolean writable(String text) {
    if (text == null || text.isEmpty() || text.indexOf('*') >= 0 || text.indexOf('?') >= 0) {
      return false;
    }
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        return false;
      }
    }
    return true;
  }

  /** {@code text} for a terminal or a log line: quoted as JSON-ish, control characters escaped, at most 120 chars. */
  public static String shown(String text) {
    String q = quote(text);
    return q.length() <= 120 ? q : q.substring(0, 117) + "...";
  }
}

package dev.vertexproxy.policy;

import java.util.regex.Pattern;

/**
 * A glob over strings made of parts divided by a separator ({@code /} for resource names and claims, {@code .} for
 * method names): {@code *} matches any run of characters within one part, {@code **} any run across parts,
 * {@code ?} one character other than the separator. Everything else is literal.
 *
 * <p>Design note: globs are compiled once into an anchored regular expression; a string without wildcards compiles
 * to a plain {@code equals} so the common exact case costs no matcher. Immutable and thread-safe.
 */
final class Glob {
  private final String text;
  private final Pattern pattern;

  private Glob(String text, Pattern pattern) {
    this.text = text;
    this.pattern = pattern;
  }

  static boolean isGlob(String s) {
    return s.indexOf('*') >= 0 || s.indexOf('?') >= 0;
  }

  static Glob compile(String glob, char separator) {
    if (!isGlob(glob)) {
      return new Glob(glob, null);
    }
    String notSep = "[^" + Pattern.quote(String.valueOf(separator)) + "]";
    StringBuilder re = new StringBuilder(glob.length() + 16);
    StringBuilder literal = new StringBuilder();
    for (int i = 0; i < glob.length(); i++) {
      char c = glob.charAt(i);
      if (c == '*' || c == '?') {
        if (literal.length() > 0) {
          re.append(Pattern.quote(literal.toString()));
          literal.setLength(0);
        }
        if (c == '?') {
          re.append(notSep);
        } else if (i + 1 < glob.length() && glob.charAt(i + 1) == '*') {
          re.append(".*");
          i++;
        } else {
          re.append(notSep).append('*');
        }
      } else {
        literal.append(c);
      }
    }
    if (literal.length() > 0) {
      re.append(Pattern.quote(literal.toString()));
    }
    return new Glob(glob, Pattern.compile(re.toString(), Pattern.DOTALL));
  }

  boolean matches(String s) {
    return pattern == null ? text.equals(s) : pattern.matcher(s).matches();
  }

  boolean isWildcard() {
    return pattern != null;
  }

  String text() {
    return text;
  }

  @Override
  public String toString() {
    return text;
  }
}

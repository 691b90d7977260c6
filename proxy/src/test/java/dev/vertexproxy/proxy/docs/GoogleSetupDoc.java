package dev.vertexproxy.proxy.docs;

import dev.vertexproxy.proxy.testing.Examples;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;

/**
 * The shell in docs/google-setup.md: its {@code bash} blocks, with {@code \} continuations and single-quoted strings
 * spanning lines joined, split into the variable assignments (the guide's sample values, set once at the top) and the
 * commands.
 */
final class GoogleSetupDoc {
  static final String GUIDE = "docs/google-setup.md";

  /** One logical shell line and the guide line it starts on. */
  record Line(int number, String text) {
    boolean isGcloud() {
      return text.startsWith("gcloud ");
    }

    boolean isAssignment() {
      return text.matches("[A-Z_]+=.*");
    }
  }

  private GoogleSetupDoc() {}

  static List<Line> lines() throws IOException {
    return lines(Files.readAllLines(Examples.repoRoot().resolve(GUIDE)));
  }

  static List<Line> lines(List<String> doc) {
    List<Line> out = new ArrayList<>();
    boolean inBash = false;
    StringBuilder pending = null;
    boolean inQuote = false;
    int start = 0;
    for (int i = 0; i < doc.size(); i++) {
      String line = doc.get(i);
      if (!inBash) {
        inBash = line.equals("```bash");
        continue;
      }
      if (line.equals("```")) {
        inBash = false;
        continue;
      }
      if (pending == null) {
        pending = new StringBuilder();
        start = i + 1;
      } else if (!inQuote) {
        line = line.strip(); // the indentation of a continued line is layout; inside a quoted string it is content
      }
      if (line.endsWith("\\") && !singleQuoteOpen(pending + line)) {
        pending.append(line.substring(0, line.length() - 1).stripTrailing()).append(' ');
        inQuote = false;
        continue;
      }
      pending.append(line);
      inQuote = singleQuoteOpen(pending);
      if (inQuote) {
        pending.append('\n');
        continue;
      }
      String text = pending.toString().strip();
      pending = null;
      if (!text.isEmpty()) {
        out.add(new Line(start, text));
      }
    }
    return out;
  }

  /** Whether a single-quoted string is still open at the end of {@code text} (outside double quotes and comments). */
  static boolean singleQuoteOpen(CharSequence text) {
    boolean single = false;
    boolean dbl = false;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '\\' && !single) {
        i++;
      } else if (c == '\'' && !dbl) {
        single = !single;
      } else if (c == '"' && !single) {
        dbl = !dbl;
      } else if (c == '#' && !single && !dbl && (i == 0 || Character.isWhitespace(text.charAt(i - 1)))) {
        return false; // a comment runs to the end of the line, apostrophes and all
      }
    }
    return single;
  }

  /** The blocks' assignments as one shell prologue. */
  static String assignments(List<Line> lines) {
    StringBuilder sb = new StringBuilder();
    for (Line l : lines) {
      if (l.isAssignment()) {
        sb.append(l.text()).append('\n');
      }
    }
    return sb.toString();
  }

  static List<Line> gcloud(List<Line> lines) {
    return lines.stream().filter(Line::isGcloud).toList();
  }
}

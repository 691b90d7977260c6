package dev.vertexproxy.proxy.deploy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * A {@code .dockerignore} as the builder applies it: one pattern a line, {@code #} comments, {@code !} re-includes, the
 * last matching line wins, {@code *} and {@code ?} within one path segment, {@code **} across segments, and a pattern
 * that matches a directory covers everything under it. Paths are relative to the context root, with {@code /}.
 */
final class DockerIgnore {
  private record Rule(Pattern pattern, boolean include) {
  }

  private final List<Rule> rules;

  private DockerIgnore(List<Rule> rules) {
    this.rules = rules;
  }

  static DockerIgnore read(Path file) throws IOException {
    return parse(Files.readString(file, StandardCharsets.UTF_8));
  }

  static DockerIgnore parse(String text) {
    List<Rule> rules = new ArrayList<>();
    for (String raw : text.split("\n")) {
      String line = raw.strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      boolean include = line.startsWith("!");
      String p = include ? line.substring(1).strip() : line;
      while (p.startsWith("/")) {
        p = p.substring(1);
      }
      while (p.endsWith("/")) {
        p = p.substring(0, p.length() - 1);
      }
      rules.add(new Rule(Pattern.compile(regex(p) + "(/.*)?"), include));
    }
    return new DockerIgnore(rules);
  }

  /** True when {@code path} (or a directory above it) is excluded from the build context. */
  boolean excluded(String path) {
    boolean excluded = false;
    for (Rule r : rules) {
      if (r.pattern().matcher(path).matches()) {
        excluded = !r.include();
      }
    }
    return excluded;
  }

  private static String regex(String glob) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < glob.length(); i++) {
      char c = glob.charAt(i);
      if (c == '*' && i + 1 < glob.length() && glob.charAt(i + 1) == '*') {
        i++;
        if (i + 1 < glob.length() && glob.charAt(i + 1) == '/') {
          i++;
          b.append("(?:.*/)?");
        } else {
          b.append(".*");
        }
      } else if (c == '*') {
        b.append("[^/]*");
      } else if (c == '?') {
        b.append("[^/]");
      } else {
        b.append(Pattern.quote(String.valueOf(c)));
      }
    }
    return b.toString();
  }
}

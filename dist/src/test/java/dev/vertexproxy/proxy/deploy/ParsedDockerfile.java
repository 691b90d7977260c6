package dev.vertexproxy.proxy.deploy;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * A Dockerfile read the way the builder reads it, for tests that check the image without a Docker engine: parser
 * directives and comments dropped, {@code \} continuation lines joined (comment lines inside a continuation skipped, as
 * the builder does), each instruction split into its keyword, its {@code --flags} and its arguments, the JSON-array
 * (exec) form told apart from the shell form, and instructions grouped into stages by {@code FROM}.
 *
 * <p>Not handled, and refused rather than misread: a changed {@code escape} directive and heredocs ({@code <<EOF}).
 */
final class ParsedDockerfile {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** One instruction: upper-cased keyword, its leading {@code --name=value} flags, the rest, and its line. */
  record Instruction(String keyword, Map<String, String> flags, String rest, int line) {
    /** True when the arguments are a JSON array (the exec form). */
    boolean execForm() {
      return rest.startsWith("[");
    }

    /** The exec form's strings; fails on the shell form. */
    List<String> json() {
      if (!execForm()) {
        throw new IllegalStateException("line " + line + ": " + keyword + " is in shell form: " + rest);
      }
      try {
        return JSON.readValue(rest, new TypeReference<List<String>>() { });
      } catch (IOException e) {
        throw new IllegalStateException("line " + line + ": not a JSON array of strings: " + rest, e);
      }
    }

    /** The arguments as words: the exec form's strings, or the shell form split as a shell would (quotes, escapes). */
    List<String> words() {
      return execForm() ? json() : ShellWords.split(rest);
    }
  }

  /** One build stage: its base image, its name (or null) and its instructions after {@code FROM}. */
  record Stage(String base, String name, Instruction from, List<Instruction> instructions) {
    List<Instruction> all(String keyword) {
      return instructions.stream().filter(i -> i.keyword().equals(keyword)).toList();
    }

    Optional<Instruction> last(String keyword) {
      List<Instruction> found = all(keyword);
      return found.isEmpty() ? Optional.empty() : Optional.of(found.get(found.size() - 1));
    }

    /** Every {@code ENV} of the stage, later ones winning. */
    Map<String, String> env() {
      Map<String, String> env = new LinkedHashMap<>();
      for (Instruction i : all("ENV")) {
        env.putAll(pairs(i));
      }
      return env;
    }
  }

  final List<Instruction> instructions;
  final List<Stage> stages;

  private ParsedDockerfile(List<Instruction> instructions, List<Stage> stages) {
    this.instructions = instructions;
    this.stages = stages;
  }

  static ParsedDockerfile read(Path file) throws IOException {
    return parse(Files.readString(file, StandardCharsets.UTF_8));
  }

  static ParsedDockerfile parse(String text) {
    String[] lines = text.split("\n", -1);
    List<Instruction> out = new ArrayList<>();
    boolean directives = true;
    StringBuilder pending = null;
    int startLine = 0;
    for (int n = 0; n < lines.length; n++) {
      String line = lines[n].stripTrailing();
      String trimmed = line.strip();
      if (directives && trimmed.startsWith("#") && trimmed.matches("#\\s*[a-zA-Z]+\\s*=.*")) {
        if (trimmed.replace(" ", "").toLowerCase(Locale.ROOT).startsWith("#escape=")) {
          throw new IllegalArgumentException("line " + (n + 1) + ": the escape directive is not supported");
        }
        continue;
      }
      directives = false;
      if (trimmed.startsWith("#") || trimmed.isEmpty()) {
        continue; // a comment or a blank line, inside a continuation too (the builder skips both there)
      }
      if (pending == null) {
        pending = new StringBuilder();
        startLine = n + 1;
      }
      if (line.endsWith("\\")) {
        pending.append(line, 0, line.length() - 1).append(' ');
        continue;
      }
      pending.append(line);
      out.add(instruction(pending.toString().strip(), startLine));
      pending = null;
    }
    if (pending != null) {
      throw new IllegalArgumentException("line " + startLine + ": a continuation runs past the end of the file");
    }
    return new ParsedDockerfile(out, stages(out));
  }

  private static Instruction instruction(String text, int line) {
    int space = text.indexOf(' ');
    String keyword = (space < 0 ? text : text.substring(0, space)).toUpperCase(Locale.ROOT);
    String rest = space < 0 ? "" : text.substring(space + 1).strip();
    if (rest.contains("<<") && (keyword.equals("RUN") || keyword.equals("COPY"))) {
      throw new IllegalArgumentException("line " + line + ": heredocs are not supported");
    }
    Map<String, String> flags = new LinkedHashMap<>();
    while (rest.startsWith("--")) {
      int end = rest.indexOf(' ');
      String flag = end < 0 ? rest : rest.substring(0, end);
      int eq = flag.indexOf('=');
      flags.put(eq < 0 ? flag.substring(2) : flag.substring(2, eq), eq < 0 ? "" : flag.substring(eq + 1));
      rest = end < 0 ? "" : rest.substring(end + 1).strip();
    }
    return new Instruction(keyword, flags, rest, line);
  }

  private static List<Stage> stages(List<Instruction> all) {
    List<Stage> stages = new ArrayList<>();
    Instruction from = null;
    List<Instruction> body = null;
    for (Instruction i : all) {
      if (i.keyword().equals("FROM")) {
        if (from != null) {
          stages.add(stage(from, body));
        }
        from = i;
        body = new ArrayList<>();
      } else if (from != null) {
        body.add(i);
      } else if (!i.keyword().equals("ARG")) {
        throw new IllegalArgumentException("line " + i.line() + ": " + i.keyword() + " before the first FROM");
      }
    }
    if (from != null) {
      stages.add(stage(from, body));
    }
    return stages;
  }

  private static Stage stage(Instruction from, List<Instruction> body) {
    List<String> w = ShellWords.split(from.rest());
    String name = w.size() == 3 && w.get(1).equalsIgnoreCase("AS") ? w.get(2) : null;
    if (w.size() != 1 && name == null) {
      throw new IllegalArgumentException("line " + from.line() + ": FROM " + from.rest());
    }
    return new Stage(w.get(0), name, from, List.copyOf(body));
  }

  /** The {@code key=value} pairs of an {@code ENV} or {@code LABEL} (also the legacy {@code ENV key value}). */
  static Map<String, String> pairs(Instruction i) {
    List<String> words = ShellWords.split(i.rest());
    Map<String, String> out = new LinkedHashMap<>();
    if (!words.isEmpty() && !words.get(0).contains("=")) {
      out.put(words.get(0), String.join(" ", words.subList(1, words.size())));
      return out;
    }
    for (String w : words) {
      int eq = w.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("line " + i.line() + ": not key=value: " + w);
      }
      out.put(w.substring(0, eq), w.substring(eq + 1));
    }
    return out;
  }

  Stage stage(String name) {
    return stages.stream().filter(s -> name.equals(s.name())).findFirst()
        .orElseThrow(() -> new IllegalArgumentException("no stage " + name));
  }

  Stage runtime() {
    return stages.get(stages.size() - 1);
  }

  /** The shell's word splitting, as the builder applies it to the shell form and to ENV, LABEL and FROM. */
  static final class ShellWords {
    private ShellWords() {
    }

    static List<String> split(String s) {
      List<String> words = new ArrayList<>();
      StringBuilder w = null;
      char quote = 0;
      for (int i = 0; i < s.length(); i++) {
        char c = s.charAt(i);
        if (quote == '\'') {
          if (c == '\'') {
            quote = 0;
          } else {
            w.append(c);
          }
        } else if (quote == '"') {
          if (c == '"') {
            quote = 0;
          } else if (c == '\\' && i + 1 < s.length() && "\"\\$".indexOf(s.charAt(i + 1)) >= 0) {
            w.append(s.charAt(++i));
          } else {
            w.append(c);
          }
        } else if (Character.isWhitespace(c)) {
          if (w != null) {
            words.add(w.toString());
            w = null;
          }
        } else {
          if (w == null) {
            w = new StringBuilder();
          }
          if (c == '\'' || c == '"') {
            quote = c;
          } else if (c == '\\' && i + 1 < s.length()) {
            w.append(s.charAt(++i));
          } else {
            w.append(c);
          }
        }
      }
      if (quote != 0) {
        throw new IllegalArgumentException("unterminated quote in: " + s);
      }
      if (w != null) {
        words.add(w.toString());
      }
      return words;
    }
  }
}

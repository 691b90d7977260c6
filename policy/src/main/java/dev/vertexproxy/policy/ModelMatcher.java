package dev.vertexproxy.policy;

import dev.vertexproxy.policy.route.Route;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * A rule's {@code models:} list. An entry is either a model id or glob ({@code gemini-2.5-flash}, {@code "gemini-2.5-*"}),
 * which matches Google's publisher models ({@code publishers/google/models/M}) and a project's own models
 * ({@code models/M}), or a qualified name ({@code "publishers/anthropic/models/claude-*"}, {@code "models/123*"}) for
 * any other publisher. A bare name never matches another publisher's model: {@code gemini-*} must not admit a partner
 * model that happens to share the prefix.
 *
 * <p>Immutable and thread-safe.
 */
final class ModelMatcher {
  /** What a qualified entry must look like; each segment may hold {@code *} and {@code ?}, never {@code /}. */
  static final Pattern QUALIFIED = Pattern.compile("(publishers/[^/]+/)?models/[^/]+");
  /** A bare entry: one segment. */
  static final Pattern BARE = Pattern.compile("[^/]+");

  private final List<String> values;
  private final Glob[] bare;
  private final Glob[] qualified;

  ModelMatcher(List<String> values) {
    this.values = List.copyOf(values);
    List<Glob> b = new ArrayList<>();
    List<Glob> q = new ArrayList<>();
    for (String v : values) {
      (v.indexOf('/') < 0 ? b : q).add(Glob.compile(v, '/'));
    }
    this.bare = b.toArray(Glob[]::new);
    this.qualified = q.toArray(Glob[]::new);
  }

  List<String> values() {
    return values;
  }

  /** Whether the route's model is one of the entries; a route that names no model matches none. */
  boolean matches(Route route) {
    String model = route.model();
    if (model == null) {
      return false;
    }
    String publisher = route.publisher();
    if (publisher == null || publisher.equals("google")) {
      for (Glob g : bare) {
        if (g.matches(model)) {
          return true;
        }
      }
    }
    if (qualified.length == 0) {
      return false;
    }
    String name = publisher == null ? "models/" + model : "publishers/" + publisher + "/models/" + model;
    for (Glob g : qualified) {
      if (g.matches(name)) {
        return true;
      }
    }
    return false;
  }

  boolean hasWildcard() {
    for (Glob g : bare) {
      if (g.isWildcard()) {
        return true;
      }
    }
    for (Glob g : qualified) {
      if (g.isWildcard()) {
        return true;
      }
    }
    return false;
  }

  @Override
  public String toString() {
    return values.toString();
  }
}

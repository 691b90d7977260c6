package dev.vertexproxy.proxy.audit;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * The names under which a value is never recorded, and what is recorded instead: one list for the audit writer's claim
 * redaction and the request path's body capture, so the two cannot drift apart. Thread-safe.
 *
 * <p>The same few claim names come with every token, so each name's answer is remembered ({@link Decided}) instead of
 * running the pattern per name per record; names come from callers, so what is remembered is bounded.
 */
public final class SecretNames {
  /** What a record holds in place of a secret. */
  public static final String REDACTED = "[redacted]";

  private static final Pattern SECRET_KEY_NAME =
      Pattern.compile("(?i).*(token|authorization|cookie|password|passwd|secret|credential|api[_-]?key).*");
  private static final Decided SECRET_KEYS = new Decided(name -> SECRET_KEY_NAME.matcher(name).matches());

  private SecretNames() {
  }

  /** True if a value under this key (a claim, a JSON member) must be recorded as {@link #REDACTED}. */
  public static boolean secretKey(String name) {
    return SECRET_KEYS.test(name);
  }

  /**
   * A predicate over names whose answers are remembered: up to {@value #NAMES} names of up to {@value #NAME_CHARS}
   * characters each (under 1 MiB); beyond that it asks the predicate every time, so a flood of new names (request
   * bodies' member names share {@link #secretKey} with claims) costs time, never memory, and never changes an answer.
   */
  static final class Decided implements Predicate<String> {
    static final int NAMES = 4_096;
    static final int NAME_CHARS = 64;

    private final Predicate<String> decide;
    private final Map<String, Boolean> answers = new ConcurrentHashMap<>();

    Decided(Predicate<String> decide) {
      this.decide = decide;
    }

    @Override
    public boolean test(String name) {
      Boolean known = answers.get(name);
      if (known != null) {
        return known;
      }
      boolean answer = decide.test(name);
      if (name.length() <= NAME_CHARS && answers.size() < NAMES) {
        answers.putIfAbsent(name, answer); // racing appenders may pass NAMES by a few: still bounded
      }
      return answer;
    }

    int size() {
      return answers.size();
    }
  }
}

package dev.vertexproxy.proxy.audit;

import java.util.regex.Pattern;

/**
 * The names under which a value is never recorded, and what is recorded instead: one list for the audit writer's claim
 * redaction and the request path's body capture, so the two cannot drift apart. Stateless and thread-safe.
 */
public final class SecretNames {
  /** What a record holds in place of a secret. */
  public static final String REDACTED = "[redacted]";

  private static final Pattern SECRET_KEY_NAME =
      Pattern.compile("(?i).*(token|authorization|cookie|password|passwd|secret|credential|api[_-]?key).*");

  private SecretNames() {
  }

  /** True if a value under this key (a claim, a JSON member) must be recorded as {@link #REDACTED}. */
  public static boolean secretKey(String name) {
    return SECRET_KEY_NAME.matcher(name).matches();
  }
}

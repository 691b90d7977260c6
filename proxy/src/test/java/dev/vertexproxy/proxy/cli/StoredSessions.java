package dev.vertexproxy.proxy.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;

/**
 * Puts a session into a user's CLI session store exactly as {@code vertex-proxy login} leaves it, for tests in other
 * packages that need a logged-in person (the store's classes are this package's own).
 */
public final class StoredSessions {
  private StoredSessions() {
  }

  /** Stores {@code token} for {@code proxyUrl} in {@code $XDG_CONFIG_HOME/vertex-proxy/sessions.json}. */
  public static void store(Path xdgConfigHome, String proxyUrl, String token, Instant expiresAt) throws IOException {
    try {
      SessionStore.forUser(Map.of("XDG_CONFIG_HOME", xdgConfigHome.toString()), xdgConfigHome)
          .put(new StoredSession(ProxyUrl.parse(proxyUrl), token, expiresAt, Instant.now(), "login", null));
    } catch (CliException e) {
      throw new IOException(e.getMessage(), e);
    }
  }
}

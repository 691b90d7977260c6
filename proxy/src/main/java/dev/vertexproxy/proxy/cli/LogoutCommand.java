package dev.vertexproxy.proxy.cli;

import java.io.PrintWriter;
import java.util.Optional;
import picocli.CommandLine.Command;

/**
 * {@code vertex-proxy logout [--proxy URL]}: ends a person's session — at the proxy first ({@code POST
 * /_proxy/oauth/revoke}, RFC 7009's shape, authenticated by the session itself, so a copy of the token elsewhere stops
 * working too), then on this machine.
 *
 * <p>The local copy is removed even when the proxy cannot be reached or refuses, because the person asked for it gone;
 * the command then says that the token stays valid at the proxy until it expires and exits 1, so a script notices.
 * A token the proxy already refuses (401: expired or revoked) needs no revoking. Logging out with no stored session is
 * not an error: the person is logged out.
 */
@Command(name = "logout", mixinStandardHelpOptions = true,
    description = "Revoke the proxy session at the proxy and remove it from this machine.")
final class LogoutCommand extends SessionCommand {
  static final String REVOKE_PATH = "/_proxy/oauth/revoke";

  LogoutCommand() {
    this(CliEnvironment.system());
  }

  LogoutCommand(CliEnvironment env) {
    super(env);
  }

  @Override
  int run(PrintWriter out, PrintWriter err) throws CliException {
    SessionStore store = env.store();
    ProxyUrl target = SessionChoice.proxy(env, store, proxy);
    Optional<StoredSession> stored = store.get(target);
    if (stored.isEmpty()) {
      out.println("Not logged in to " + target + ".");
      return 0;
    }
    String problem = revoke(stored.get());
    store.remove(target);
    if (problem != null) {
      err.println("logout: removed the session from this machine, but the proxy did not revoke it (" + problem
          + "); it stays valid until " + stored.get().expiresAt());
      return 1;
    }
    out.println("Logged out of " + target + ".");
    return 0;
  }

  /** Revokes at the proxy; null when the token no longer works there, else what went wrong. */
  private static String revoke(StoredSession s) {
    try {
      ProxyOAuthClient client = ProxyOAuthClient.create(s.proxy(), s.caFile());
      ProxyOAuthClient.Answer a = client.postForm(REVOKE_PATH, ProxyOAuthClient.form("token", s.accessToken(),
          "token_type_hint", "access_token", "client_id", ProxyOAuthClient.CLIENT_ID), s.accessToken());
      if (a.status() == 200 || a.status() == 401) {
        return null;
      }
      return a.describe();
    } catch (CliException e) {
      return e.getMessage();
    }
  }
}

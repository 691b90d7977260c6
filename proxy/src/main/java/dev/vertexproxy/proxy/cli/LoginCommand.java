package dev.vertexproxy.proxy.cli;

import java.io.PrintWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code vertex-proxy login [--device] --proxy URL [--ca-file CA]}: signs a person in to the proxy and stores the
 * session token for {@code vertex-proxy token} (mode 0600, see {@link SessionStore}). A browser on this machine is used
 * when one can be opened (the loopback flow); otherwise, or with {@code --device}, the person gets a code to enter in
 * any browser (RFC 8628). See {@link LoginFlow} for both.
 */
@Command(name = "login", mixinStandardHelpOptions = true,
    description = "Sign in to a vertex-proxy and store the session for `vertex-proxy token`.")
final class LoginCommand extends SessionCommand {
  @Option(names = "--device", description = "Sign in with a code in any browser, e.g. on a machine reached over SSH.")
  boolean device;

  @Option(names = "--ca-file", paramLabel = "CA",
      description = "PEM certificates to trust for the proxy's TLS instead of the system's (dev mode's ca.pem).")
  String caFile;

  LoginCommand() {
    this(CliEnvironment.system());
  }

  LoginCommand(CliEnvironment env) {
    super(env);
  }

  @Override
  int run(PrintWriter out, PrintWriter err) throws CliException {
    SessionStore store = env.store();
    String fromEnv = env.env().get(SessionChoice.PROXY_ENV);
    if (proxy == null && (fromEnv == null || fromEnv.isBlank()) && store.all().isEmpty()) {
      throw new CliException("which proxy? pass --proxy URL (its base URL, such as https://vertex-proxy.example.com)"
          + " or set " + SessionChoice.PROXY_ENV);
    }
    ProxyUrl target = SessionChoice.proxy(env, store, proxy);
    StoredSession s = SessionChoice.login(env, store, target, caFile, device, err);
    out.println("Logged in to " + target + " as " + SessionChoice.who(s) + " until " + s.expiresAt()
        + "; the session is in " + store.file());
    return 0;
  }
}

package dev.vertexproxy.proxy.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code vertex-proxy login [--device] --proxy URL [--ca-file CA]}: signs a person in to the proxy and stores the
 * session token for {@code vertex-proxy token} (mode 0600, see {@link SessionStore}). A browser on this machine is used
 * when one can be opened (the loopback flow); otherwise, or with {@code --device}, the person gets a code to enter in
 * any browser (RFC 8628). See {@link LoginFlow} for both.
 */
@Command(name = "login", mixinStandardHelpOptions = true,
    description = "Sign in to a vertex-proxy and store the session for `vertex-proxy token`.")
final class LoginCommand implements Callable<Integer> {
  @Option(names = "--proxy", paramLabel = "URL",
      description = "The proxy's base URL (default: $VERTEX_PROXY_URL, else the one proxy a session is stored for).")
  String proxy;

  @Option(names = "--device", description = "Sign in with a code in any browser, e.g. on a machine reached over SSH.")
  boolean device;

  @Option(names = "--ca-file", paramLabel = "CA",
      description = "PEM certificates to trust for the proxy's TLS instead of the system's (dev mode's ca.pem).")
  String caFile;

  @Spec
  CommandSpec spec;

  private final CliEnvironment env;

  LoginCommand() {
    this(CliEnvironment.system());
  }

  LoginCommand(CliEnvironment env) {
    this.env = env;
  }

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    try {
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
    } catch (CliException e) {
      err.println("login: " + e.getMessage());
      return 1;
    } finally {
      out.flush();
      err.flush();
    }
  }
}

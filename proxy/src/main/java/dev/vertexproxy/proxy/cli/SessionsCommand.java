package dev.vertexproxy.proxy.cli;

import dev.vertexproxy.proxy.config.ConfigLoader;
import dev.vertexproxy.proxy.config.ProxyConfig;
import dev.vertexproxy.proxy.config.SessionsConfig;
import dev.vertexproxy.proxy.login.Revocations;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code vertex-proxy sessions revoke|list --config proxy.yaml}: the administrator's side of the proxy's own tokens.
 * {@code revoke} ends every session and exchanged access token of a person or CI identity issued up to now — or one
 * session by its id (the audit record's {@code caller.claims.proxy_session.id}) — by writing the revocation list the
 * replicas share ({@code sessions.revocations_file}): the replica that shares the file refuses them within about a
 * second. Run it where that file is mounted (e.g. {@code kubectl exec} into a replica).
 */
@Command(name = "sessions", mixinStandardHelpOptions = true,
    description = "Revoke and list revocations of the proxy's session and access tokens.",
    subcommands = {SessionsCommand.Revoke.class, SessionsCommand.ListRevoked.class})
final class SessionsCommand implements Runnable {
  @Spec
  CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  static SessionsConfig sessions(Path config) throws Exception {
    ProxyConfig cfg = new ConfigLoader().load(config);
    if (cfg.sessions() == null) {
      throw new IllegalArgumentException(config + " has no sessions block: the proxy issues no tokens to revoke");
    }
    return cfg.sessions();
  }

  static Revocations revocations(SessionsConfig s) throws Exception {
    Revocations r = new Revocations(s.revocationsFile(), Clock.systemUTC(), s.longestTokenLifetime());
    r.refresh();
    return r;
  }

  @Command(name = "revoke", mixinStandardHelpOptions = true,
      description = "End a person's (or CI identity's) tokens issued up to now, or one session.")
  static final class Revoke implements Callable<Integer> {
    @Option(names = {"-c", "--config"}, required = true, description = "Path to proxy.yaml.")
    Path config;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Target target;

    static final class Target {
      @ArgGroup(exclusive = false)
      Subject subject;

      @Option(names = "--session", description = "One session's id (caller.claims.proxy_session.id in the audit trail).")
      String session;
    }

    static final class Subject {
      @Option(names = "--issuer", required = true, description = "The issuer's name in proxy.yaml, e.g. humans.")
      String issuer;

      @Option(names = "--subject", required = true, description = "The subject (sub), as the audit record's caller.subject.")
      String subject;
    }

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      PrintWriter out = spec.commandLine().getOut();
      SessionsConfig s;
      Revocations r;
      try {
        s = sessions(config);
        r = revocations(s);
      } catch (IllegalArgumentException e) {
        spec.commandLine().getErr().println("sessions revoke: " + e.getMessage());
        return 2;
      }
      if (target.session != null) {
        // until the longest a token lives: the list keeps the id until the session would have expired anyway
        r.revokeSession(target.session, Instant.now().plus(s.longestTokenLifetime()));
        out.println("revoked session " + target.session + " (in " + r.file() + ")");
      } else {
        r.revokeSubject(target.subject.issuer, target.subject.subject);
        out.println("revoked every token of " + target.subject.issuer + "/" + target.subject.subject
            + " issued up to now (in " + r.file() + "); a new login works again");
      }
      out.flush();
      return 0;
    }
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "List the revoked subjects.")
  static final class ListRevoked implements Callable<Integer> {
    @Option(names = {"-c", "--config"}, required = true, description = "Path to proxy.yaml.")
    Path config;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      PrintWriter out = spec.commandLine().getOut();
      Map<String, Instant> subjects = revocations(sessions(config)).subjects();
      subjects.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e ->
          out.println(e.getValue() + "  " + e.getKey().replace('\n', '/')));
      if (subjects.isEmpty()) {
        out.println("no revoked subjects");
      }
      out.flush();
      return 0;
    }
  }
}

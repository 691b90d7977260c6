package dev.vertexproxy.proxy.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/**
 * {@code vertex-proxy token [--proxy URL] [--format token|google-executable]}: prints a valid session token of the
 * proxy for scripts ({@code curl -H "Authorization: Bearer $(vertex-proxy token)"}) and for Google's auth libraries.
 *
 * <p>A token with less than {@link #MARGIN} left counts as expired: whoever is handed it — a script, or the SDK that
 * exchanges it at the proxy's token exchange and caches the answer until this expiry — should not be handed something
 * that stops working mid-call. When there is no valid token, a person at a terminal is logged in again (prompts on
 * stderr, so stdout stays the token); anywhere else the command fails with what to run, because a login nobody can
 * answer would only hang.
 *
 * <p>{@code --format google-executable} prints what google-auth's executable-sourced credentials read (the
 * {@code external_account} file {@code vertex-proxy adc --login} writes): {@code version}, {@code success},
 * {@code token_type} (a JWT), {@code id_token} and {@code expiration_time} in epoch seconds. google-auth runs it with
 * no person to answer, merges stderr into the JSON it parses, and shows a failure's {@code message} only when the
 * exit code is 0 — so in this format the command never starts a login, writes nothing to stderr, and answers a missing
 * or expired session with {@code success: false}, a {@code code} and a {@code message} naming the login to run, and
 * exit 0.
 */
@Command(name = "token", mixinStandardHelpOptions = true,
    description = "Print a valid proxy session token (logging in again at a terminal when it has expired).")
final class TokenCommand extends SessionCommand {
  static final Duration MARGIN = Duration.ofMinutes(5);
  static final String JWT_TYPE = "urn:ietf:params:oauth:token-type:jwt";
  private static final ObjectMapper JSON = new ObjectMapper();

  /** How the token is printed. */
  enum Format {
    /** The token alone on one line. */
    TOKEN,
    /** google-auth's executable-sourced credential response. */
    GOOGLE_EXECUTABLE
  }

  @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "token", converter = FormatConverter.class,
      description = "token (default) or google-executable (the JSON google-auth's executable credential source reads).")
  Format format;

  TokenCommand() {
    this(CliEnvironment.system());
  }

  TokenCommand(CliEnvironment env) {
    super(env);
  }

  @Override
  int run(PrintWriter out, PrintWriter err) throws CliException {
    StoredSession s = validSession(err);
    if (format == Format.GOOGLE_EXECUTABLE) {
      ObjectNode o = JSON.createObjectNode();
      o.put("version", 1);
      o.put("success", true);
      o.put("token_type", JWT_TYPE);
      o.put("id_token", s.accessToken());
      o.put("expiration_time", s.expiresAt().getEpochSecond());
      out.println(o.toString());
    } else {
      out.println(s.accessToken());
    }
    return 0;
  }

  /** For google-auth, a failure is its executable-response JSON with exit 0: it reads stdout and drops the rest. */
  @Override
  int failed(CliException e, PrintWriter out, PrintWriter err) {
    if (format == Format.GOOGLE_EXECUTABLE) {
      ObjectNode o = JSON.createObjectNode();
      o.put("version", 1);
      o.put("success", false);
      o.put("code", "vertex_proxy_login_required");
      o.put("message", e.getMessage());
      out.println(o.toString());
      return 0;
    }
    return super.failed(e, out, err);
  }

  private StoredSession validSession(PrintWriter err) throws CliException {
    SessionStore store = env.store();
    ProxyUrl target = SessionChoice.proxy(env, store, proxy);
    Optional<StoredSession> stored = store.get(target);
    Instant now = env.clock().instant();
    if (stored.isPresent() && stored.get().validAt(now, MARGIN)) {
      return stored.get();
    }
    String why = stored.isPresent() ? "the session for " + target + " has expired" : "not logged in to " + target;
    if (!env.interactive() || format == Format.GOOGLE_EXECUTABLE) {
      throw new CliException(why + ": run `vertex-proxy login --proxy " + target + "`");
    }
    err.println(why + "; logging in again.");
    String ca = stored.map(StoredSession::caFile).orElse(null);
    boolean device = stored.map(x -> "device".equals(x.via())).orElse(false);
    StoredSession fresh = SessionChoice.login(env, store, target, ca, device, err);
    if (!fresh.validAt(env.clock().instant(), MARGIN)) {
      throw new CliException("the proxy issued a session shorter than " + MARGIN.toMinutes() + " min");
    }
    return fresh;
  }

  /** Accepts the formats as written in the docs ({@code google-executable}), in any case. */
  static final class FormatConverter implements ITypeConverter<Format> {
    @Override
    public Format convert(String value) {
      for (Format f : Format.values()) {
        if (f.name().replace('_', '-').equalsIgnoreCase(value)) {
          return f;
        }
      }
      throw new TypeConversionException("expected token or google-executable, not " + value);
    }
  }
}

package dev.vertexproxy.proxy.cli;

import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.JWTParser;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.text.ParseException;
import java.util.Map;

/**
 * What {@code login}, {@code token} and {@code logout} share: which proxy a command is about, and logging in to it.
 *
 * <p>The proxy is {@code --proxy} when given, else {@code VERTEX_PROXY_URL}, else the one proxy a session is stored for;
 * with sessions for several and neither named, the command refuses and lists them rather than pick one — a token for
 * the wrong proxy is a confusing 401 at best.
 */
final class SessionChoice {
  static final String PROXY_ENV = "VERTEX_PROXY_URL";

  private SessionChoice() {
  }

  /** The proxy a command is about (see the class comment). */
  static ProxyUrl proxy(CliEnvironment env, SessionStore store, String option) throws CliException {
    if (option != null) {
      return ProxyUrl.parse(option);
    }
    String fromEnv = env.env().get(PROXY_ENV);
    if (fromEnv != null && !fromEnv.isBlank()) {
      return ProxyUrl.parse(fromEnv);
    }
    Map<ProxyUrl, StoredSession> all = store.all();
    if (all.size() == 1) {
      return all.keySet().iterator().next();
    }
    if (all.isEmpty()) {
      throw new CliException("not logged in to any proxy: run `vertex-proxy login --proxy URL`");
    }
    throw new CliException("sessions for several proxies are stored (" + String.join(", ",
        all.keySet().stream().map(ProxyUrl::value).toList()) + "): pass --proxy URL or set " + PROXY_ENV);
  }

  /** Logs in to {@code proxy} and stores the session; what the person reads goes to {@code err}. */
  static StoredSession login(CliEnvironment env, SessionStore store, ProxyUrl proxy, String caFile, boolean device,
      PrintWriter err) throws CliException {
    String ca = caFile == null ? null : Path.of(caFile).toAbsolutePath().normalize().toString();
    StoredSession s = new LoginFlow(env, ProxyOAuthClient.create(proxy, ca), ca, err).login(device);
    store.put(s);
    return s;
  }

  /**
   * Who a session is for, as the person would recognise it ({@code email}, else {@code sub}), read from the token
   * without verifying it: it is for display only, and the proxy verifies the token on every use.
   */
  static String who(StoredSession s) {
    try {
      JWTClaimsSet c = JWTParser.parse(s.accessToken()).getJWTClaimsSet();
      Object email = c.getClaim("email");
      String name = email instanceof String e && !e.isEmpty() ? e : c.getSubject();
      return name == null ? "(unknown)" : HealthcheckCommand.printable(name);
    } catch (ParseException e) {
      return "(unknown)";
    }
  }
}

package dev.vertexproxy.proxy.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Locale;

/**
 * A person's login to the proxy, the client side of the two grants the proxy offers a native app: the loopback
 * redirect with PKCE (RFC 8252, RFC 7636) when a browser can be opened on this machine, and the device authorization
 * grant (RFC 8628) when not — or when asked, for a machine the person reached over SSH.
 *
 * <p>The proxy is the authorization server; the company IdP only ever sees the proxy's own browser login, so the CLI
 * needs no client id or secret of the IdP and never holds an IdP token. What the login yields is a proxy session token.
 *
 * <p>The device flow polls as RFC 8628 §3.5 says: never faster than the interval the proxy asked for, five seconds
 * slower for good after each {@code slow_down}, on through {@code authorization_pending}, and stopping on
 * {@code expired_token}, {@code access_denied} or its own deadline. Waiting goes through the environment's sleeper and
 * time through its clock, so tests run the whole loop without waiting. A poll that cannot reach the proxy, or that it
 * answers with a 5xx, is retried at the same pace up to {@value #TRANSIENT_FAILURES} times in a row: a replica restart
 * should not cost the person their approval.
 */
final class LoginFlow {
  static final Duration SLOW_DOWN = Duration.ofSeconds(5);
  static final int TRANSIENT_FAILURES = 3;
  private static final SecureRandom RANDOM = new SecureRandom();

  private final CliEnvironment env;
  private final ProxyOAuthClient client;
  private final String caFile;
  private final PrintWriter err;

  LoginFlow(CliEnvironment env, ProxyOAuthClient client, String caFile, PrintWriter err) {
    this.env = env;
    this.client = client;
    this.caFile = caFile;
    this.err = err;
  }

  /** Logs in: by loopback when a browser opens (and {@code device} is false), else by the device flow. */
  StoredSession login(boolean device) throws CliException {
    if (!device) {
      StoredSession s = loopback();
      if (s != null) {
        return s;
      }
      err.println("No browser could be opened here; signing in with a code instead.");
    }
    return device();
  }

  /** The loopback flow; null when no browser could be opened (the caller falls back to the device flow). */
  StoredSession loopback() throws CliException {
    String verifier = random(32);
    String state = random(24);
    try (LoopbackReceiver receiver = LoopbackReceiver.start(state)) {
      String redirectUri = receiver.redirectUri();
      URI authorize = client.proxy().resolve("/_proxy/cli/authorize?response_type=code&client_id="
          + ProxyOAuthClient.CLIENT_ID + "&redirect_uri=" + enc(redirectUri) + "&state=" + state + "&code_challenge="
          + challenge(verifier) + "&code_challenge_method=S256");
      if (!env.browser().open(authorize)) {
        return null;
      }
      err.println("Opened a browser to sign in to " + client.proxy() + ". If it did not appear, open:");
      err.println("  " + authorize);
      err.flush();
      LoopbackReceiver.Callback cb = receiver.await(env.loopbackTimeout());
      if (cb.error() != null) {
        throw new CliException("the proxy did not sign the CLI in: " + cb.error()
            + (cb.description().isEmpty() ? "" : ": " + cb.description()));
      }
      Instant asked = env.clock().instant();
      ProxyOAuthClient.Answer a = client.postForm("/_proxy/oauth/token", ProxyOAuthClient.form(
          "grant_type", "authorization_code", "code", cb.code(), "redirect_uri", redirectUri,
          "code_verifier", verifier, "client_id", ProxyOAuthClient.CLIENT_ID), null);
      if (a.status() != 200) {
        throw new CliException("the proxy refused the login: " + a.describe());
      }
      return session(ProxyOAuthClient.issued(a), asked, "loopback");
    }
  }

  /** The device flow: shows a code and a URL, then polls until the person approves, declines, or the code expires. */
  StoredSession device() throws CliException {
    ProxyOAuthClient.Answer a = client.postForm("/_proxy/device/code",
        ProxyOAuthClient.form("client_id", ProxyOAuthClient.CLIENT_ID), null);
    if (a.status() == 404) {
      throw new CliException(client.proxy() + " does not offer login (its proxy.yaml has no sessions: section)");
    }
    if (a.status() != 200) {
      throw new CliException("the proxy did not start a device login: " + a.describe());
    }
    JsonNode b = a.body();
    String deviceCode = b.path("device_code").asText("");
    String userCode = b.path("user_code").asText("");
    String uri = b.path("verification_uri").asText("");
    long expiresIn = b.path("expires_in").asLong(0);
    if (deviceCode.isEmpty() || userCode.isEmpty() || !isWebUrl(uri) || expiresIn <= 0) {
      throw new CliException("the proxy's device authorization answer is incomplete (RFC 8628 §3.2)");
    }
    Duration interval = Duration.ofSeconds(Math.max(1, b.path("interval").asLong(5)));
    String complete = b.path("verification_uri_complete").asText("");
    Instant deadline = env.clock().instant().plusSeconds(expiresIn);
    err.println("To sign in, open this page in a browser on any device:");
    err.println("  " + HealthcheckCommand.printable(uri));
    err.println("and enter the code  " + HealthcheckCommand.printable(userCode));
    if (isWebUrl(complete)) {
      err.println("(or open " + HealthcheckCommand.printable(complete) + " , which fills it in)");
    }
    err.println("Waiting for approval; the code expires in " + Math.max(1, expiresIn / 60) + " min.");
    err.flush();
    int failures = 0;
    while (true) {
      sleep(interval);
      Instant now = env.clock().instant();
      if (!now.isBefore(deadline)) {
        throw new CliException("the code expired before it was approved; run login again");
      }
      ProxyOAuthClient.Answer poll;
      try {
        poll = client.postForm("/_proxy/oauth/token", ProxyOAuthClient.form("grant_type", ProxyOAuthClient.DEVICE_GRANT,
            "device_code", deviceCode, "client_id", ProxyOAuthClient.CLIENT_ID), null);
      } catch (CliException unreachable) {
        if (++failures >= TRANSIENT_FAILURES) {
          throw unreachable;
        }
        continue;
      }
      if (poll.status() == 200) {
        return session(ProxyOAuthClient.issued(poll), now, "device");
      }
      switch (poll.error()) {
        case "authorization_pending" -> failures = 0;
        case "slow_down" -> {
          failures = 0;
          interval = interval.plus(SLOW_DOWN);
        }
        case "expired_token" -> throw new CliException("the code expired before it was approved; run login again");
        case "access_denied" -> throw new CliException("the sign-in was declined in the browser");
        default -> {
          if (poll.status() < 500 || ++failures >= TRANSIENT_FAILURES) {
            throw new CliException("the proxy refused the device login: " + poll.describe());
          }
        }
      }
    }
  }

  private StoredSession session(ProxyOAuthClient.Issued issued, Instant asked, String via) {
    // the lifetime counts from when we asked, so a slow answer makes the stored expiry early, never late
    return new StoredSession(client.proxy(), issued.accessToken(), asked.plus(issued.expiresIn()),
        env.clock().instant(), via, caFile);
  }

  private void sleep(Duration d) throws CliException {
    try {
      env.sleeper().sleep(d);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CliException("interrupted while waiting for approval", e);
    }
  }

  private static boolean isWebUrl(String s) {
    String l = s.toLowerCase(Locale.ROOT);
    return (l.startsWith("https://") || l.startsWith("http://")) && s.length() <= 2048;
  }

  static String random(int bytes) {
    byte[] b = new byte[bytes];
    RANDOM.nextBytes(b);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }

  /** The S256 code challenge of a PKCE verifier (RFC 7636 §4.2). */
  static String challenge(String verifier) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(verifier.getBytes(StandardCharsets.US_ASCII));
      return Base64.getUrlEncoder().withoutPadding().encodeToString(d);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }
}

package dev.vertexproxy.proxy.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.StringJoiner;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * The CLI's side of the proxy's OAuth endpoints: the token endpoint (RFC 6749 §4.1.3 and RFC 8628 §3.4), device
 * authorization (RFC 8628 §3.1) and revocation (RFC 7009). The proxy is the authorization server; the CLI is a public
 * native client ({@value #CLIENT_ID}) with no secret, so every grant it redeems is bound by PKCE or a device code.
 *
 * <p>Redirects are never followed (a token request that is redirected is not the proxy answering), answers are read up
 * to {@value #MAX_ANSWER} bytes, and nothing sent or received is logged. With a CA file, only that file's certificates
 * are trusted — the dev mode's own CA, or a company CA — instead of the JVM's store.
 */
final class ProxyOAuthClient {
  static final String CLIENT_ID = "vertex-proxy-cli";
  static final String DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";
  static final int MAX_ANSWER = 64 * 1024;
  private static final ObjectMapper JSON = new ObjectMapper();

  private final ProxyUrl proxy;
  private final HttpClient http;

  private ProxyOAuthClient(ProxyUrl proxy, HttpClient http) {
    this.proxy = proxy;
    this.http = http;
  }

  /** A client for one proxy, trusting only {@code caFile}'s certificates when it is given. */
  static ProxyOAuthClient create(ProxyUrl proxy, String caFile) throws CliException {
    HttpClient.Builder b = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER)
        .connectTimeout(Duration.ofSeconds(10));
    if (caFile != null) {
      b.sslContext(trusting(Path.of(caFile)));
    }
    return new ProxyOAuthClient(proxy, b.build());
  }

  ProxyUrl proxy() {
    return proxy;
  }

  /** A JSON answer: its status and body (an empty object when the body was not JSON). */
  record Answer(int status, JsonNode body) {
    /** The OAuth {@code error} code of a refusal (RFC 6749 §5.2), or empty. */
    String error() {
      return body.path("error").asText("");
    }

    /** What a person should read about a refusal: the code and the proxy's description, printable and bounded. */
    String describe() {
      String code = error().isEmpty() ? "HTTP " + status : error();
      String d = body.path("error_description").asText("");
      if (d.isEmpty()) {
        d = body.path("error").path("message").asText(""); // Google's error shape, from a route that is not OAuth's
      }
      return HealthcheckCommand.printable(d.isEmpty() ? code : code + ": " + d);
    }
  }

  /** Posts a form to a reserved path; {@code bearer} (nullable) goes into {@code Authorization}. */
  Answer postForm(String path, Map<String, String> form, String bearer) throws CliException {
    StringJoiner body = new StringJoiner("&");
    form.forEach((k, v) -> body.add(enc(k) + "=" + enc(v)));
    HttpRequest.Builder r = HttpRequest.newBuilder(proxy.resolve(path)).timeout(Duration.ofSeconds(30))
        .header("Content-Type", "application/x-www-form-urlencoded").header("Accept", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body.toString()));
    if (bearer != null) {
      r.header("Authorization", "Bearer " + bearer);
    }
    try {
      HttpResponse<InputStream> resp = http.send(r.build(), HttpResponse.BodyHandlers.ofInputStream());
      byte[] bytes;
      try (InputStream in = resp.body()) {
        bytes = in.readNBytes(MAX_ANSWER);
      }
      JsonNode json;
      try {
        json = JSON.readTree(bytes);
      } catch (IOException e) {
        json = null;
      }
      return new Answer(resp.statusCode(), json != null && json.isObject() ? json : JSON.createObjectNode());
    } catch (IOException e) {
      throw new CliException("could not reach " + proxy + ": " + describe(e), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CliException("interrupted while talking to " + proxy, e);
    }
  }

  /** A form in the order given (tests and logs read better that way). */
  static Map<String, String> form(String... pairs) {
    Map<String, String> m = new LinkedHashMap<>();
    for (int i = 0; i + 1 < pairs.length; i += 2) {
      m.put(pairs[i], pairs[i + 1]);
    }
    return m;
  }

  /**
   * The issued session of a successful token answer (RFC 6749 §5.1). Anything else in a 200 — no token, a token type
   * other than Bearer, no positive lifetime — is refused rather than stored: a session we cannot use is not a login.
   */
  static Issued issued(Answer a) throws CliException {
    JsonNode b = a.body();
    if (a.status() != 200 || !b.path("access_token").isTextual() || b.get("access_token").asText().isEmpty()
        || !"bearer".equalsIgnoreCase(b.path("token_type").asText("")) || !b.path("expires_in").canConvertToLong()
        || b.get("expires_in").asLong() <= 0) {
      throw new CliException("the proxy's token answer is not a session (HTTP " + a.status() + ")");
    }
    return new Issued(b.get("access_token").asText(), Duration.ofSeconds(b.get("expires_in").asLong()));
  }

  /**
   * A session token and its lifetime as the token endpoint gave them.
   *
   * @param accessToken the session token
   * @param expiresIn how long it is valid from now
   */
  record Issued(String accessToken, Duration expiresIn) {
    @Override
    public String toString() {
      return "Issued[expiresIn=" + expiresIn + "]";
    }
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  private static String describe(Throwable e) {
    String m = e.getMessage();
    if (m == null && e.getCause() != null) {
      m = e.getCause().getMessage();
    }
    return HealthcheckCommand.printable(m == null ? e.getClass().getSimpleName() : m);
  }

  private static SSLContext trusting(Path caFile) throws CliException {
    try (InputStream in = Files.newInputStream(caFile)) {
      Collection<? extends Certificate> certs = CertificateFactory.getInstance("X.509").generateCertificates(in);
      if (certs.isEmpty()) {
        throw new CliException("--ca-file " + caFile + " holds no PEM certificate");
      }
      KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
      ks.load(null, null);
      int i = 0;
      for (Certificate c : certs) {
        ks.setCertificateEntry("ca-" + i++, c);
      }
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(ks);
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(null, tmf.getTrustManagers(), null);
      return ctx;
    } catch (IOException | GeneralSecurityException e) {
      throw new CliException("--ca-file " + caFile + ": " + describe(e), e);
    }
  }
}

package dev.vertexproxy.proxy.doctor;

import dev.vertexproxy.proxy.upstream.TrustAnchors;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Map;
import java.util.StringJoiner;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManagerFactory;

/**
 * The doctor's HTTP: {@link HttpClient}, every exchange (connect, headers and body) bounded by one timeout, and the
 * answer's {@code Date} header kept for the clock-skew check. Thread-safe.
 */
final class DoctorHttp {
  /** An answer: status, body as text, and the {@code Date} header ({@code null} when absent or unreadable). */
  record Answer(int status, String body, Instant date) {
  }

  private final HttpClient client;
  private final Duration timeout;

  private DoctorHttp(HttpClient client, Duration timeout) {
    this.client = client;
    this.timeout = timeout;
  }

  /** Trusting the system's anchors, and following redirects as the proxy's key fetches do (issuers). */
  static DoctorHttp system(Duration timeout) {
    return new DoctorHttp(HttpClient.newBuilder().connectTimeout(timeout).followRedirects(HttpClient.Redirect.NORMAL)
        .build(), timeout);
  }

  /** Trusting the system's anchors plus {@code caFile} (null: none), following no redirect (Google's endpoints). */
  static DoctorHttp google(Duration timeout, Path caFile) throws IOException {
    HttpClient.Builder builder = HttpClient.newBuilder().connectTimeout(timeout).followRedirects(HttpClient.Redirect.NEVER);
    if (caFile != null) {
      try {
        TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trust.init(TrustAnchors.systemPlusStore(caFile));
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, trust.getTrustManagers(), null);
        builder.sslContext(context);
      } catch (GeneralSecurityException e) {
        throw new IOException("credentials.ca_file: " + caFile + ": " + e.getMessage(), e);
      }
    }
    return new DoctorHttp(builder.build(), timeout);
  }

  Duration timeout() {
    return timeout;
  }

  Answer get(URI uri) throws IOException, InterruptedException {
    return send(HttpRequest.newBuilder(uri).header("Accept", "application/json").GET());
  }

  Answer postForm(URI uri, Map<String, String> form) throws IOException, InterruptedException {
    StringJoiner body = new StringJoiner("&");
    form.forEach((k, v) -> body.add(URLEncoder.encode(k, StandardCharsets.UTF_8) + "="
        + URLEncoder.encode(v, StandardCharsets.UTF_8)));
    return send(HttpRequest.newBuilder(uri).header("Content-Type", "application/x-www-form-urlencoded")
        .header("Accept", "application/json").POST(HttpRequest.BodyPublishers.ofString(body.toString())));
  }

  private Answer send(HttpRequest.Builder request) throws IOException, InterruptedException {
    var future = client.sendAsync(request.timeout(timeout).build(), HttpResponse.BodyHandlers.ofString());
    HttpResponse<String> response;
    try {
      response = future.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      future.cancel(true);
      throw new HttpTimeoutException("no complete answer within " + timeout.toMillis() + " ms");
    } catch (ExecutionException e) {
      throw e.getCause() instanceof IOException io ? io : new IOException(String.valueOf(e.getCause()), e.getCause());
    }
    return new Answer(response.statusCode(), response.body(), date(response.headers().firstValue("Date").orElse(null)));
  }

  private static Instant date(String header) {
    if (header == null) {
      return null;
    }
    try {
      return ZonedDateTime.parse(header, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
    } catch (DateTimeParseException e) {
      return null;
    }
  }

  /** A failed exchange in a few words: timed out, refused, a TLS problem, or the exception's own message. */
  static String describe(IOException e) {
    if (e instanceof HttpTimeoutException) {
      return "timed out (" + e.getMessage() + ")";
    }
    if (e instanceof ConnectException) {
      return "connection refused or unreachable";
    }
    for (Throwable c = e; c != null; c = c.getCause()) {
      if (c instanceof SSLException) {
        return "TLS failed: " + c.getMessage();
      }
    }
    return e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
  }
}

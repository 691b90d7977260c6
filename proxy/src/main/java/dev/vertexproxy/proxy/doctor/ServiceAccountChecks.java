package dev.vertexproxy.proxy.doctor;

import com.google.auth.http.HttpTransportFactory;
import dev.vertexproxy.proxy.config.CredentialsConfig;
import dev.vertexproxy.proxy.credentials.GoogleTokenProvider;
import dev.vertexproxy.proxy.credentials.GoogleTokenUnavailableException;
import dev.vertexproxy.proxy.credentials.GoogleTransports;
import dev.vertexproxy.proxy.credentials.TokenRequest;
import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.net.http.HttpTimeoutException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLException;

/**
 * A Google access token is obtainable for every service account the policy names, through the proxy's real token
 * stack ({@link GoogleTokenProvider}: the proxy's own source credentials, then IAM Credentials' generateAccessToken).
 * Accounts only sts-mode rules use need a caller's token and are skipped: the sts source is not the doctor's to drive.
 * The token is fetched and dropped; its value is never printed.
 */
final class ServiceAccountChecks implements Check {
  static final String CHECK = "service account";
  static final String SOURCE_FIX = "the proxy's own credentials (ADC / credentials.source_credentials) do not work";

  private final CredentialsConfig credentials;
  private final List<String> impersonated;
  private final List<String> stsOnly;
  private final boolean subjectTokenGiven;
  private final Clock clock;
  private final Duration timeout;

  /**
   * @param impersonated accounts impersonate-mode rules name, in policy order, without repetitions
   * @param stsOnly      accounts only sts-mode rules name
   */
  ServiceAccountChecks(CredentialsConfig credentials, List<String> impersonated, List<String> stsOnly,
      boolean subjectTokenGiven, Clock clock, Duration timeout) {
    this.credentials = credentials;
    this.impersonated = List.copyOf(impersonated);
    this.stsOnly = List.copyOf(stsOnly);
    this.subjectTokenGiven = subjectTokenGiven;
    this.clock = clock;
    this.timeout = timeout;
  }

  @Override
  public List<CheckResult> run() throws InterruptedException {
    List<CheckResult> rows = new ArrayList<>();
    if (!impersonated.isEmpty()) {
      impersonate(rows);
    }
    for (String sa : stsOnly) {
      rows.add(CheckResult.skip(CHECK, sa, subjectTokenGiven
          ? "used by sts rules only: not checked (the doctor does not run the sts exchange and impersonation yet)"
          : "used by sts rules only: needs a caller's token (give --subject-token-file)"));
    }
    if (impersonated.isEmpty() && stsOnly.isEmpty()) {
      rows.add(CheckResult.skip(CHECK, "policy", "no allow rule names a service account"));
    }
    return rows;
  }

  private void impersonate(List<CheckResult> rows) throws InterruptedException {
    // The impersonate stack, whatever proxy.yaml's default mode: these rules impersonate.
    CredentialsConfig config = credentials.mode() == CredentialsConfig.Mode.IMPERSONATE ? credentials
        : credentials.withSts(CredentialsConfig.Mode.IMPERSONATE, credentials.sts());
    ExecutorService executor = Executors.newFixedThreadPool(Math.min(4, impersonated.size()), r -> {
      Thread t = new Thread(r, "vertex-proxy-doctor");
      t.setDaemon(true);
      return t;
    });
    GoogleTokenProvider provider;
    try {
      HttpTransportFactory transport = GoogleTransports.forConfig(config);
      provider = GoogleTokenProvider.builder().config(config).impersonation(transport).clock(clock).executor(executor)
          .build();
    } catch (IOException | RuntimeException e) {
      executor.shutdownNow();
      String source = config.sourceCredentialsFile() == null ? "Application Default Credentials"
          : config.sourceCredentialsFile().toString();
      rows.add(CheckResult.fail("google credentials", source, "cannot be loaded: " + e.getMessage(), SOURCE_FIX));
      for (String sa : impersonated) {
        rows.add(CheckResult.skip(CHECK, sa, "the proxy's own credentials could not be loaded"));
      }
      return;
    }
    try {
      for (String sa : impersonated) {
        rows.add(fetch(provider, sa));
      }
    } finally {
      provider.close();
      executor.shutdownNow();
    }
  }

  private CheckResult fetch(GoogleTokenProvider provider, String sa) throws InterruptedException {
    try {
      GoogleTokenProvider.GoogleToken token =
          provider.tokenFor(TokenRequest.impersonating(sa)).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      return CheckResult.pass(CHECK, sa, "Google token obtained by impersonation (expires " + token.expiresAt() + ")");
    } catch (TimeoutException e) {
      return CheckResult.fail(CHECK, sa, "no token within " + timeout.toMillis() + " ms",
          "check network / credentials.iam_endpoint");
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      return CheckResult.fail(CHECK, sa, String.valueOf(cause.getMessage()), fix(sa, cause));
    }
  }

  /** The fix for a failed fetch, from Google's status or, without an answer, from what failed. */
  static String fix(String sa, Throwable failure) {
    int status = failure instanceof GoogleTokenUnavailableException g ? g.googleHttpStatus() : 0;
    String message = String.valueOf(failure.getMessage());
    if (status == 403 || message.contains("PERMISSION_DENIED")) {
      return "grant the proxy's identity roles/iam.serviceAccountTokenCreator on " + sa
          + ": gcloud iam service-accounts add-iam-policy-binding " + sa
          + " --member=PROXY_PRINCIPAL --role=roles/iam.serviceAccountTokenCreator";
    }
    if (status == 401 || status == 400
        || (message.toLowerCase(Locale.ROOT).contains("source credentials") && !unreachable(failure))) {
      return SOURCE_FIX;
    }
    if (status == 0 && unreachable(failure)) {
      return "check network / credentials.iam_endpoint";
    }
    if (failure instanceof IllegalArgumentException) {
      return "fix the service_account in the policy: an email such as name@project.iam.gserviceaccount.com";
    }
    return status >= 500 ? "Google failed on its side: run the doctor again in a minute" : SOURCE_FIX;
  }

  private static boolean unreachable(Throwable failure) {
    for (Throwable c = failure; c != null; c = c.getCause()) {
      if (c instanceof ConnectException || c instanceof UnknownHostException || c instanceof SocketTimeoutException
          || c instanceof HttpTimeoutException || c instanceof SSLException) {
        return true;
      }
    }
    return false;
  }
}

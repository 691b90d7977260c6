package dev.vertexproxy.proxy.credentials;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.api.client.http.HttpResponseException;
import java.io.IOException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns google-auth-library's failures into one message that says what is wrong and what to change, without quoting
 * anything secret: Google's answer is read from the HTTP error body (Google's {@code {"error":{…}}} shape for IAM,
 * OAuth's {@code {"error":"…","error_description":"…"}} for STS) or from the library's own {@code OAuthException}
 * message ({@code Error code invalid_grant: …}), never from a token.
 */
final class GoogleErrors {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern OAUTH_MESSAGE = Pattern.compile("Error code ([a-z_]+): (.*?)(?: - .*)?", Pattern.DOTALL);

  /** Where the failure happened: the two Google endpoints a token goes through. */
  enum Step { STS, IAM }

  /** What Google answered: an HTTP status (0 when none), an error code and its description. */
  record Answer(int status, String code, String description) {
  }

  private GoogleErrors() {
  }

  /**
   * The failure of one fetch as {@link GoogleTokenUnavailableException}.
   *
   * @param request what was asked for
   * @param as      who asked IAM ({@code the proxy's identity}, or the federated caller's principal)
   */
  static GoogleTokenUnavailableException unavailable(TokenRequest request, String as, Throwable failure) {
    Answer answer = answerOf(failure);
    Step step = stepOf(answer);
    String target = request.target();
    String message;
    if (answer == null) {
      Throwable root = failure;
      while (root.getCause() != null) {
        root = root.getCause();
      }
      message = "no Google access token for " + target + ": Google could not be reached or refused the "
          + (request.mode() == TokenRequest.Mode.STS ? "exchange" : "source credentials") + " ("
          + root.getClass().getSimpleName() + (root.getMessage() == null ? "" : ": " + root.getMessage()) + ")";
      return new GoogleTokenUnavailableException(request.serviceAccount(), 0, message, failure);
    }
    String said = answer.code() + (answer.description().isEmpty() ? "" : ": " + answer.description());
    if (step == Step.STS) {
      String provider = "workload identity provider " + request.audience();
      message = switch (answer.code()) {
        case "invalid_target" -> provider + " does not exist or is disabled (STS answered " + said + ")";
        case "unauthorized_client" -> provider + " rejected the caller's token: its attribute condition failed for "
            + callerOf(request) + " (STS answered " + said + ")";
        case "invalid_grant" -> answer.description().toLowerCase(Locale.ROOT).contains("audience")
            ? provider + " rejected the token audience: add the audience the proxy accepts to the provider's allowed"
                + " audiences (STS answered " + said + ")"
            : provider + " rejected the caller's token (STS answered " + said + ")";
        default -> "no Google access token for " + target + ": STS answered " + answer.status() + " " + said;
      };
    } else if (answer.status() == 403 || "PERMISSION_DENIED".equals(answer.code())) {
      String role = request.mode() == TokenRequest.Mode.STS
          ? "roles/iam.workloadIdentityUser (or roles/iam.serviceAccountTokenCreator)"
          : "roles/iam.serviceAccountTokenCreator";
      message = "service account " + request.serviceAccount() + ": " + as + " lacks " + role
          + " on it, or the account does not exist (IAM answered 403 " + said + ")";
    } else {
      message = "no Google access token for " + target + ": Google answered " + answer.status() + " " + said;
    }
    return new GoogleTokenUnavailableException(request.serviceAccount(), answer.status(), message, failure);
  }

  private static String callerOf(TokenRequest request) {
    return request.caller().map(c -> c.issuer() + "/" + c.subject()).orElse("the caller");
  }

  /** The STS step when the answer is OAuth-shaped (a lower-case error code), IAM otherwise. */
  private static Step stepOf(Answer answer) {
    return answer != null && answer.code().matches("[a-z_]+") ? Step.STS : Step.IAM;
  }

  /** Google's answer inside {@code failure}, or {@code null} when none was received. */
  static Answer answerOf(Throwable failure) {
    for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
      if (cause instanceof HttpResponseException http) {
        Answer a = parseBody(http.getStatusCode(), http.getContent());
        return a != null ? a : new Answer(http.getStatusCode(), "HTTP " + http.getStatusCode(), "");
      }
    }
    for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
      Matcher m = cause.getMessage() == null ? null : OAUTH_MESSAGE.matcher(cause.getMessage());
      if (m != null && m.matches()) {
        return new Answer(400, m.group(1), m.group(2).trim());
      }
    }
    return null;
  }

  private static Answer parseBody(int status, String body) {
    if (body == null || body.isBlank()) {
      return null;
    }
    try {
      JsonNode root = JSON.readTree(body);
      JsonNode error = root == null ? null : root.get("error");
      if (error != null && error.isObject()) {
        return new Answer(status, error.path("status").asText("HTTP " + status), error.path("message").asText(""));
      }
      if (error != null && error.isTextual()) {
        return new Answer(status, error.asText(), root.path("error_description").asText(""));
      }
    } catch (IOException e) {
      // not JSON: no answer we can quote
    }
    return null;
  }
}

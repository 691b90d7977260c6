package dev.vertexproxy.proxy.credentials;

/**
 * No Google access token could be obtained for a service account: Google refused (for example 403 when the proxy
 * may not impersonate the account) or could not be reached. The request that needed the token is answered with
 * {@code credentials-unavailable}. The message names the service account and Google's answer, never a token.
 */
public final class GoogleTokenUnavailableException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String serviceAccount;
  private final int googleHttpStatus;

  GoogleTokenUnavailableException(String serviceAccount, int googleHttpStatus, String message, Throwable cause) {
    super(message, cause);
    this.serviceAccount = serviceAccount;
    this.googleHttpStatus = googleHttpStatus;
  }

  public String serviceAccount() {
    return serviceAccount;
  }

  /** The HTTP status Google answered with (e.g. 403, 503), or 0 when no answer was received at all. */
  public int googleHttpStatus() {
    return googleHttpStatus;
  }
}

package com.google.auth.oauth2;

import com.google.api.client.util.Clock;

/**
 * Sets the clock an {@link OAuth2Credentials} judges its token's expiry by. google-auth keeps that clock in a
 * package-private field with no setter (its own tests set it the same way), so this helper lives in google-auth's
 * package, in test code only: it lets a test put a credential minutes into its life without sleeping.
 */
public final class CredentialsClock {
  private CredentialsClock() {}

  public static <T extends OAuth2Credentials> T at(T credentials, Clock clock) {
    credentials.clock = clock;
    return credentials;
  }
}

package dev.vertexproxy.emulators;

import java.time.Instant;
import java.util.Optional;

/**
 * The access tokens the Google emulator has issued, so the Vertex emulator can tell whose token a bearer is
 * (and refuse anything else, the caller's own JWT above all). Thread-safe.
 */
public interface IssuedTokens {
  Optional<Issued> lookup(String accessToken);

  /**
   * @param principal who the token stands for: a service-account email for IAM-issued tokens, or the federated
   *                  principal ({@code principal://iam.googleapis.com/...}) for STS-issued ones
   * @param kind      {@code sts} or {@code iam}
   */
  record Issued(String principal, String kind, Instant expiresAt) {
  }
}

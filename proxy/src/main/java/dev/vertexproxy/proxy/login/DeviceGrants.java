package dev.vertexproxy.proxy.login;

import dev.vertexproxy.policy.Caller;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * The pending device authorizations of RFC 8628: started by a CLI ({@code POST /_proxy/device/code}), approved or
 * declined by a person in a browser ({@code /_proxy/device}), redeemed once by the CLI's poll of
 * {@code /_proxy/oauth/token}.
 *
 * <p>Behind an interface because a grant lives between three requests that may reach different replicas. The one
 * implementation, {@link DeviceGrantsInMemory}, keeps them in this replica's memory: with several replicas the
 * balancer must keep a client on one replica for the ten minutes a grant lives (session affinity on the source
 * address), or the poll finds no grant and the CLI is told to start over. A store shared by replicas can replace it
 * without changing the endpoints.
 *
 * <p>Every method is thread-safe and fast (no I/O in the in-memory store), so the endpoints call it on the event loop.
 * The device code is a secret the CLI holds; the user code is what a person types and is guessable by design, so the
 * store bounds how often anyone may guess ({@link #guessAllowed}).
 */
public interface DeviceGrants {
  /** The lifetime of a grant (RFC 8628's {@code expires_in}). */
  Duration LIFETIME = Duration.ofMinutes(10);
  /** The polling interval a CLI is first given; each {@code slow_down} adds five seconds for that grant. */
  Duration INTERVAL = Duration.ofSeconds(5);

  /**
   * A started grant, as the device authorization answer and the confirmation page need it.
   *
   * @param deviceCode the CLI's secret (only ever in the answer to the CLI)
   * @param userCode   what the person types, e.g. {@code WDJB-MJHT}
   * @param requestedAt when the CLI asked
   * @param sourceIp   where the CLI asked from, shown to the person so a code someone else sent is recognisable
   * @param expiresAt  when it can no longer be approved or redeemed
   */
  record Grant(String deviceCode, String userCode, Instant requestedAt, String sourceIp, Instant expiresAt) {
    @Override
    public String toString() {
      return "Grant[userCode=" + userCode + ", requestedAt=" + requestedAt + ", expiresAt=" + expiresAt + "]";
    }
  }

  /**
   * Who approved a grant, and what bounds the session it yields.
   *
   * @param caller      the person, as their browser session verified them
   * @param notAfter    the browser session's expiry: a session minted from it never outlives it
   * @param sessionId   the browser session's {@code jti}, checked against revocations again at redemption
   * @param sessionIssuedAt the browser session's {@code iat}, for the same check
   */
  record Approval(Caller caller, Instant notAfter, String sessionId, Instant sessionIssuedAt) {
  }

  /** What a poll of the token endpoint with a device code finds (RFC 8628 §3.5). */
  sealed interface Poll {
  }

  /** Not approved or declined yet: {@code authorization_pending}. */
  record Pending() implements Poll {
  }

  /** Polled sooner than the interval: {@code slow_down}, and the grant's interval is now {@code interval}. */
  record SlowDown(Duration interval) implements Poll {
  }

  /** Expired: {@code expired_token}. */
  record Expired() implements Poll {
  }

  /** The person declined: {@code access_denied}. */
  record Denied() implements Poll {
  }

  /** No such device code (never issued, or forgotten after it expired): {@code invalid_grant}. */
  record Unknown() implements Poll {
  }

  /** The code was redeemed before: {@code invalid_grant}, and nothing is issued. */
  record Replayed() implements Poll {
  }

  /** Approved and now redeemed: the one poll that yields a session. */
  record Approved(Approval approval) implements Poll {
  }

  /** Starts a grant for a CLI at {@code sourceIp}; empty when too many are pending (overall, or from that address). */
  Optional<Grant> start(String sourceIp, Instant now);

  /** The pending grant whose user code is {@code userCode} (normalized: case and dashes do not matter). */
  Optional<Grant> pending(String userCode, Instant now);

  /** Approves a pending grant; false when there is none by that code any more. */
  boolean approve(String userCode, Approval approval, Instant now);

  /** Declines a pending grant; false when there is none by that code any more. */
  boolean deny(String userCode, Instant now);

  /** A CLI's poll with its device code; an approved grant is handed out once and is {@link Replayed} after. */
  Poll poll(String deviceCode, Instant now);

  /**
   * Whether {@code who} (a source address, a person) may try another user code now. Every unknown code a person
   * enters counts ({@link #missed}); past a small number in a window, that address or person waits.
   */
  boolean guessAllowed(String who, Instant now);

  /** Counts a user code that matched no pending grant against {@code who}. */
  void missed(String who, Instant now);
}

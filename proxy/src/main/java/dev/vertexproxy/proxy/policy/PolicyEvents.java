package dev.vertexproxy.proxy.policy;

import java.time.Instant;

/**
 * What {@link PolicyInForce} reports about the policy: which version is in force, and how each reload attempt ended.
 * Implementations must be cheap and never block (they run on the reload thread, inside its lock).
 */
public interface PolicyEvents {
  /** Nothing is measured (tests that build the holder alone). */
  PolicyEvents NONE = new PolicyEvents() {
    @Override
    public void inForce(String version, Instant at) {
    }

    @Override
    public void attempted(PolicyInForce.Result result, PolicyInForce.Trigger trigger, Instant at) {
    }
  };

  /** The policy in force is now {@code version} ({@code sha256:…}), since {@code at}: at start-up and on each swap. */
  void inForce(String version, Instant at);

  /** A reload attempt ended with {@code result}; it was asked for by {@code trigger}. */
  void attempted(PolicyInForce.Result result, PolicyInForce.Trigger trigger, Instant at);
}

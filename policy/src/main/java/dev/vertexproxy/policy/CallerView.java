package dev.vertexproxy.policy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What one caller's identity makes of a policy: the allow and deny rules whose identity part (issuer, subject, claims)
 * accepts it, in file order, and the default deny it gets when no allow rule does. A function of the caller alone, so
 * {@link Policy} computes it once per {@link Caller} instance; a decision then looks only at these rules, whatever the
 * size of the policy.
 *
 * <p>Memory is linear in the rules that accept the caller, never in the methods they grant: a rule of
 * {@code methods: ["**"]} is one entry. A caller accepted by more than {@link #SLICE_ABOVE} rules also gets, per method
 * it calls, the subset of those rules granting it, for at most {@link #MAX_SLICES} methods; past that it scans its own
 * rules. Thread-safe.
 */
final class CallerView {
  /** Rules accepting the caller above which decisions use per-method subsets instead of scanning them all. */
  static final int SLICE_ABOVE = 16;
  /** Methods per caller that get a subset; bounds a caller's memory whatever it calls. */
  static final int MAX_SLICES = 8;
  private static final Rule[] NONE = new Rule[0];

  /** Rules of one effect accepting the caller and granting one method, in file order. */
  record Slice(Rule[] denies, Rule[] allows) {
  }

  private final Slice all;
  /** The default deny when no allow rule accepts the identity ({@link Reasons#ISSUER_NOT_TRUSTED} or identity). */
  private final Decision identityDeny;
  private final Map<String, Slice> slices;

  private CallerView(Rule[] denies, Rule[] allows, Decision identityDeny) {
    this.all = new Slice(denies, allows);
    this.identityDeny = identityDeny;
    this.slices = denies.length + allows.length > SLICE_ABOVE ? new ConcurrentHashMap<>() : null;
  }

  /**
   * Scans the rules that could apply to the caller: linear in them, done once per caller.
   *
   * @param denyCandidates the deny rules naming the caller's issuer or none, in file order
   * @param ofIssuer       the allow rules naming the caller's issuer, in file order
   */
  static CallerView of(Caller caller, Rule[] denyCandidates, Rule[] ofIssuer) {
    List<Rule> denies = new ArrayList<>();
    for (Rule r : denyCandidates) {
      if (r.identityMismatch(caller) == null) {
        denies.add(r);
      }
    }
    List<Rule> allows = new ArrayList<>();
    Rule closest = null;
    String failed = null;
    for (Rule r : ofIssuer) {
      String mismatch = r.identityMismatch(caller);
      if (mismatch == null) {
        allows.add(r);
      } else if (failed == null) {
        closest = r;
        failed = mismatch;
      }
    }
    Decision identityDeny = null;
    if (ofIssuer.length == 0) {
      identityDeny = new Decision(false, null, Reasons.ISSUER_NOT_TRUSTED, null,
          "no allow rule trusts issuer " + caller.issuer());
    } else if (allows.isEmpty()) {
      identityDeny = new Decision(false, null, Reasons.IDENTITY_NOT_MATCHED, null,
          "caller does not match any allow rule (closest rule: " + closest.name() + ", " + failed + " differs)");
    }
    return new CallerView(denies.toArray(NONE), allows.toArray(NONE), identityDeny);
  }

  /** The caller's rules that grant {@code method}; may hold rules that do not, which callers re-check. */
  Slice forMethod(String method) {
    if (slices == null) {
      return all;
    }
    Slice slice = slices.get(method);
    if (slice != null) {
      return slice;
    }
    slice = new Slice(granting(all.denies(), method), granting(all.allows(), method));
    if (slices.size() < MAX_SLICES) {
      slices.putIfAbsent(method, slice);
    }
    return slice;
  }

  private static Rule[] granting(Rule[] rules, String method) {
    List<Rule> out = new ArrayList<>();
    for (Rule r : rules) {
      if (r.grantsMethod(method)) {
        out.add(r);
      }
    }
    return out.toArray(NONE);
  }

  /** True when some allow rule accepts the identity, whatever the method. */
  boolean identityAllowed() {
    return all.allows().length > 0;
  }

  /** The default deny for a caller no allow rule accepts; {@code null} when {@link #identityAllowed()}. */
  Decision identityDeny() {
    return identityDeny;
  }
}

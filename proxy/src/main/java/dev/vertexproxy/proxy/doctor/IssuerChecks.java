package dev.vertexproxy.proxy.doctor;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyType;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.OctetKeyPair;
import com.nimbusds.jose.util.JSONObjectUtils;
import dev.vertexproxy.proxy.config.IdentityConfig;
import dev.vertexproxy.proxy.config.IssuerConfig;
import java.io.IOException;
import java.net.URI;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Every configured issuer, as the proxy will meet it: the discovery document answers, is JSON and names exactly the
 * configured issuer; the JWKS (the configured {@code jwks_uri}, else the announced one) parses, holds a public signing
 * key, and one that fits the issuer's {@code algorithms}; and this host's clock agrees with the issuer's {@code Date}.
 */
final class IssuerChecks implements Check {
  static final Duration SKEW_WARNING = Duration.ofSeconds(30);
  private static final String CLOCK_FIX = "sync this host's clock (chrony/NTP)";

  private final IdentityConfig identity;
  private final DoctorHttp http;
  private final Clock clock;

  IssuerChecks(IdentityConfig identity, DoctorHttp http, Clock clock) {
    this.identity = identity;
    this.http = http;
    this.clock = clock;
  }

  @Override
  public List<CheckResult> run() throws InterruptedException {
    List<CheckResult> rows = new ArrayList<>();
    for (IssuerConfig issuer : identity.issuers()) {
      check(issuer, rows);
    }
    return rows;
  }

  private void check(IssuerConfig issuer, List<CheckResult> rows) throws InterruptedException {
    String target = issuer.name() + " " + issuer.issuer();
    String base = issuer.issuer().toString();
    URI discovery = URI.create((base.endsWith("/") ? base.substring(0, base.length() - 1) : base)
        + "/.well-known/openid-configuration");
    // The proxy reads discovery for the keys unless jwks_uri is configured, and for people's login always.
    boolean needed = issuer.jwksUri() == null || issuer.login() != null;
    URI announced = null;
    Instant date = null;
    String problem;
    String fix;
    try {
      DoctorHttp.Answer answer = http.get(discovery);
      date = answer.date();
      Map<String, Object> document = answer.status() == 200 ? jsonObject(answer.body()) : null;
      Object announcedIssuer = document == null ? null : document.get("issuer");
      Object jwks = document == null ? null : document.get("jwks_uri");
      if (answer.status() != 200) {
        problem = discovery + " answered HTTP " + answer.status();
        fix = "check identity.issuers[].issuer: discovery is at {issuer}/.well-known/openid-configuration";
      } else if (document == null) {
        problem = discovery + " answered something that is not a JSON object";
        fix = "check identity.issuers[].issuer points at the OIDC provider itself, not a page in front of it";
      } else if (!base.equals(announcedIssuer)) {
        problem = "the document names issuer \"" + announcedIssuer + "\", not the configured \"" + base + "\"";
        fix = "set identity.issuers[].issuer to exactly \"" + announcedIssuer
            + "\" (compared character for character, trailing slash included)";
      } else if (!(jwks instanceof String) && issuer.jwksUri() == null) {
        problem = "the document announces no jwks_uri";
        fix = "set identity.issuers[].jwks_uri to the issuer's key set";
      } else {
        announced = jwks instanceof String s ? URI.create(s) : null;
        problem = null;
        fix = null;
      }
    } catch (IOException e) {
      problem = discovery + " unreachable: " + DoctorHttp.describe(e);
      fix = "check the issuer URL, DNS and this host's network/egress to it";
    } catch (IllegalArgumentException e) {
      problem = "the document's jwks_uri is not a URL";
      fix = "set identity.issuers[].jwks_uri to the issuer's key set";
    }
    if (problem == null) {
      rows.add(CheckResult.pass("issuer discovery", target, "answers and names this issuer"
          + (announced == null ? "" : "; jwks_uri " + announced)));
    } else if (needed) {
      rows.add(CheckResult.fail("issuer discovery", target, problem, fix));
    } else {
      rows.add(CheckResult.warn("issuer discovery", target, problem + " (the proxy does not need it: jwks_uri is"
          + " configured and people do not log in through this issuer)", fix));
    }
    URI jwksUri = issuer.jwksUri() != null ? issuer.jwksUri() : announced;
    Instant keysDate = keys(issuer, target, jwksUri, rows);
    skew(target, date != null ? date : keysDate, rows);
  }

  /** The key-set row; returns the answer's {@code Date}, for the skew check when discovery gave none. */
  private Instant keys(IssuerConfig issuer, String target, URI jwksUri, List<CheckResult> rows)
      throws InterruptedException {
    if (jwksUri == null) {
      rows.add(CheckResult.skip("issuer keys", target, "no jwks_uri to fetch (discovery failed)"));
      return null;
    }
    if ("https".equals(issuer.issuer().getScheme()) && !"https".equalsIgnoreCase(jwksUri.getScheme())) {
      rows.add(CheckResult.fail("issuer keys", target, "an https issuer with a jwks_uri that is not https: " + jwksUri,
          "keys fetched in the clear could be swapped on the way: publish (and configure) the JWKS over https"));
      return null;
    }
    DoctorHttp.Answer answer;
    try {
      answer = http.get(jwksUri);
    } catch (IOException e) {
      rows.add(CheckResult.fail("issuer keys", target, jwksUri + " unreachable: " + DoctorHttp.describe(e),
          "check jwks_uri, DNS and this host's network/egress to it"));
      return null;
    }
    if (answer.status() != 200) {
      rows.add(CheckResult.fail("issuer keys", target, jwksUri + " answered HTTP " + answer.status(),
          "check identity.issuers[].jwks_uri (or what discovery announces)"));
      return answer.date();
    }
    JWKSet keys;
    try {
      keys = JWKSet.parse(answer.body()).toPublicJWKSet();
    } catch (ParseException e) {
      rows.add(CheckResult.fail("issuer keys", target, jwksUri + " is not a JWK set: " + e.getMessage(),
          "point jwks_uri at the issuer's key set (a JSON object with \"keys\")"));
      return answer.date();
    }
    List<JWK> signing = keys.getKeys().stream()
        .filter(k -> k.getKeyUse() == null || KeyUse.SIGNATURE.equals(k.getKeyUse())).toList();
    List<JWK> fitting = signing.stream().filter(k -> fits(k, issuer.algorithms())).toList();
    if (signing.isEmpty()) {
      rows.add(CheckResult.fail("issuer keys", target, jwksUri + " holds no public signing key",
          "the proxy could verify no token of this issuer: check jwks_uri names its signing keys"));
    } else if (fitting.isEmpty()) {
      rows.add(CheckResult.fail("issuer keys", target, "none of the " + signing.size() + " signing keys fits algorithms "
          + issuer.algorithms() + " (keys: " + describe(signing) + ")",
          "set identity.issuers[].algorithms to what the issuer signs with, e.g. [" + suggestion(signing) + "]"));
    } else {
      rows.add(CheckResult.pass("issuer keys", target, signing.size() + " signing key" + (signing.size() == 1 ? "" : "s")
          + ", " + fitting.size() + " usable with " + issuer.algorithms()));
    }
    return answer.date();
  }

  private void skew(String target, Instant theirs, List<CheckResult> rows) {
    if (theirs == null) {
      rows.add(CheckResult.skip("clock skew", target, "no Date header in the issuer's answers to compare with"));
      return;
    }
    Duration skew = Duration.between(theirs, clock.instant()).abs();
    String detail = "this host's clock is " + skew.toSeconds() + "s off the issuer's Date header";
    if (skew.compareTo(identity.clockSkew()) > 0) {
      rows.add(CheckResult.fail("clock skew", target, detail + ", beyond identity.clock_skew ("
          + identity.clockSkew().toSeconds() + "s): valid tokens would be refused", CLOCK_FIX));
    } else if (skew.compareTo(SKEW_WARNING) > 0) {
      rows.add(CheckResult.warn("clock skew", target, detail + " (tolerated up to identity.clock_skew, "
          + identity.clockSkew().toSeconds() + "s)", CLOCK_FIX));
    } else {
      rows.add(CheckResult.pass("clock skew", target, detail));
    }
  }

  /** Whether a token signed with {@code key} can be verified under {@code algorithms}. */
  static boolean fits(JWK key, List<String> algorithms) {
    if (key.getAlgorithm() != null) {
      return algorithms.contains(key.getAlgorithm().getName());
    }
    for (String name : algorithms) {
      JWSAlgorithm alg = JWSAlgorithm.parse(name);
      if (KeyType.RSA.equals(key.getKeyType()) && JWSAlgorithm.Family.RSA.contains(alg)) {
        return true;
      }
      if (key instanceof ECKey ec && JWSAlgorithm.Family.EC.contains(alg)) {
        Set<Curve> curves = Curve.forJWSAlgorithm(alg);
        if (curves == null || curves.contains(ec.getCurve())) {
          return true;
        }
      }
      if (key instanceof OctetKeyPair && JWSAlgorithm.EdDSA.equals(alg)) {
        return true;
      }
    }
    return false;
  }

  private static String describe(List<JWK> keys) {
    List<String> parts = new ArrayList<>();
    for (JWK k : keys.subList(0, Math.min(keys.size(), 5))) {
      parts.add((k.getKeyID() == null ? "" : k.getKeyID() + " ") + k.getKeyType()
          + (k.getAlgorithm() == null ? "" : "/" + k.getAlgorithm().getName()));
    }
    return String.join(", ", parts) + (keys.size() > 5 ? ", ..." : "");
  }

  private static String suggestion(List<JWK> keys) {
    JWK k = keys.get(0);
    if (k.getAlgorithm() != null) {
      return k.getAlgorithm().getName();
    }
    if (k instanceof ECKey ec) {
      return Curve.P_384.equals(ec.getCurve()) ? "ES384" : Curve.P_521.equals(ec.getCurve()) ? "ES512" : "ES256";
    }
    return k instanceof OctetKeyPair ? "EdDSA" : "RS256";
  }

  private static Map<String, Object> jsonObject(String body) {
    try {
      return JSONObjectUtils.parse(body);
    } catch (ParseException e) {
      return null;
    }
  }
}

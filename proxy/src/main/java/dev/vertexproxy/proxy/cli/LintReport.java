package dev.vertexproxy.proxy.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.vertexproxy.policy.LintContext;
import dev.vertexproxy.policy.Policy;
import dev.vertexproxy.policy.PolicyLinter.Severity;
import dev.vertexproxy.policy.PolicyLinter.Warning;
import dev.vertexproxy.policy.Rule;
import dev.vertexproxy.policy.catalog.MethodCatalog;
import dev.vertexproxy.proxy.config.CredentialsConfig;
import dev.vertexproxy.proxy.config.IssuerConfig;
import dev.vertexproxy.proxy.config.ProxyConfig;
import dev.vertexproxy.proxy.config.SessionsConfig;
import dev.vertexproxy.proxy.credentials.CredentialsPlan;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * What {@code policy lint} knows from proxy.yaml and how it prints findings: the claims each configured issuer's tokens
 * carry, the findings only the configuration shows (an {@code sts} rule with no workload identity provider, or one that
 * allows people), and the text and {@code --json} reports.
 *
 * <p>Stateless; not shared between threads.
 */
final class LintReport {
  /** The claims a proxy session or exchanged token sets itself, besides those it carries from the upstream token. */
  static final Set<String> SESSION_OWN_CLAIMS = Set.of("iss", "aud", "sub", "jti", "iat", "nbf", "exp", "vp_issuer",
      "vp_use", "vp_via");

  private LintReport() {
  }

  /**
   * The lint context under {@code config} ({@code null}: none given). An issuer is GitLab when people do not log in
   * through it and its URL's host or its name starts with {@code gitlab}; an issuer people log in through that accepts
   * no bearer tokens (no {@code audiences}) is reached only by proxy sessions, whose claims {@code sessions.claims}
   * lists. Any other issuer's claims are unknown and not checked.
   */
  static LintContext context(MethodCatalog catalog, ProxyConfig config) {
    if (config == null) {
      return LintContext.withoutConfig(catalog);
    }
    Map<String, LintContext.KnownClaims> known = new HashMap<>();
    SessionsConfig sessions = config.sessions();
    for (IssuerConfig i : config.identity().issuers()) {
      String host = i.issuer().getHost() == null ? "" : i.issuer().getHost().toLowerCase(Locale.ROOT);
      if (i.login() == null && (host.startsWith("gitlab") || i.name().toLowerCase(Locale.ROOT).startsWith("gitlab"))) {
        known.put(i.name(), LintContext.KnownClaims.GITLAB);
      } else if (i.login() != null && i.audiences().isEmpty() && sessions != null && sessions.claims() != null) {
        Set<String> names = new HashSet<>(sessions.claims());
        names.addAll(SESSION_OWN_CLAIMS);
        known.put(i.name(), new LintContext.KnownClaims(names, "sessions.claims and the session's own"));
      }
    }
    return new LintContext(catalog, known);
  }

  /** Findings only the configuration shows: how each allow rule in {@code sts} mode would get its token. */
  static List<Warning> credentialFindings(ProxyConfig config, Policy policy) {
    List<Warning> out = new ArrayList<>();
    for (Rule r : policy.rules()) {
      if (r.effect() != Rule.Effect.ALLOW || CredentialsPlan.modeOf(r, config.credentials()) != CredentialsConfig.Mode.STS) {
        continue;
      }
      String account = r.serviceAccount() == null ? " and names no service_account" : "";
      if (CredentialsPlan.audienceOf(r, config.credentials()) == null) {
        out.add(new Warning(r.line(), r.column(), r.name(), "sts-no-provider", Severity.ERROR, "in sts mode" + account
            + " but no workload identity provider is configured, so it cannot obtain a Google token (serve refuses it)",
            "set credentials.sts.audience in proxy.yaml or credentials.audience on the rule"));
      }
      for (IssuerConfig i : config.identity().issuers()) {
        if (i.login() != null && r.issuers().contains(i.name())) {
          out.add(new Warning(r.line(), r.column(), r.name(), "sts-for-people", Severity.ERROR, "in sts mode" + account
              + " but allows people of issuer " + i.name() + ", whose proxy session tokens Google STS does not accept"
              + " (serve refuses it)", "give the rule credentials: { mode: impersonate } and a service_account"));
        }
      }
    }
    return out;
  }

  /** Under {@code --strict} every finding is an error. */
  static List<Warning> strict(List<Warning> findings) {
    return findings.stream().map(w -> new Warning(w.line(), w.column(), w.rule(), w.code(), Severity.ERROR, w.message(),
        w.fix())).toList();
  }

  static void printText(PrintWriter out, String file, List<Warning> findings, int ignored) {
    for (Warning w : findings) {
      out.println(file + ":" + w);
      out.println("    fix: " + w.fix());
    }
    long errors = findings.stream().filter(w -> w.severity() == Severity.ERROR).count();
    long warnings = findings.size() - errors;
    String summary = errors == 0 ? plural(warnings, "warning")
        : warnings == 0 ? plural(errors, "error") : plural(errors, "error") + ", " + plural(warnings, "warning");
    out.println(summary + (ignored == 0 ? "" : " (" + plural(ignored, "finding") + " silenced by lint-ignore)"));
  }

  static void printJson(PrintWriter out, String file, List<Warning> findings, int ignored) {
    List<Map<String, Object>> list = new ArrayList<>();
    for (Warning w : findings) {
      Map<String, Object> f = new LinkedHashMap<>();
      f.put("file", file);
      f.put("line", w.line());
      f.put("column", w.column());
      f.put("rule", w.rule());
      f.put("code", w.code());
      f.put("severity", w.severity().key());
      f.put("message", w.message());
      f.put("fix", w.fix());
      list.add(f);
    }
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("file", file);
    doc.put("findings", list);
    doc.put("errors", findings.stream().filter(w -> w.severity() == Severity.ERROR).count());
    doc.put("warnings", findings.stream().filter(w -> w.severity() == Severity.WARNING).count());
    doc.put("ignored", ignored);
    try {
      out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(doc));
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String plural(long n, String noun) {
    return n + " " + noun + (n == 1 ? "" : "s");
  }
}

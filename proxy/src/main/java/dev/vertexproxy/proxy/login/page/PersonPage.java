package dev.vertexproxy.proxy.login.page;

import dev.vertexproxy.policy.Caller;
import dev.vertexproxy.policy.Policy;
import dev.vertexproxy.policy.Rule;
import dev.vertexproxy.proxy.audit.AuditEvent;
import dev.vertexproxy.proxy.login.Csrf;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code GET /_proxy/}, rendered for one signed-in person: who the proxy thinks they are (issuer, subject, the claims
 * the policy looks at), what they may call — every rule whose identity part they meet, allow and deny, with its
 * methods, resources and service account, read from the policy in force — their recent requests on this replica, the
 * token to copy, and logout. Server-rendered; every value goes through {@link Html#text}; the only script is the
 * proxy's own {@code page.js} (the copy button). Stateless.
 */
public final class PersonPage {
  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'")
      .withZone(ZoneOffset.UTC);

  /**
   * What the page shows.
   *
   * @param caller the person, as policy rules see them
   * @param proxyIssuer the proxy's issuer URL, the {@code iss} of the token
   * @param expiresAt when the session ends
   * @param token the session token, for the copy field
   * @param csrf the CSRF token for the logout form
   * @param policy the policy in force
   * @param recent this caller's recent requests, newest first
   * @param now the time the page is rendered at
   */
  public record View(Caller caller, String proxyIssuer, Instant expiresAt, String token, String csrf, Policy policy,
      List<AuditEvent> recent, Instant now) {
    @Override
    public String toString() {
      return "PersonPage.View[" + caller.issuer() + " " + caller.subject() + "]";
    }
  }

  private PersonPage() {
  }

  /** The whole page. */
  public static String render(View v) {
    StringBuilder b = new StringBuilder(8192);
    identity(b, v);
    access(b, v);
    token(b, v);
    recent(b, v);
    b.append("<section id=\"logout\"><form method=\"post\" action=\"/_proxy/logout\"><input type=\"hidden\" name=\"")
        .append(Csrf.FIELD).append("\" value=\"").append(Html.text(v.csrf()))
        .append("\"><button type=\"submit\" id=\"logout-button\">Log out</button></form></section>");
    return Html.page("vertex-proxy — " + v.caller().subject(), b.toString(), true);
  }

  private static void identity(StringBuilder b, View v) {
    Caller c = v.caller();
    b.append("<section id=\"identity\"><h1>Who I am</h1><dl>")
        .append("<dt>Issuer</dt><dd id=\"issuer\">").append(Html.text(c.issuer())).append("</dd>")
        .append("<dt>Subject</dt><dd id=\"subject\">").append(Html.text(c.subject())).append("</dd>")
        .append("<dt>Session ends</dt><dd id=\"expires\">").append(Html.text(TIME.format(v.expiresAt()))).append("</dd>")
        .append("</dl>");
    // the claims of the rules that could apply to my issuer: a CI rule's project_path means nothing to a person
    Set<String> used = new LinkedHashSet<>();
    for (Rule r : v.policy().rules()) {
      if (r.issuers().isEmpty() || r.issuers().contains(c.issuer())) {
        used.addAll(r.claimNames());
      }
    }
    b.append("<h2>Claims the policy uses</h2>");
    if (used.isEmpty()) {
      b.append("<p>No rule looks at claims.</p>");
    } else {
      b.append("<table id=\"claims\"><thead><tr><th>claim</th><th>my value</th></tr></thead><tbody>");
      for (String name : used) {
        Object value = c.claims().get(name);
        b.append("<tr data-claim=\"").append(Html.text(name)).append("\"><td><code>").append(Html.text(name))
            .append("</code></td><td>").append(value == null ? "<em>not in my token</em>" : Html.text(claimText(value)))
            .append("</td></tr>");
      }
      b.append("</tbody></table>");
    }
    b.append("</section>");
  }

  private static String claimText(Object value) {
    if (value instanceof List<?> list) {
      return String.join(", ", list.stream().map(String::valueOf).toList());
    }
    if (value instanceof Map<?, ?>) {
      return "(an object)";
    }
    return String.valueOf(value);
  }

  private static void access(StringBuilder b, View v) {
    List<Rule> allows = v.policy().rules().stream()
        .filter(r -> r.effect() == Rule.Effect.ALLOW && r.matchesIdentity(v.caller())).toList();
    List<Rule> denies = v.policy().rules().stream()
        .filter(r -> r.effect() == Rule.Effect.DENY && r.matchesIdentity(v.caller())).toList();
    b.append("<section id=\"access\"><h1>What I may call</h1><p class=\"meta\">policy version <code>")
        .append(Html.text(v.policy().version())).append("</code>. A call is allowed when an allow rule below matches it")
        .append(" and no deny rule does.</p>");
    if (allows.isEmpty()) {
      b.append("<p id=\"no-access\">No rule allows this identity anything.</p>");
    }
    for (Rule r : allows) {
      rule(b, r, "allow");
    }
    if (!denies.isEmpty()) {
      b.append("<h2>Denied to me</h2>");
      for (Rule r : denies) {
        rule(b, r, "deny");
      }
    }
    b.append("</section>");
  }

  private static void rule(StringBuilder b, Rule r, String effect) {
    b.append("<article class=\"rule ").append(effect).append("\" data-rule=\"").append(Html.text(r.name())).append("\">")
        .append("<h3>").append(effect).append(" · <code>").append(Html.text(r.name())).append("</code></h3>");
    if (r.description() != null) {
      b.append("<p>").append(Html.text(r.description())).append("</p>");
    }
    b.append("<dl><dt>Methods</dt><dd class=\"methods\">");
    if (r.anyMethod()) {
      b.append("every method");
    } else {
      b.append("<ul>");
      for (String m : r.methods().stream().sorted().toList()) {
        b.append("<li><code>").append(Html.text(m)).append("</code></li>");
      }
      b.append("</ul>");
    }
    b.append("</dd>");
    constraint(b, "Projects", r.projectPatterns(), "any");
    constraint(b, "Locations", r.locationPatterns(), "any");
    constraint(b, "Resource names", r.namePatterns(), "any");
    if (r.serviceAccount() != null) {
      b.append("<dt>Calls Google as</dt><dd class=\"service-account\"><code>").append(Html.text(r.serviceAccount()))
          .append("</code></dd>");
    }
    b.append("</dl></article>");
  }

  private static void constraint(StringBuilder b, String label, List<String> values, String none) {
    b.append("<dt>").append(label).append("</dt><dd>");
    if (values.isEmpty()) {
      b.append(none);
    } else {
      b.append(String.join(", ", values.stream().map(x -> "<code>" + Html.text(x) + "</code>").toList()));
    }
    b.append("</dd>");
  }

  private static void token(StringBuilder b, View v) {
    long minutes = Math.max(0, ChronoUnit.MINUTES.between(v.now(), v.expiresAt()));
    b.append("<section id=\"token-section\"><h1>My token</h1><p>A bearer token for calls through this proxy, good until")
        .append(" the session ends (about ").append(minutes).append(" min). Logging out revokes it.</p>")
        .append("<textarea id=\"token\" readonly rows=\"4\" spellcheck=\"false\" autocomplete=\"off\">")
        .append(Html.text(v.token())).append("</textarea>")
        .append("<p><button type=\"button\" id=\"copy-token\">Copy token</button> <span id=\"copy-status\" role=\"status\">")
        .append("</span></p><p class=\"meta\">e.g. <code>curl -H \"Authorization: Bearer $TOKEN\" ")
        .append(Html.text(v.proxyIssuer())).append("/v1/projects/…</code></p></section>");
  }

  private static void recent(StringBuilder b, View v) {
    b.append("<section id=\"recent\"><h1>My recent requests</h1><p class=\"meta\">On this replica only, since it")
        .append(" started; the audit trail has them all.</p>");
    if (v.recent().isEmpty()) {
      b.append("<p id=\"no-recent\">None yet.</p></section>");
      return;
    }
    b.append("<table id=\"recent-requests\"><thead><tr><th>time</th><th>method</th><th>resource</th><th>status</th>")
        .append("<th>decision</th><th>reason</th><th>rule</th><th>request id</th></tr></thead><tbody>");
    for (AuditEvent e : v.recent()) {
      b.append("<tr><td>").append(Html.text(e.time() == null ? "" : TIME.format(e.time()))).append("</td><td><code>")
          .append(Html.text(e.method() != null ? e.method() : e.httpMethod() + " " + e.path())).append("</code></td><td>")
          .append(Html.text(e.resource())).append("</td><td>").append(e.status()).append("</td><td>")
          .append(Html.text(e.decision())).append("</td><td><code>").append(Html.text(e.reason())).append("</code></td><td>")
          .append(Html.text(e.rule())).append("</td><td><code>").append(Html.text(e.requestId())).append("</code></td></tr>");
    }
    b.append("</tbody></table></section>");
  }
}

package dev.vertexproxy.proxy.credentials;

import dev.vertexproxy.policy.Policy;
import dev.vertexproxy.policy.Rule;
import dev.vertexproxy.policy.RuleCredentials;
import dev.vertexproxy.policy.yaml.Problem;
import dev.vertexproxy.proxy.config.CredentialsConfig;
import dev.vertexproxy.proxy.config.IssuerConfig;
import dev.vertexproxy.proxy.config.ProxyConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * How each allow rule of a policy gets its Google token under a configuration, checked before the policy is put in
 * force (at start, on reload and by {@code serve --check}): a rule in {@code sts} mode needs a workload identity
 * provider (its own {@code credentials.audience} or proxy.yaml's {@code credentials.sts.audience}), and must not
 * allow people: their tokens are the proxy's own session tokens, which Google STS does not accept (people's rules use
 * {@code impersonate}). Each problem names the policy file and the rule's line.
 */
public final class CredentialsPlan {
  private CredentialsPlan() {
  }

  /** The mode a rule's requests get their token by. */
  public static CredentialsConfig.Mode modeOf(Rule rule, CredentialsConfig config) {
    return modeOf(rule.credentials(), config);
  }

  /** The mode for a rule whose own {@code credentials:} block is {@code own} ({@code null}: none). */
  public static CredentialsConfig.Mode modeOf(RuleCredentials own, CredentialsConfig config) {
    if (own == null) {
      return config.mode();
    }
    return own.mode() == RuleCredentials.Mode.STS ? CredentialsConfig.Mode.STS : CredentialsConfig.Mode.IMPERSONATE;
  }

  /** The workload identity provider of a rule in {@code sts} mode; {@code null} when none is configured. */
  public static String audienceOf(Rule rule, CredentialsConfig config) {
    return audienceOf(rule.credentials(), config);
  }

  /** The workload identity provider for a rule whose own block is {@code own}; {@code null} when none is configured. */
  public static String audienceOf(RuleCredentials own, CredentialsConfig config) {
    return own != null && own.audience() != null ? own.audience() : config.stsAudience();
  }

  /** Every problem of {@code policy} (read from {@code source}) under {@code config}; empty when it can be served. */
  public static List<Problem> problems(ProxyConfig config, Policy policy, String source) {
    Map<String, IssuerConfig> issuers = config.identity().issuers().stream()
        .collect(Collectors.toMap(IssuerConfig::name, Function.identity()));
    List<Problem> problems = new ArrayList<>();
    for (Rule rule : policy.rules()) {
      if (rule.effect() != Rule.Effect.ALLOW || modeOf(rule, config.credentials()) != CredentialsConfig.Mode.STS) {
        continue;
      }
      String path = "rules[" + rule.name() + "]";
      if (audienceOf(rule, config.credentials()) == null) {
        problems.add(new Problem(source, rule.line(), rule.column(), path, "in sts mode but no workload identity"
            + " provider is configured: set credentials.sts.audience in proxy.yaml or credentials.audience on the rule ("
            + RuleCredentials.AUDIENCE_EXAMPLE + ")"));
      }
      for (String issuer : rule.issuers()) {
        IssuerConfig i = issuers.get(issuer);
        if (i != null && i.login() != null) {
          problems.add(new Problem(source, rule.line(), rule.column(), path, "in sts mode but allows people of issuer "
              + issuer + ": their proxy session tokens are the proxy's own, which Google STS does not accept; give this"
              + " rule credentials: { mode: impersonate } and a service_account"));
        }
      }
    }
    return problems;
  }
}

package dev.vertexproxy.proxy.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.vertexproxy.policy.Policy;
import dev.vertexproxy.policy.Rule;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code vertex-proxy policy iam}: the Google IAM bindings a policy needs, derived from the policy itself so the
 * grants and the rules never drift apart. Every allow rule names the service account the proxy acts as; the proxy's
 * own identity needs {@code roles/iam.serviceAccountTokenCreator} on each of them, bound on the service account
 * (never on the project, which would let the proxy mint tokens for every service account there).
 *
 * <p>Deny rules act as no one and are ignored. Output is sorted by service account email, each with the allow rules
 * that use it in policy order, so the same policy always prints the same text (diffable in review). Three formats:
 * ready-to-run {@code gcloud} lines (the default), the {@code rule_service_accounts} value the Terraform in
 * {@code config/terraform/} takes, and JSON.
 *
 * <p>Every value printed into a shell line or HCL string is an email that matched a strict pattern (the policy
 * loader's pattern, which {@code EMAIL} repeats for {@code --proxy-service-account}) or a rule name the loader
 * restricted to {@code [A-Za-z0-9._-]}: nothing a shell or HCL would interpret.
 */
@Command(name = "iam", mixinStandardHelpOptions = true,
    description = "Print the IAM bindings a policy needs: the proxy's roles/iam.serviceAccountTokenCreator on every "
        + "service account its allow rules name, as gcloud lines, Terraform variables or JSON.")
final class PolicyIamCommand extends PolicyCommand.PolicyFileCommand {
  static final String TOKEN_CREATOR = "roles/iam.serviceAccountTokenCreator";

  /**
   * What the policy loader accepts as a rule's {@code service_account}, with the project captured: a user-managed
   * account ({@code NAME@PROJECT.iam.gserviceaccount.com}, {@code PROJECT} with dots for a domain-scoped project)
   * or a project's default compute account ({@code NUMBER-compute@developer.gserviceaccount.com}).
   */
  private static final Pattern EMAIL = Pattern.compile(
      "[a-z0-9][a-z0-9-]{0,62}@([a-z0-9][a-z0-9.-]{0,126})\\.iam\\.gserviceaccount\\.com"
          + "|([0-9]{1,20})-compute@developer\\.gserviceaccount\\.com");

  enum Format { gcloud, tfvars, json }

  @Option(names = "--proxy-service-account", paramLabel = "EMAIL",
      description = "The proxy's own Google identity (required for --format gcloud; recorded in json).")
  String proxyServiceAccount;

  @Option(names = "--format", paramLabel = "gcloud|tfvars|json", defaultValue = "gcloud",
      description = "gcloud (default): add-iam-policy-binding lines; tfvars: the rule_service_accounts value for "
          + "config/terraform; json: the same as data.")
  Format format;

  @Override
  public Integer call() {
    if (proxyServiceAccount != null && !EMAIL.matcher(proxyServiceAccount).matches()) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--proxy-service-account " + proxyServiceAccount
          + ": expected a service account email (NAME@PROJECT.iam.gserviceaccount.com)");
    }
    if (format == Format.gcloud && proxyServiceAccount == null) {
      throw new CommandLine.ParameterException(spec.commandLine(),
          "--proxy-service-account EMAIL is required for --format gcloud (the member every binding grants)");
    }
    Policy policy = load();
    if (policy == null) {
      return PolicyCommand.UNUSABLE;
    }
    Map<String, List<String>> rulesByAccount = new TreeMap<>();
    for (Rule rule : policy.rules()) {
      if (rule.effect() == Rule.Effect.ALLOW) {
        rulesByAccount.computeIfAbsent(rule.serviceAccount(), sa -> new ArrayList<>()).add(rule.name());
      }
    }
    if (rulesByAccount.isEmpty()) {
      err().println(shown() + ": no allow rules, so the proxy acts as no service account and needs no binding");
    }
    warnings(rulesByAccount);
    PrintWriter out = out();
    switch (format) {
      case gcloud -> printGcloud(out, policy, rulesByAccount);
      case tfvars -> printTfvars(out, policy, rulesByAccount);
      default -> printJson(out, policy, rulesByAccount);
    }
    out.flush();
    return PolicyCommand.OK;
  }

  /**
   * Accounts that defeat the one-account-per-rule design: the proxy's own (its callers would get whatever it holds,
   * and it would need to mint tokens for itself) and a project's default compute account (which usually holds Editor).
   * The bindings are still printed: the policy is valid, the choice is the operator's.
   */
  private void warnings(Map<String, List<String>> rulesByAccount) {
    for (Map.Entry<String, List<String>> e : rulesByAccount.entrySet()) {
      boolean one = e.getValue().size() == 1;
      String who = (one ? "rule " : "rules ") + String.join(", ", e.getValue()) + (one ? " acts as " : " act as ");
      String fix = "; create a service account for " + (one ? "it" : "them") + " (docs/google-setup.md, step 3)";
      if (e.getKey().equals(proxyServiceAccount)) {
        err().println("warning: " + who + "the proxy's own service account" + fix);
      } else if (e.getKey().endsWith("-compute@developer.gserviceaccount.com")) {
        err().println("warning: " + who + e.getKey() + ", a project's default compute account, which usually holds"
            + " roles/editor" + fix);
      }
    }
  }

  /** The policy's path for a comment line: a control character in it could end the comment and start a command. */
  private String shown() {
    return file.toString().replaceAll("\\p{Cntrl}", "?");
  }

  /** The project a service account lives in, as gcloud's {@code --project} takes it (an id, or a number). */
  static String projectOf(String email) {
    Matcher m = EMAIL.matcher(email);
    if (!m.matches()) {
      // The policy loader admits only service account emails; one this pattern does not know is a bug to surface.
      throw new IllegalStateException("not a service account email: " + email);
    }
    if (m.group(2) != null) {
      return m.group(2);
    }
    // A domain-scoped project example.com:my-project has accounts at NAME@my-project.example.com.iam...
    String project = m.group(1);
    int dot = project.indexOf('.');
    return dot < 0 ? project : project.substring(dot + 1) + ":" + project.substring(0, dot);
  }

  private void printGcloud(PrintWriter out, Policy policy, Map<String, List<String>> rulesByAccount) {
    out.println("# The IAM bindings " + shown() + " (" + policy.version() + ") needs: " + rulesByAccount.size()
        + (rulesByAccount.size() == 1 ? " service account" : " service accounts")
        + ", each letting " + proxyServiceAccount + " mint its tokens.");
    for (Map.Entry<String, List<String>> e : rulesByAccount.entrySet()) {
      out.println();
      out.println("# rules: " + String.join(", ", e.getValue()));
      out.println("gcloud iam service-accounts add-iam-policy-binding " + e.getKey() + " \\");
      out.println("  --project=" + projectOf(e.getKey()) + " \\");
      out.println("  --member=serviceAccount:" + proxyServiceAccount + " \\");
      out.println("  --role=" + TOKEN_CREATOR);
    }
  }

  /** HCL laid out as {@code terraform fmt} lays it out (equals signs aligned), so the file passes {@code fmt -check}. */
  private void printTfvars(PrintWriter out, Policy policy, Map<String, List<String>> rulesByAccount) {
    out.println("# From " + shown() + " (" + policy.version() + ") by vertex-proxy policy iam --format tfvars.");
    if (rulesByAccount.isEmpty()) {
      out.println("rule_service_accounts = {}");
      return;
    }
    int width = rulesByAccount.keySet().stream().mapToInt(String::length).max().orElse(0) + 2;
    out.println("rule_service_accounts = {");
    for (Map.Entry<String, List<String>> e : rulesByAccount.entrySet()) {
      StringBuilder rules = new StringBuilder();
      for (String rule : e.getValue()) {
        rules.append(rules.length() == 0 ? "" : ", ").append('"').append(rule).append('"');
      }
      String key = '"' + e.getKey() + '"';
      out.println("  " + key + " ".repeat(width - key.length()) + " = { rules = [" + rules + "] }");
    }
    out.println("}");
  }

  private void printJson(PrintWriter out, Policy policy, Map<String, List<String>> rulesByAccount) {
    List<Map<String, Object>> accounts = new ArrayList<>();
    for (Map.Entry<String, List<String>> e : rulesByAccount.entrySet()) {
      Map<String, Object> account = new LinkedHashMap<>();
      account.put("email", e.getKey());
      account.put("project", projectOf(e.getKey()));
      account.put("rules", e.getValue());
      accounts.add(account);
    }
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("policy", file.toString());
    doc.put("policy_version", policy.version());
    doc.put("proxy_service_account", proxyServiceAccount);
    doc.put("role", TOKEN_CREATOR);
    doc.put("service_accounts", accounts);
    try {
      out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(doc));
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }
}

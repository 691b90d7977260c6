package dev.vertexproxy.proxy.doctor;

import dev.vertexproxy.policy.Policy;
import dev.vertexproxy.policy.PolicyException;
import dev.vertexproxy.policy.Rule;
import dev.vertexproxy.policy.RuleCredentials;
import dev.vertexproxy.policy.yaml.Problem;
import dev.vertexproxy.proxy.config.ConfigException;
import dev.vertexproxy.proxy.config.ConfigLoader;
import dev.vertexproxy.proxy.config.CredentialsConfig;
import dev.vertexproxy.proxy.config.ProxyConfig;
import dev.vertexproxy.proxy.server.ProxyServer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * {@code vertex-proxy doctor}: checks a configuration against reality — it loads, its issuers answer with usable keys,
 * this host's clock agrees with theirs, Google STS knows its workload identity providers, a Google token is obtainable
 * for every service account the policy names, the audit directory is writable and lockable — and says how to fix each
 * failure. Blocking, for the command line; every network call is bounded by {@link Options#timeout()}.
 */
public final class Doctor {
  private final Options options;

  /**
   * @param config           proxy.yaml
   * @param timeout          the bound of every network call
   * @param subjectTokenFile a file holding a real CI token to exchange at STS, or {@code null} (an unsigned dummy)
   * @param clock            the local clock, compared with the issuers' {@code Date} headers
   */
  public record Options(Path config, Duration timeout, Path subjectTokenFile, Clock clock) {
    public Options {
      Objects.requireNonNull(config, "config");
      Objects.requireNonNull(timeout, "timeout");
      Objects.requireNonNull(clock, "clock");
    }
  }

  private Doctor(Options options) {
    this.options = options;
  }

  /** Runs every check; a configuration or policy that does not load ends the run with those rows. */
  public static DoctorReport run(Options options) throws InterruptedException {
    return new Doctor(options).run();
  }

  private DoctorReport run() throws InterruptedException {
    List<CheckResult> rows = new ArrayList<>();
    ProxyConfig cfg;
    try {
      cfg = new ConfigLoader().load(options.config());
      rows.add(CheckResult.pass("config", options.config().toString(), "loads"));
    } catch (ConfigException e) {
      problems(rows, "config", e.problems());
      return new DoctorReport(rows, false);
    }
    Policy policy;
    try {
      policy = ProxyServer.loadPolicy(cfg);
      int rules = policy.rules().size();
      rows.add(CheckResult.pass("policy", cfg.policy().file().toString(),
          "loads: " + rules + (rules == 1 ? " rule" : " rules") + ", version " + policy.version()));
    } catch (PolicyException e) {
      problems(rows, "policy", e.problems());
      return new DoctorReport(rows, false);
    }
    String subjectToken = subjectToken(rows);
    rows.addAll(new IssuerChecks(cfg.identity(), DoctorHttp.system(options.timeout()), options.clock()).run());
    rows.addAll(sts(cfg, policy, subjectToken));
    rows.addAll(serviceAccounts(cfg, policy, subjectToken != null));
    rows.addAll(new AuditDirCheck(cfg.audit().dir()).run());
    rows.addAll(new CheckpointKeyCheck(cfg.audit()).run());
    return new DoctorReport(rows, true);
  }

  private static void problems(List<CheckResult> rows, String check, List<Problem> problems) {
    for (Problem p : problems) {
      String fix = StsChecks.audienceFix(p.message());
      rows.add(CheckResult.fail(check, p.source() + ":" + p.line() + ":" + p.column(),
          (p.path().isEmpty() ? "" : p.path() + ": ") + p.message() + (p.expected() == null ? ""
              : " (expected: " + p.expected() + ")"),
          fix != null ? fix : "edit line " + p.line() + " of " + p.source() + " (serve --check reports the same)"));
    }
  }

  private String subjectToken(List<CheckResult> rows) {
    Path file = options.subjectTokenFile();
    if (file == null) {
      return null;
    }
    try {
      String token = Files.readString(file, StandardCharsets.UTF_8).strip();
      if (token.split("\\.", -1).length != 3) {
        rows.add(CheckResult.fail("subject token", file.toString(), "does not hold one JWT (header.payload.signature)",
            "give --subject-token-file a file holding a CI job's OIDC token, e.g. written from $VERTEX_PROXY_TOKEN"));
        return null;
      }
      rows.add(CheckResult.pass("subject token", file.toString(), "read; exchanged at STS below (never printed)"));
      return token;
    } catch (IOException e) {
      rows.add(CheckResult.fail("subject token", file.toString(), "cannot be read: " + e.getMessage(),
          "give --subject-token-file a readable file holding one JWT"));
      return null;
    }
  }

  private List<CheckResult> sts(ProxyConfig cfg, Policy policy, String subjectToken) throws InterruptedException {
    Set<String> audiences = new LinkedHashSet<>();
    if (cfg.credentials().stsAudience() != null) {
      audiences.add(cfg.credentials().stsAudience());
    }
    for (Rule r : policy.rules()) {
      if (r.effect() == Rule.Effect.ALLOW && r.credentials() != null && r.credentials().audience() != null) {
        audiences.add(r.credentials().audience());
      }
    }
    if (audiences.isEmpty()) {
      return List.of(CheckResult.skip(StsChecks.CHECK, "credentials.sts", "no workload identity provider configured"));
    }
    DoctorHttp google;
    try {
      google = DoctorHttp.google(options.timeout(), cfg.credentials().caFile());
    } catch (IOException e) {
      return List.of(CheckResult.fail(StsChecks.CHECK, String.valueOf(cfg.credentials().caFile()), e.getMessage(),
          "credentials.ca_file must be a readable PEM file of CA certificates"));
    }
    String dummyIssuer = cfg.identity().issuers().isEmpty() ? "https://vertex-proxy-doctor.invalid"
        : cfg.identity().issuers().get(0).issuer().toString();
    return new StsChecks(List.copyOf(audiences), cfg.credentials().sts().tokenUrl(), google, subjectToken, dummyIssuer,
        options.clock()).run();
  }

  private List<CheckResult> serviceAccounts(ProxyConfig cfg, Policy policy, boolean subjectTokenGiven)
      throws InterruptedException {
    Set<String> impersonated = new LinkedHashSet<>();
    Set<String> federated = new LinkedHashSet<>();
    for (Rule r : policy.rules()) {
      if (r.effect() != Rule.Effect.ALLOW || r.serviceAccount() == null) {
        continue;
      }
      boolean sts = r.credentials() != null ? r.credentials().mode() == RuleCredentials.Mode.STS
          : cfg.credentials().mode() == CredentialsConfig.Mode.STS;
      (sts ? federated : impersonated).add(r.serviceAccount());
    }
    federated.removeAll(impersonated);
    return new ServiceAccountChecks(cfg.credentials(), List.copyOf(impersonated), List.copyOf(federated),
        subjectTokenGiven, options.clock(), options.timeout()).run();
  }
}

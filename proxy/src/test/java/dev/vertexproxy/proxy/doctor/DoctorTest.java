package dev.vertexproxy.proxy.doctor;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vertexproxy.emulators.DevIssuer;
import dev.vertexproxy.emulators.GoogleEmulator;
import dev.vertexproxy.proxy.audit.Checkpoints;
import dev.vertexproxy.proxy.cli.Main;
import dev.vertexproxy.proxy.doctor.CheckResult.Status;
import dev.vertexproxy.proxy.lock.DirectoryLock;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code vertex-proxy doctor} against a real dev issuer and the Google emulator over HTTPS, with the proxy's own
 * identity federated through the emulator's STS (an {@code external_account} file) and the emulator's certificate as
 * {@code credentials.ca_file}, exactly as a deployment trusts a private endpoint.
 */
class DoctorTest {
  private static final String AUDIENCE = "https://vertex-proxy.test";
  private static final String PROVIDER =
      "//iam.googleapis.com/projects/123456789/locations/global/workloadIdentityPools/ci-pool/providers/gitlab";
  private static final String SA = "gen@acme-ml-prod.iam.gserviceaccount.com";
  private static final String POLICY = """
      version: 1
      rules:
        - name: ci-generates
          effect: allow
          identity: { issuer: gitlab, claims: { project_path: acme/ml/forecasting } }
          methods: [publishers.models.generateContent]
          resources: { projects: [acme-ml-prod] }
          service_account: %s
      """.formatted(SA);

  @TempDir
  Path dir;

  private DevIssuer issuer;
  private GoogleEmulator google;

  @BeforeEach
  void start() throws Exception {
    issuer = DevIssuer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), AUDIENCE, Clock.systemUTC());
    google = GoogleEmulator.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), Clock.systemUTC());
    google.trustIssuer(issuer.issuer(), issuer.jwksUri());
    Files.writeString(dir.resolve("google-ca.pem"), pem(google.trustStore()), StandardCharsets.US_ASCII);
    Path subject = Files.writeString(dir.resolve("workload.jwt"), issuer.workloadToken(PROVIDER));
    Files.writeString(dir.resolve("google-credentials.json"), """
        {"type": "external_account", "audience": "%s",
         "subject_token_type": "urn:ietf:params:oauth:token-type:jwt", "token_url": "%s",
         "credential_source": {"file": "%s"}}
        """.formatted(PROVIDER, google.stsTokenUri(), subject));
    Files.writeString(dir.resolve("policy.yaml"), POLICY);
  }

  @AfterEach
  void stop() {
    google.close();
    issuer.close();
  }

  private String config() {
    return """
        listen:
          address: 127.0.0.1:0
        identity:
          issuers:
            - name: gitlab
              issuer: %s
              audiences: [%s]
              algorithms: [RS256]
        policy:
          file: policy.yaml
        credentials:
          mode: impersonate
          source_credentials: google-credentials.json
          iam_endpoint: %s
          ca_file: google-ca.pem
          sts:
            audience: %s
            token_url: %s
        audit:
          dir: audit
          checkpoint: { key_file: checkpoint.pem }
        """.formatted(issuer.issuer(), AUDIENCE, google.iamBaseUri(), PROVIDER, google.stsTokenUri());
  }

  private Path write(String config) throws Exception {
    Path key = dir.resolve("checkpoint.pem");
    if (!Files.exists(key)) {
      Files.writeString(key, Checkpoints.privatePem(Checkpoints.generate()));
      Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
    }
    return Files.writeString(dir.resolve("proxy.yaml"), config);
  }

  private record Run(int exit, String out, String err) {
  }

  private static Run doctor(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    List<String> all = new ArrayList<>(List.of("doctor", "--timeout", "5s"));
    all.addAll(List.of(args));
    int exit = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), all.toArray(String[]::new));
    return new Run(exit, out.toString(), err.toString());
  }

  private DoctorReport report(Path config, Clock clock) throws InterruptedException {
    return Doctor.run(new Doctor.Options(config, Duration.ofSeconds(5), null, clock));
  }

  private static CheckResult row(DoctorReport report, String check) {
    return report.checks().stream().filter(c -> c.check().equals(check)).findFirst()
        .orElseThrow(() -> new AssertionError("no " + check + " row in " + report.checks()));
  }

  @Test
  void aWorkingSetupPassesEveryCheckAndExitsZero() throws Exception {
    Path config = write(config());

    Run run = doctor("--config", config.toString());

    assertThat(run.exit()).as(run.out() + run.err()).isZero();
    assertThat(run.out()).contains("CHECK", "TARGET", "STATUS", "DETAIL").doesNotContain("FAIL");
    DoctorReport report = report(config, Clock.systemUTC());
    assertThat(report.checks()).extracting(CheckResult::check).containsExactly("config", "policy",
        "issuer discovery", "issuer keys", "clock skew", "sts provider", "service account", "audit dir", "audit checkpoints");
    assertThat(report.checks()).allSatisfy(c -> assertThat(c.status()).as(c.toString()).isEqualTo(Status.PASS));
    assertThat(row(report, "sts provider").detail()).contains("provider exists", "--subject-token-file");
    assertThat(row(report, "service account").target()).isEqualTo(SA);
    assertThat(google.iamCalls(SA)).as("a real token was obtained by impersonation").isPositive();
    assertThat(Files.exists(dir.resolve("audit"))).as("the doctor creates nothing").isFalse();
  }

  @Test
  void anStsAudienceInTheTokenAudienceFormDoesNotLoadAndNamesTheFix() throws Exception {
    Path config = write(config().replace("audience: //iam", "audience: https://iam"));

    Run run = doctor("--config", config.toString());

    assertThat(run.exit()).as(run.out()).isEqualTo(2);
    DoctorReport report = report(config, Clock.systemUTC());
    assertThat(report.checks()).singleElement().satisfies(c -> {
      assertThat(c.check()).isEqualTo("config");
      assertThat(c.status()).isEqualTo(Status.FAIL);
      assertThat(c.target()).startsWith("proxy.yaml:");
      assertThat(c.detail()).contains("credentials.sts.audience");
      assertThat(c.fix()).isEqualTo(StsChecks.HTTPS_AUDIENCE_FIX);
    });
    assertThat(run.out()).contains("does not load: nothing else was checked");
  }

  @Test
  void aServiceAccountGoogleRefusesFailsWithTheTokenCreatorGrant() throws Exception {
    google.refuse(SA);
    Path config = write(config());

    Run run = doctor("--config", config.toString());

    assertThat(run.exit()).as(run.out()).isEqualTo(1);
    assertThat(run.out()).contains("FAIL", "PERMISSION_DENIED",
        "gcloud iam service-accounts add-iam-policy-binding " + SA, "roles/iam.serviceAccountTokenCreator");
    CheckResult sa = row(report(config, Clock.systemUTC()), "service account");
    assertThat(sa.status()).isEqualTo(Status.FAIL);
    assertThat(sa.fix()).startsWith("grant the proxy's identity roles/iam.serviceAccountTokenCreator on " + SA);
  }

  @Test
  void aWrongStsAudienceAndARefusedServiceAccountAreBothReportedWithTheirFixes() throws Exception {
    String other = "//iam.googleapis.com/projects/123456789/locations/global/workloadIdentityPools/ci-pool/providers/typo";
    google.registerProvider(PROVIDER, Set.of(), Map.of()); // the proxy's own provider exists; "typo" does not
    google.refuse(SA);
    Path config = write(config().replace("audience: " + PROVIDER, "audience: " + other));

    Run run = doctor("--config", config.toString());

    assertThat(run.exit()).as(run.out()).isEqualTo(1);
    DoctorReport report = report(config, Clock.systemUTC());
    CheckResult sts = row(report, "sts provider");
    assertThat(sts.status()).isEqualTo(Status.FAIL);
    assertThat(sts.detail()).contains("invalid_target");
    assertThat(sts.fix()).isEqualTo("workload identity provider " + other
        + " does not exist or is disabled: create it or fix the audience");
    CheckResult sa = row(report, "service account");
    assertThat(sa.status()).isEqualTo(Status.FAIL);
    assertThat(sa.fix()).startsWith("grant the proxy's identity roles/iam.serviceAccountTokenCreator on " + SA);
    assertThat(run.out()).contains(other, SA);
  }

  @Test
  void anIssuerThatDoesNotAnswerFails() throws Exception {
    int closed;
    try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closed = probe.getLocalPort();
    }
    Path config = write(config().replace(issuer.issuer().toString(), "http://127.0.0.1:" + closed));

    DoctorReport report = report(config, Clock.systemUTC());

    assertThat(report.exitCode()).isEqualTo(1);
    CheckResult discovery = row(report, "issuer discovery");
    assertThat(discovery.status()).isEqualTo(Status.FAIL);
    assertThat(discovery.detail()).contains("unreachable");
    assertThat(discovery.fix()).contains("network");
    assertThat(row(report, "issuer keys").status()).isEqualTo(Status.SKIP);
    assertThat(row(report, "clock skew").status()).isEqualTo(Status.SKIP);
  }

  @Test
  void keysThatFitNoConfiguredAlgorithmFail() throws Exception {
    Path config = write(config().replace("algorithms: [RS256]", "algorithms: [ES256]"));

    DoctorReport report = report(config, Clock.systemUTC());

    CheckResult keys = row(report, "issuer keys");
    assertThat(keys.status()).isEqualTo(Status.FAIL);
    assertThat(keys.detail()).contains("fits algorithms [ES256]");
    assertThat(keys.fix()).contains("algorithms", "RS256");
    assertThat(report.exitCode()).isEqualTo(1);
  }

  @Test
  void jsonIsOneDocumentWithTheSameRowsAsTheTable() throws Exception {
    google.refuse(SA);
    Path config = write(config());

    Run json = doctor("--config", config.toString(), "--json");
    Run table = doctor("--config", config.toString());

    assertThat(json.exit()).isEqualTo(1).isEqualTo(table.exit());
    JsonNode doc = new ObjectMapper().readTree(json.out());
    assertThat(doc.get("ok").asBoolean()).isFalse();
    List<String> rows = new ArrayList<>();
    for (JsonNode c : doc.get("checks")) {
      assertThat(c.fieldNames()).toIterable().containsExactly("check", "target", "status", "detail", "fix");
      rows.add(c.get("check").asText() + " " + c.get("status").asText());
      assertThat(table.out()).contains(c.get("target").asText());
      if (!c.get("fix").isNull()) {
        assertThat(table.out()).contains("fix: " + c.get("fix").asText());
      }
    }
    assertThat(rows).containsExactly("config PASS", "policy PASS", "issuer discovery PASS", "issuer keys PASS",
        "clock skew PASS", "sts provider PASS", "service account FAIL", "audit dir PASS", "audit checkpoints PASS");
  }

  @Test
  void anAuditDirThatCannotBeCreatedFails() throws Exception {
    Files.writeString(dir.resolve("not-a-dir"), "a file where the audit directory's parent should be");
    Path config = write(config().replace("dir: audit", "dir: not-a-dir/audit"));

    DoctorReport report = report(config, Clock.systemUTC());

    CheckResult audit = row(report, "audit dir");
    assertThat(audit.status()).isEqualTo(Status.FAIL);
    assertThat(audit.detail()).contains("cannot be created");
    assertThat(audit.fix()).contains("mkdir -p");
    assertThat(report.exitCode()).isEqualTo(1);
  }

  @Test
  void anAuditDirHeldByARunningProxyIsAWarningNotAFailure() throws Exception {
    Path audit = Files.createDirectories(dir.resolve("audit"));
    Path config = write(config());

    DirectoryLock held = DirectoryLock.acquire(audit, "audit directory", "test");
    DoctorReport report;
    try {
      report = report(config, Clock.systemUTC());
    } finally {
      held.close();
    }

    CheckResult row = row(report, "audit dir");
    assertThat(row.status()).isEqualTo(Status.WARN);
    assertThat(row.detail()).contains("held by a running proxy (fine if that is this replica)");
    assertThat(report.exitCode()).isZero();
  }

  @Test
  void aClockOffTheIssuersWarnsThenFailsBeyondClockSkew() throws Exception {
    Path config = write(config().replace("identity:\n", "identity:\n  clock_skew: 2m\n"));

    CheckResult warned = row(report(config, Clock.offset(Clock.systemUTC(), Duration.ofSeconds(75))), "clock skew");
    CheckResult failed = row(report(config, Clock.offset(Clock.systemUTC(), Duration.ofMinutes(-5))), "clock skew");

    assertThat(warned.status()).as(warned.toString()).isEqualTo(Status.WARN);
    assertThat(failed.status()).as(failed.toString()).isEqualTo(Status.FAIL);
    assertThat(failed.detail()).contains("identity.clock_skew (120s)");
    assertThat(failed.fix()).isEqualTo("sync this host's clock (chrony/NTP)");
  }

  @Test
  void noTokenValueEverReachesTheOutput() throws Exception {
    String ciToken = issuer.mint(Map.of("aud", PROVIDER));
    Path tokenFile = Files.writeString(dir.resolve("ci.jwt"), ciToken);
    Path config = write(config());

    Run table = doctor("--config", config.toString(), "--subject-token-file", tokenFile.toString());
    Run json = doctor("--config", config.toString(), "--json", "--subject-token-file", tokenFile.toString());

    assertThat(table.exit()).as(table.out()).isZero();
    assertThat(table.out()).contains("the subject token was exchanged");
    assertThat(google.stsCalls()).as("the CI token and the proxy's own were exchanged").isGreaterThanOrEqualTo(2);
    for (Run run : List.of(table, json)) {
      assertThat(run.out() + run.err()).doesNotContain(ciToken).doesNotContain(ciToken.split("\\.")[2])
          .doesNotContain("ya29.").doesNotContain(Files.readString(dir.resolve("workload.jwt")));
    }
  }

  private static String pem(KeyStore trust) throws Exception {
    Certificate cert = trust.getCertificate(trust.aliases().nextElement());
    return "-----BEGIN CERTIFICATE-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(cert.getEncoded())
        + "\n-----END CERTIFICATE-----\n";
  }
}

package dev.vertexproxy.proxy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code serve --check} through the real command line: what is wrong with proxy.yaml's content is a load error naming
 * the file, line and key, never a silent default nor an exception when the proxy starts.
 */
class ServeCheckTest {
  private static final String CONFIG = """
      listen:
        address: 127.0.0.1:8443
      admin:
        address: 127.0.0.1:9090
      limits:
        max_body_bytes: 64MiB
        max_header_bytes: 32KiB
        idle_timeout: 120s
      upstream:
        connect_timeout: 10s
      identity:
        jwks_cache_ttl: 5m
        issuers:
          - name: gitlab
            issuer: https://gitlab.example.com
            audiences: [https://vertex-proxy.example.com]
            algorithms: [RS256]
      policy:
        file: policy.yaml
      credentials:
        mode: impersonate
        lifetime: 1h
        refresh_before: 5m
      audit:
        dir: audit
      """;
  private static final String POLICY = """
      version: 1
      rules:
        - name: ci-generates
          effect: allow
          identity: { issuer: gitlab, claims: { project_path: acme/ml } }
          methods: [publishers.models.generateContent]
          resources: { projects: [acme-ml-prod] }
          service_account: gen@acme-ml-prod.iam.gserviceaccount.com
      """;

  @TempDir
  Path dir;
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  /** Runs {@code serve --check} on {@link #CONFIG} with {@code from} replaced by {@code to}. */
  private int check(String from, String to) throws Exception {
    assertThat(CONFIG).contains(from);
    Files.writeString(dir.resolve("policy.yaml"), POLICY);
    Path config = Files.writeString(dir.resolve("proxy.yaml"), CONFIG.replace(from, to));
    out.getBuffer().setLength(0);
    err.getBuffer().setLength(0);
    return Main.run(new PrintWriter(out, true), new PrintWriter(err, true), "serve", "--check", "-c", config.toString());
  }

  /** The 1-based line of {@code needle} in {@link #CONFIG} after the replacement. */
  private static int lineOf(String from, String to, String needle) {
    String text = CONFIG.replace(from, to);
    int at = text.indexOf(needle);
    assertThat(at).as(needle).isNotNegative();
    return (int) text.substring(0, at).chars().filter(c -> c == '\n').count() + 1;
  }

  /** Asserts a refused check whose output names {@code proxy.yaml:LINE:} of {@code needle} and {@code key}. */
  private void refused(String from, String to, String needle, String key, String... more) throws Exception {
    assertThat(check(from, to)).as(err.toString()).isNotZero();
    assertThat(out.toString()).doesNotContain("valid");
    assertThat(err.toString()).contains("invalid configuration:", "proxy.yaml:" + lineOf(from, to, needle) + ":",
        key + ": ");
    for (String m : more) {
      assertThat(err.toString()).contains(m);
    }
  }

  @Test
  void theBaseConfigurationIsValid() throws Exception {
    assertThat(check("", "")).as(err.toString()).isZero();
    assertThat(out.toString()).contains("configuration and policy are valid");
  }

  @Test
  void anEmptyListenAddressIsALoadError() throws Exception {
    refused("address: 127.0.0.1:8443", "address: \"\"", "address: \"\"", "listen.address");
  }

  @Test
  void adminEnabledMustBeABoolean() throws Exception {
    refused("admin:\n", "admin:\n  enabled: nope\n", "enabled: nope", "admin.enabled", "\"nope\"", "true or false");
    assertThat(check("admin:\n", "admin:\n  enabled: false\n")).as(err.toString()).isZero();
  }

  @Test
  void anIssuerWithAnEmptyNameIsALoadError() throws Exception {
    refused("- name: gitlab", "- name: \"\"", "- name: \"\"", "identity.issuers[0].name");
  }

  @Test
  void anIssuerConfiguredTwiceIsALoadError() throws Exception {
    String second = "      algorithms: [RS256]\n    - name: again\n      issuer: https://gitlab.example.com\n"
        + "      audiences: [x]\n";
    refused("      algorithms: [RS256]\n", second, "issuer: https://gitlab.example.com\n      audiences: [x]",
        "identity.issuers[1].issuer", "configured once");
  }

  @Test
  void anEmptyAlgorithmListIsALoadError() throws Exception {
    refused("algorithms: [RS256]", "algorithms: []", "algorithms: []", "identity.issuers[0].algorithms");
  }

  @Test
  void aZeroJwksCacheTtlIsALoadError() throws Exception {
    refused("jwks_cache_ttl: 5m", "jwks_cache_ttl: 0s", "jwks_cache_ttl", "identity.jwks_cache_ttl", "\"0s\"");
  }

  @Test
  void credentialsLifetimeOutsideItsBoundsIsALoadErrorAtItsLine() throws Exception {
    refused("lifetime: 1h", "lifetime: 13h", "lifetime: 13h", "credentials.lifetime", "\"13h\"", "12h");
    refused("lifetime: 1h", "lifetime: 300500ms", "lifetime: 300500ms", "credentials.lifetime", "whole seconds");
  }

  @Test
  void refreshBeforeMustBePositiveAndShorterThanTheLifetime() throws Exception {
    refused("refresh_before: 5m", "refresh_before: 0s", "refresh_before", "credentials.refresh_before", "\"0s\"");
    refused("refresh_before: 5m", "refresh_before: 2h", "refresh_before", "credentials.refresh_before", "\"2h\"",
        "shorter than lifetime");
  }

  @Test
  void anIamEndpointWithAQueryIsALoadErrorAtItsLine() throws Exception {
    refused("mode: impersonate", "mode: impersonate\n  iam_endpoint: https://iam.example.com/?x=1", "iam_endpoint",
        "credentials.iam_endpoint");
  }

  @Test
  void anEmptyScopeListIsALoadErrorNotTheDefault() throws Exception {
    refused("mode: impersonate", "mode: impersonate\n  scopes: []", "scopes", "credentials.scopes");
  }

  @Test
  void aByteSizeTooLargeToRepresentIsALoadErrorNotACrashOrAWrap() throws Exception {
    for (String huge : new String[] {"99999999999999999999", "9999999999GiB", "9223372036854775807KiB"}) {
      refused("max_body_bytes: 64MiB", "max_body_bytes: " + huge, "max_body_bytes", "limits.max_body_bytes",
          '"' + huge + '"', "too large");
    }
  }

  @Test
  void zeroHeaderLimitsAndTimeoutsAreLoadErrors() throws Exception {
    refused("max_header_bytes: 32KiB", "max_header_bytes: 0", "max_header_bytes", "limits.max_header_bytes");
    refused("idle_timeout: 120s", "idle_timeout: 0s", "idle_timeout", "limits.idle_timeout");
    refused("connect_timeout: 10s", "connect_timeout: 0s", "connect_timeout", "upstream.connect_timeout");
  }
}

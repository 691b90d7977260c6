package dev.vertexproxy.proxy.credentials;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.vertexproxy.proxy.config.CredentialsConfig;
import dev.vertexproxy.proxy.config.CredentialsConfig.Mode;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class CredentialsConfigTest {
  @Test
  void defaultsAreImpersonationWithCloudPlatformForAnHourRefreshedFiveMinutesEarly() {
    CredentialsConfig config = CredentialsConfig.impersonate(null);

    assertThat(config.mode()).isEqualTo(Mode.IMPERSONATE);
    assertThat(config.sourceCredentialsFile()).isNull();
    assertThat(config.iamEndpoint()).isNull();
    assertThat(config.scopes()).containsExactly("https://www.googleapis.com/auth/cloud-platform");
    assertThat(config.lifetime()).isEqualTo(Duration.ofHours(1));
    assertThat(config.refreshBefore()).isEqualTo(Duration.ofMinutes(5));
  }

  @Test
  void impossibleCombinationsAreRefusedWithKeyValueAndExpectation() {
    assertThatThrownBy(() -> new CredentialsConfig(null, null, null, null, null, Duration.ofHours(13), null))
        .hasMessage("credentials.lifetime: PT13H (expected: whole seconds, 1s..12h)");
    assertThatThrownBy(() -> new CredentialsConfig(null, null, null, null, null, Duration.ofMinutes(5), null))
        .hasMessageStartingWith("credentials.refresh_before: PT5M (expected: positive and shorter than lifetime");
    assertThatThrownBy(() -> new CredentialsConfig(null, null, URI.create("iam.local/x"), null, null, null, null))
        .hasMessageStartingWith("credentials.iam_endpoint: iam.local/x");
  }

  @Test
  void explicitValuesAreKeptAndScopesCopied() {
    List<String> scopes = new ArrayList<>(List.of("https://www.googleapis.com/auth/cloud-platform.read-only"));
    CredentialsConfig config = new CredentialsConfig(Mode.STS, Path.of("wif.json"), URI.create("https://iam.local"),
        "//iam.googleapis.com/x", scopes, Duration.ofMinutes(30), Duration.ofMinutes(2));
    scopes.clear();

    assertThat(config.scopes()).containsExactly("https://www.googleapis.com/auth/cloud-platform.read-only");
    assertThat(config.withIamEndpoint(null).iamEndpoint()).isNull();
    assertThat(config.withIamEndpoint(null).lifetime()).isEqualTo(Duration.ofMinutes(30));
  }
}

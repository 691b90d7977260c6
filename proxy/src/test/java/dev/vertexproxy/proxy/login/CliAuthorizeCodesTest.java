package dev.vertexproxy.proxy.login;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vertexproxy.policy.Caller;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The loopback login's codes: bound to client, redirect URI and PKCE challenge, good once, for a minute. */
class CliAuthorizeCodesTest {
  private static final Instant T0 = Instant.parse("2026-03-01T10:00:00Z");
  private static final String VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
  private static final String CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"; // RFC 7636 appendix B
  private static final String REDIRECT = "http://127.0.0.1:53682/callback";
  private static final CliAuthorizeCodes.Issued ISSUED = new CliAuthorizeCodes.Issued("vertex-proxy-cli", REDIRECT,
      CHALLENGE, new DeviceGrants.Approval(new Caller("humans", "alice", Map.of()), T0.plus(Duration.ofHours(8)), "s1",
          T0));

  private final CliAuthorizeCodes codes = new CliAuthorizeCodes();

  @Test
  void theChallengeIsRfc7636s() {
    assertThat(CliAuthorizeCodes.challenge(VERIFIER)).isEqualTo(CHALLENGE);
    assertThat(CliAuthorizeCodes.validChallenge(CHALLENGE)).isTrue();
    assertThat(CliAuthorizeCodes.validChallenge(VERIFIER.substring(1))).isFalse();
    assertThat(CliAuthorizeCodes.validChallenge(CHALLENGE.substring(1) + "=")).isFalse();
    assertThat(CliAuthorizeCodes.validVerifier(VERIFIER)).isTrue();
    assertThat(CliAuthorizeCodes.validVerifier("short")).isFalse();
    assertThat(CliAuthorizeCodes.validVerifier(VERIFIER + "!")).isFalse();
  }

  @Test
  void theRightVerifierAndRedirectRedeemOnceAndTheSecondTimeIsAReplayNamingTheFirstSession() {
    String code = codes.issue(ISSUED, T0).orElseThrow();
    assertThat(codes.redeem(code, "vertex-proxy-cli", REDIRECT, VERIFIER, T0.plusSeconds(1)))
        .isEqualTo(new CliAuthorizeCodes.Redeemed(ISSUED));
    codes.yielded(code, "minted-1", T0.plus(Duration.ofHours(8)));
    assertThat(codes.redeem(code, "vertex-proxy-cli", REDIRECT, VERIFIER, T0.plusSeconds(2)))
        .isEqualTo(new CliAuthorizeCodes.Replayed("minted-1", T0.plus(Duration.ofHours(8))));
  }

  @Test
  void aWrongVerifierRedirectOrClientIsRefusedAndUsesTheCodeUp() {
    for (String[] wrong : new String[][] {{"vertex-proxy-cli", REDIRECT, VERIFIER.replace('d', 'e')},
        {"vertex-proxy-cli", "http://127.0.0.1:53683/callback", VERIFIER}, {"other", REDIRECT, VERIFIER},
        {"vertex-proxy-cli", REDIRECT, null}, {"vertex-proxy-cli", REDIRECT, CHALLENGE}}) {
      String code = codes.issue(ISSUED, T0).orElseThrow();
      assertThat(codes.redeem(code, wrong[0], wrong[1], wrong[2], T0.plusSeconds(1)))
          .as(String.join(" ", String.valueOf(wrong[0]), String.valueOf(wrong[1]), String.valueOf(wrong[2])))
          .isInstanceOf(CliAuthorizeCodes.Refused.class);
      assertThat(codes.redeem(code, "vertex-proxy-cli", REDIRECT, VERIFIER, T0.plusSeconds(2)))
          .as("no second try with the right values").isInstanceOf(CliAuthorizeCodes.Replayed.class);
    }
  }

  @Test
  void aCodeLivesAMinute() {
    String code = codes.issue(ISSUED, T0).orElseThrow();
    assertThat(codes.redeem(code, "vertex-proxy-cli", REDIRECT, VERIFIER, T0.plus(CliAuthorizeCodes.LIFETIME)))
        .isInstanceOf(CliAuthorizeCodes.Refused.class);
    assertThat(codes.redeem("never-issued", "vertex-proxy-cli", REDIRECT, VERIFIER, T0))
        .isInstanceOf(CliAuthorizeCodes.Refused.class);
  }

  @Test
  void sharedCodesAreIssuedOnOneReplicaAndRedeemedOnceOnAnother(@TempDir Path dir) throws Exception {
    CliAuthorizeCodes a = new CliAuthorizeCodes(dir);
    CliAuthorizeCodes b = new CliAuthorizeCodes(dir);
    String code = a.issue(ISSUED, T0).orElseThrow();
    assertThat(b.redeem(code, "vertex-proxy-cli", REDIRECT, VERIFIER, T0.plusSeconds(1)))
        .isEqualTo(new CliAuthorizeCodes.Redeemed(ISSUED));
    b.yielded(code, "minted-1", T0.plus(Duration.ofHours(8)));
    assertThat(a.redeem(code, "vertex-proxy-cli", REDIRECT, VERIFIER, T0.plusSeconds(2)))
        .isEqualTo(new CliAuthorizeCodes.Replayed("minted-1", T0.plus(Duration.ofHours(8))));
    String text = Files.readString(dir.resolve(CliAuthorizeCodes.FILE));
    assertThat(text).doesNotContain(code).doesNotContain(VERIFIER);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve(CliAuthorizeCodes.FILE))))
        .isEqualTo("rw-------");
  }

  @Test
  void liveCodesAreBounded() {
    for (int i = 0; i < CliAuthorizeCodes.MAX_CODES; i++) {
      assertThat(codes.issue(ISSUED, T0)).isPresent();
    }
    assertThat(codes.issue(ISSUED, T0)).isEmpty();
    assertThat(codes.issue(ISSUED, T0.plus(CliAuthorizeCodes.LIFETIME))).isPresent();
  }
}
